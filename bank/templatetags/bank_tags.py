"""Template helpers: money, and the breadcrumb of the customer's profile pages."""

from decimal import Decimal

from django import template
from django.urls import reverse

from bank.money import format_amount

register = template.Library()

# The pages a breadcrumb can name, by URL name.
CRUMBS = {
    "home": "Home",
    "profile": "Profile",
    "settings": "Settings",
    "security": "Security",
    "connections": "My app connections",
    "developers": "Developers",
}


@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    if value is None:
        return ""
    symbol = {"EUR": "€"}.get(currency, currency + " ")
    formatted = format_amount(abs(value))
    minus = "\u2212"  # a real minus sign, not a hyphen
    return f"{minus if value < 0 else ''}{symbol}{formatted}"


@register.inclusion_tag("includes/breadcrumb.html")
def breadcrumb(*names: str, current: str) -> dict[str, list[tuple[str, str]] | str]:
    """`{% breadcrumb "home" "profile" current="Settings" %}`: links to the named pages, then the
    current page's name."""
    return {"links": [(reverse(name), CRUMBS[name]) for name in names], "current": current}
