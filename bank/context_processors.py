"""What waits for the customer, shown in every page's header."""

from typing import Any

from django.http import HttpRequest


def waiting_items(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from bank.selectors import waiting_for

    return {"waiting": waiting_for(user)}
