"""Reads of connections: what a connected app may see of its customer (the API's querysets), the
customer's own connection pages, and the developers' applications.

What an app sees starts from its connection: the accounts shared with it that are still the
customer's own, and only what lies under those. Anything else does not exist for the app.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from bank.core.audit import AuditValue
from bank.models import (
    AuditEvent,
    Card,
    CoOwner,
    DraftPayment,
    DraftPaymentEntry,
    DraftStatus,
    MonetaryAccount,
    Payment,
    RequestInquiry,
    RequestResponse,
)
from bank.selectors import accounts_of, drafts_with_status, is_sandbox_customer
from bank.vocabulary import AuditAction

from . import scopes as scope_table
from .models import Application, Connection, ConnectionQuerySet, Delivery, NotificationFilter, ScopeRequest

# --- What a connected app may see -------------------------------------------------------------


def shared_accounts(*, connection: Connection) -> QuerySet[MonetaryAccount]:
    """The accounts an app sees: shared with its connection and still the customer's own."""
    return accounts_of(customer=connection.user).filter(connections=connection)


def shared_account_ids(*, connection: Connection) -> frozenset[int]:
    """The ids of `shared_accounts`: loaded with the API's token in the same query
    (`connections.oauth.access`), or read now."""
    if connection.shared_ids is None:
        connection.shared_ids = frozenset(shared_accounts(connection=connection).values_list("pk", flat=True))
    return connection.shared_ids


def shared_account(*, connection: Connection, account_id: int) -> MonetaryAccount | None:
    if account_id not in shared_account_ids(connection=connection):
        return None
    return MonetaryAccount.objects.select_related("owner").filter(pk=account_id).first()  # the owner's name, to pay


def is_account_shared(*, connection: Connection, account_id: int) -> bool:
    return account_id in shared_account_ids(connection=connection)


def accounts_visible(*, connection: Connection) -> QuerySet[MonetaryAccount]:
    return MonetaryAccount.objects.filter(pk__in=sorted(shared_account_ids(connection=connection))).prefetch_related(
        Prefetch("co_owners", queryset=CoOwner.objects.select_related("user"))
    )


def _under_shared_account[M: (Payment, DraftPayment, RequestInquiry, RequestResponse)](
    rows: QuerySet[M], *, connection: Connection, account_id: int
) -> QuerySet[M]:
    if account_id not in shared_account_ids(connection=connection):
        return rows.none()
    return rows.filter(monetary_account_id=account_id)


def payments_visible(*, connection: Connection, account_id: int) -> QuerySet[Payment]:
    return _under_shared_account(Payment.objects.all(), connection=connection, account_id=account_id)


def drafts_visible(*, connection: Connection, account_id: int) -> QuerySet[DraftPayment]:
    """ "See the draft payments that it prepared": only this application's drafts."""
    own = DraftPayment.objects.filter(application_id=connection.application_id)
    return drafts_with_status(
        _under_shared_account(own, connection=connection, account_id=account_id)
    ).prefetch_related(Prefetch("entries", queryset=DraftPaymentEntry.objects.order_by("id")))


def request_inquiries_visible(*, connection: Connection, account_id: int) -> QuerySet[RequestInquiry]:
    return _under_shared_account(RequestInquiry.objects.all(), connection=connection, account_id=account_id)


def request_responses_visible(*, connection: Connection, account_id: int) -> QuerySet[RequestResponse]:
    rows = RequestResponse.objects.select_related("inquiry__monetary_account", "inquiry__created_by")
    return _under_shared_account(rows, connection=connection, account_id=account_id)


def cards_visible(*, connection: Connection) -> QuerySet[Card]:
    """The customer's cards whose primary account is shared with the app."""
    return Card.objects.filter(
        owner_id=connection.user_id, primary_account__in=sorted(shared_account_ids(connection=connection))
    )


def notification_filters_of(*, connection: Connection) -> QuerySet[NotificationFilter]:
    """An app's callbacks for this connection (the ones the bank disabled are gone for the app)."""
    return NotificationFilter.objects.filter(connection=connection, disabled_at__isnull=True)


# --- The customer's connection pages ---------------------------------------------------------


def connections_of(*, customer: User) -> QuerySet[Connection]:
    """All of the customer's connections, live or ended, with the app and the shared accounts."""
    return (
        Connection.objects.filter(user=customer)
        .select_related("application")
        .prefetch_related(Prefetch("accounts", queryset=MonetaryAccount.objects.order_by("id")))
    )


def active_connections_of(*, customer: User) -> QuerySet[Connection]:
    """One row per connected app (a connection is per customer and app; tokens do not show)."""
    return (
        connections_of(customer=customer)
        .filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("application__name")
    )


def ended_connections_of(*, customer: User) -> QuerySet[Connection]:
    return (
        Connection.objects.filter(user=customer)
        .filter(Q(revoked_at__isnull=False) | Q(expires_at__lte=timezone.now()))
        .select_related("application", "revoked_by_user")
        .order_by("-revoked_at", "-expires_at")
    )


def pending_drafts_of(*, connection: Connection) -> QuerySet[DraftPayment]:
    """The drafts that revoking the connection would cancel."""
    return DraftPayment.objects.filter(connection=connection, status=DraftStatus.PENDING)


def revocation_of(*, connection: Connection) -> AuditEvent | None:
    """The audit event that ended the connection: what it stopped, and who ended it."""
    return (
        AuditEvent.objects.filter(connection=connection, action=AuditAction.CONNECTION_REVOKED).order_by("-id").first()
    )


ACTIVITY_LIMIT = 25

# Plain-language sentences for what an app did, by audit action (the app is the subject).
ACTIVITY: dict[str, str] = {
    AuditAction.API_READ: "Read {resource}",
    AuditAction.ACCOUNT_OPENED: "Opened an account",
    AuditAction.PAYMENT_CREATED: "Moved {amount} between your accounts",
    AuditAction.DRAFT_CREATED: "Prepared a draft payment of {total} for you to approve",
    AuditAction.DRAFT_CANCELLED: "Cancelled a draft payment it had prepared",
    AuditAction.CARD_ORDERED: "Ordered a card",
    AuditAction.CARD_UPDATED: "Changed a card",
    AuditAction.REQUEST_INQUIRY_CREATED: "Sent a payment request for {amount}",
    AuditAction.REQUEST_INQUIRY_REVOKED: "Withdrew a payment request",
    AuditAction.TOKEN_ISSUED: "Was given access",
    AuditAction.TOKEN_REFRESHED: "Renewed its access",
    AuditAction.CONNECTION_GRANTED: "You connected it",
    AuditAction.CONNECTION_ACCOUNTS_CHANGED: "You changed the accounts it may see",
    AuditAction.CONNECTION_REVOKED: "The connection ended",
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


@dataclass(frozen=True)
class Activity:
    when: datetime
    text: str


def _money(value: AuditValue) -> str:
    return f"€{value}" if value not in (None, "") else "money"


def connection_activity(*, connection: Connection, limit: int = ACTIVITY_LIMIT) -> list[Activity]:
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


# --- Developers' own applications -------------------------------------------------------------


def applications_of(*, developer: User) -> QuerySet[Application]:
    return Application.objects.filter(user=developer, deleted_at__isnull=True).order_by("name")


def live_connections_of(*, application: Application) -> ConnectionQuerySet:
    return Connection.objects.filter(application=application).active()


def deliveries_of(*, application: Application, limit: int = 100) -> QuerySet[Delivery]:
    """An app's most recent callbacks, newest first, with their events."""
    return Delivery.objects.filter(application=application).select_related("event").order_by("-created")[:limit]


def scope_requests_of(*, application: Application, limit: int = 20) -> QuerySet[ScopeRequest]:
    """An app's requests for more permissions and what staff decided, newest first."""
    return ScopeRequest.objects.filter(application=application).order_by("-requested_at")[:limit]


def scopes_allowed(*, application: Application, customer_id: int) -> frozenset[str]:
    """What an app may be granted by this customer: what staff allowed the app, or, in the sandbox,
    every scope for a test customer."""
    allowed = frozenset(application.allowed_scopes.split())
    if settings.BANK_SANDBOX and is_sandbox_customer(customer_id=customer_id):
        return allowed | frozenset(scope_table.ALL)
    return allowed
