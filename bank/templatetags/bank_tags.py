"""Template filters for money."""

from decimal import Decimal

from django import template

from bank.money import format_amount

register = template.Library()


@register.filter
def money(value: Decimal | None, currency: str = "EUR") -> str:
    if value is None:
        return ""
    symbol = {"EUR": "€"}.get(currency, currency + " ")
    formatted = format_amount(abs(value))
    minus = "\u2212"  # a real minus sign, not a hyphen
    return f"{minus if value < 0 else ''}{symbol}{formatted}"
