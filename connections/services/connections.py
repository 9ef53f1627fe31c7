"""The life of a connection: granted at consent, its accounts changed by the customer, revoked by the
customer, by staff, by a newer consent, by a replayed code or by the app's suspension.

`connection_revoke` is the single way a connection ends: every access token, refresh token and
authorization code of it goes in one transaction, with the app's pending drafts, and an audit event.
"""

import time
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from bank.core.audit import Actor, acting, audit_record, by_customer
from bank.core.errors import ErrorCode, ValidationFailed
from bank.core.events import Audience, event_record
from bank.models import MonetaryAccount
from bank.selectors import accounts_of
from bank.services.accounts import account_open
from bank.services.drafts import draft_payments_cancel_for_connection
from bank.vocabulary import ActorType, AuditAction, EventType
from connections import scopes as scope_table
from connections.models import AccessToken, Application, Connection, Grant, RefreshToken, RevokedBy

from .alerts import ALERT_EXPIRING, ALERT_MONEY_APP_CONNECTED, ALERT_STAFF_REVOKED, alert_customer

# Who the audit log names as having ended a connection, by the reason it ended.
REVOKER: dict[str, ActorType] = {RevokedBy.CUSTOMER: ActorType.CUSTOMER, RevokedBy.STAFF: ActorType.STAFF}


def _checked_accounts(customer: User, accounts: Iterable[MonetaryAccount | int]) -> list[MonetaryAccount]:
    ids = {account if isinstance(account, int) else account.pk for account in accounts}
    own = list(accounts_of(customer=customer).filter(pk__in=ids))
    if not ids or len(own) != len(ids):
        raise ValidationFailed(
            "Choose at least one of your own accounts.", code=ErrorCode.INVALID_ACCOUNTS, field="accounts"
        )
    return own


@transaction.atomic
def connection_grant(
    *, user: User, application: Application, scopes: Iterable[str], accounts: Iterable[MonetaryAccount | int]
) -> Connection:
    """The customer consented: a new connection replaces any earlier one to the same app."""
    granted = scope_table.ordered(scopes)
    if not granted:
        raise ValidationFailed("Choose at least one permission.", code=ErrorCode.INVALID_SCOPE, field="scope")
    shared = _checked_accounts(user, accounts)
    for earlier in Connection.objects.select_for_update().filter(
        user=user, application=application, revoked_at__isnull=True
    ):
        connection_revoke(connection=earlier, by=RevokedBy.REPLACED, actor=user)
    now = timezone.now()
    connection = Connection.objects.create(
        user=user,
        application=application,
        scope=" ".join(granted),
        created=now,
        expires_at=now + settings.CONNECTION_LIFETIME,
    )
    connection.accounts.set(shared)
    if set(granted) & scope_table.MONEY_MOVING:
        alert_customer(user, ALERT_MONEY_APP_CONNECTED, connection=connection)
    audit_record(
        AuditAction.CONNECTION_GRANTED,
        by_customer(user, connection=connection),
        data={"scopes": granted, "accounts": sorted(a.pk for a in shared)},
    )
    return connection


@transaction.atomic
def connection_set_accounts(
    *, connection: Connection, user: User, accounts: Iterable[MonetaryAccount | int]
) -> Connection:
    """The customer changes which accounts the app sees; the next API call obeys it."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk, user=user)
    if not connection.is_active:
        raise ValidationFailed("This connection has ended.", code=ErrorCode.CONNECTION_ENDED)
    shared = _checked_accounts(user, accounts)
    before = sorted(connection.accounts.values_list("pk", flat=True))
    connection.accounts.set(shared)
    _connection_event(EventType.CONNECTION_ACCOUNTS_CHANGED, connection)
    audit_record(
        AuditAction.CONNECTION_ACCOUNTS_CHANGED,
        by_customer(user, connection=connection),
        data={"before": before, "after": sorted(a.pk for a in shared)},
    )
    return connection


@transaction.atomic
def connection_account_open(
    *,
    connection: Connection,
    type: str,
    description: str,
    savings_goal: Decimal | None = None,
    co_owner_email: str | None = None,
) -> MonetaryAccount:
    """An app opens an account for its customer (accounts:create); the app may see the new account
    (the customer can unshare it)."""
    account = account_open(
        owner=connection.user,
        type=type,
        description=description,
        savings_goal=savings_goal,
        co_owner_email=co_owner_email,
        actor=connection.user,
        connection=connection,
    )
    connection.accounts.add(account)
    connection.shared_ids = None  # this request's app sees the new account too
    _connection_event(EventType.CONNECTION_ACCOUNTS_CHANGED, connection)
    return account


@transaction.atomic
def connection_revoke(
    *, connection: Connection, by: RevokedBy, actor: User | None = None, reason: str = ""
) -> Connection:
    """End a connection now: tokens, refresh tokens and codes revoked, pending drafts cancelled."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if connection.revoked_at is not None:
        return connection
    now = timezone.now()
    connection.revoked_at = now
    connection.revoked_by = by
    connection.revoked_by_user = actor
    connection.save(update_fields=["revoked_at", "revoked_by", "revoked_by_user"])

    # Set-based, in one transaction: refresh tokens are marked revoked (so a replay is still
    # recognised), access tokens and codes deleted, as the toolkit's own revoke() does.
    refresh_tokens = RefreshToken.objects.filter(connection=connection, revoked__isnull=True).update(revoked=now)
    access_tokens, _ = AccessToken.objects.filter(connection=connection).delete()
    Grant.objects.filter(connection=connection).delete()
    drafts = draft_payments_cancel_for_connection(connection=connection, reason="The app's access was revoked.")
    expired = by == RevokedBy.EXPIRED
    _connection_event(EventType.CONNECTION_EXPIRED if expired else EventType.CONNECTION_REVOKED, connection)
    if by == RevokedBy.STAFF:
        alert_customer(connection.user, ALERT_STAFF_REVOKED, connection=connection, reason=reason)
    audit_record(
        AuditAction.CONNECTION_EXPIRED if expired else AuditAction.CONNECTION_REVOKED,
        Actor(REVOKER.get(by, ActorType.SYSTEM), actor, connection.user, connection),
        data={
            "by": by,
            "access_tokens": access_tokens,
            "refresh_tokens": refresh_tokens,
            "drafts_cancelled": drafts,
            **({"reason": reason} if reason else {}),
        },
    )
    return connection


def _connection_event(type: EventType, connection: Connection) -> None:
    event_record(type, connection, Audience(customer_id=connection.user_id, connection_id=connection.pk))


def connections_expire_due() -> int:
    """End every connection whose lifetime is over (a periodic job): tokens go, pending drafts are
    cancelled, and the app hears `connection.expired`. Returns how many."""
    due = Connection.objects.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
    ids = list(due.values_list("pk", flat=True)[:1000])
    for pk in ids:
        connection_revoke(connection=Connection(pk=pk), by=RevokedBy.EXPIRED)
    return len(ids)


def connections_remind_expiry() -> int:
    """Tell each customer, once, that a connection ends within EXPIRY_REMINDER (a periodic job)."""
    soon = timezone.now() + settings.CONNECTION_EXPIRY_REMINDER
    count = 0
    for connection in Connection.objects.select_related("user", "application").filter(
        revoked_at__isnull=True, expiry_reminded_at__isnull=True, expires_at__lte=soon, expires_at__gt=timezone.now()
    )[:1000]:
        with transaction.atomic():
            claimed = Connection.objects.filter(pk=connection.pk, expiry_reminded_at__isnull=True).update(
                expiry_reminded_at=timezone.now()
            )
            if claimed:
                alert_customer(connection.user, ALERT_EXPIRING, connection=connection)
                count += 1
    return count


def connection_touch(connection: Connection) -> None:
    """Record "last used" at most once per LAST_USED_RESOLUTION, so reads do not each cost a write."""
    now = timezone.now()
    if connection.last_used_at is None or now - connection.last_used_at >= Connection.LAST_USED_RESOLUTION:
        Connection.objects.filter(pk=connection.pk).update(last_used_at=now)
        connection.last_used_at = now


# Reading through the API is recorded for the customer's activity view at most once per minute per
# connection, resource and account: enough to say "read your payments at 14:05", without a write per
# request (the cache decides; Redis makes that hold across processes).
READ_RECORD_INTERVAL = 60


_recent_reads: dict[str, float] = {}  # this process's memory of what it recorded, to spare the cache


def connection_record_read(*, connection: Connection, resource: str, account_id: int | None = None) -> None:
    key = f"connection-read:{connection.pk}:{resource}:{account_id or ''}"
    now = time.monotonic()
    if now - _recent_reads.get(key, -READ_RECORD_INTERVAL) < READ_RECORD_INTERVAL:
        return  # this process recorded it within the minute: no need to ask the shared cache
    if len(_recent_reads) > 10_000:
        _recent_reads.clear()
    _recent_reads[key] = now
    if cache.add(key, True, timeout=READ_RECORD_INTERVAL):
        audit_record(
            AuditAction.API_READ,
            acting(connection.user, customer=connection.user, connection=connection),
            data={"resource": resource, "account_id": account_id},
        )
