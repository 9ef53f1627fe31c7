"""Reads for the customer's connection pages: their connections, one row per app, and what each app did."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from bank.models import AuditEvent, MonetaryAccount

from .models import Application, Connection

ACTIVITY_LIMIT = 25

# Plain-language sentences for what an app did, by audit action (the app is the subject).
ACTIVITY = {
    "api.read": "Read {resource}",
    "account.opened": "Opened an account",
    "payment.created": "Moved {amount} between your accounts",
    "draft_payment.created": "Prepared a draft payment of {total} for you to approve",
    "draft_payment.cancelled": "Cancelled a draft payment it had prepared",
    "card.ordered": "Ordered a card",
    "card.updated": "Changed a card",
    "request_inquiry.created": "Sent a payment request for {amount}",
    "request_inquiry.revoked": "Withdrew a payment request",
    "oauth.token_issued": "Was given access",
    "oauth.token_refreshed": "Renewed its access",
    "connection.granted": "You connected it",
    "connection.accounts_changed": "You changed the accounts it may see",
    "connection.revoked": "The connection ended",
}
RESOURCES = {
    "monetary-account": "your accounts",
    "payment": "your payments",
    "draft-payment": "its draft payments",
    "card": "your cards",
    "request-inquiry": "the payment requests you sent",
    "request-response": "the payment requests you received",
    "me": "who you are",
}


def _with_accounts(queryset: QuerySet[Connection]) -> QuerySet[Connection]:
    return queryset.select_related("application").prefetch_related(
        Prefetch("accounts", queryset=MonetaryAccount.objects.order_by("id"))
    )


def active_connections_of(user: Any) -> QuerySet[Connection]:
    """One row per connected app (a connection is per customer and app; tokens do not show)."""
    return _with_accounts(Connection.objects.active().filter(user=user)).order_by("application__name")


def ended_connections_of(user: Any) -> QuerySet[Connection]:
    return (
        Connection.objects.filter(user=user)
        .filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=timezone.now()))
        .select_related("application", "revoked_by_user")
        .order_by("-revoked_at", "-expires_at")
    )


def connection_of(user: Any, pk: int) -> Connection:
    """The customer's own connection, or 404: another customer's does not exist for them."""
    return get_object_or_404(_with_accounts(Connection.objects.filter(user=user)), pk=pk)


@dataclass(frozen=True)
class Activity:
    when: datetime
    text: str


def _money(value: Any) -> str:
    return f"€{value}" if value not in (None, "") else "money"


def connection_activity(connection: Connection, limit: int = ACTIVITY_LIMIT) -> list[Activity]:
    events = AuditEvent.objects.filter(connection=connection).order_by("-id")[:limit]
    items = []
    for event in events:
        template = ACTIVITY.get(event.action)
        if template is None:
            continue
        text = template.format(
            resource=RESOURCES.get(str(event.data.get("resource")), "your data"),
            amount=_money(event.data.get("amount")),
            total=_money(event.data.get("total")),
        )
        items.append(Activity(when=event.created, text=text))
    return items


def applications_of_developer(user: Any) -> QuerySet[Application]:
    return Application.objects.filter(user=user).order_by("name")


def application_of_developer(user: Any, pk: int) -> Application:
    return get_object_or_404(Application.objects.filter(user=user), pk=pk)
