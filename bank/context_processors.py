"""What waits for the customer, shown in every page's header."""

from django.http import HttpRequest

from .selectors import Waiting, waiting_for


def waiting_items(request: HttpRequest) -> dict[str, Waiting]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"waiting": waiting_for(customer=user)}
