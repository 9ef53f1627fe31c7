"""The life of a connection: granted at consent, its accounts changed by the customer, revoked by the
customer, by staff, by a newer consent, by a replayed code or by the app's suspension.

`connection_revoke` is the single way a connection ends: every access token, refresh token and
authorization code of it goes in one transaction, with the app's pending drafts, and an audit event.
"""

import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret

from bank.errors import ValidationFailed
from bank.models import DraftPayment, DraftStatus, MonetaryAccount
from bank.selectors import accounts_of, display_name
from bank.services.audit import audit_record

from . import scopes as scope_table
from .models import AccessToken, Application, Connection, Grant, RefreshToken, RevokedBy


def _checked_accounts(user: Any, accounts: Iterable[MonetaryAccount | int]) -> list[MonetaryAccount]:
    ids = {account if isinstance(account, int) else account.pk for account in accounts}
    own = list(accounts_of(user).filter(pk__in=ids))
    if not ids or len(own) != len(ids):
        raise ValidationFailed("Choose at least one of your own accounts.", code="invalid_accounts", field="accounts")
    return own


@transaction.atomic
def connection_grant(
    *, user: Any, application: Application, scopes: Iterable[str], accounts: Iterable[MonetaryAccount | int]
) -> Connection:
    """The customer consented: a new connection replaces any earlier one to the same app."""
    granted = scope_table.ordered(scopes)
    if not granted:
        raise ValidationFailed("Choose at least one permission.", code="invalid_scope", field="scope")
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
    audit_record(
        action="connection.granted",
        actor=user,
        customer=user,
        connection=connection,
        actor_type="customer",
        data={"scopes": granted, "accounts": sorted(a.pk for a in shared)},
    )
    return connection


@transaction.atomic
def connection_set_accounts(
    *, connection: Connection, user: Any, accounts: Iterable[MonetaryAccount | int]
) -> Connection:
    """The customer changes which accounts the app sees; the next API call obeys it."""
    connection = Connection.objects.select_for_update().get(pk=connection.pk, user=user)
    if not connection.is_active:
        raise ValidationFailed("This connection has ended.", code="connection_ended")
    shared = _checked_accounts(user, accounts)
    before = sorted(connection.accounts.values_list("pk", flat=True))
    connection.accounts.set(shared)
    audit_record(
        action="connection.accounts_changed",
        actor=user,
        customer=user,
        connection=connection,
        actor_type="customer",
        data={"before": before, "after": sorted(a.pk for a in shared)},
    )
    return connection


@transaction.atomic
def connection_revoke(*, connection: Connection, by: str, actor: Any = None) -> Connection:
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
    drafts = DraftPayment.objects.filter(connection=connection, status=DraftStatus.PENDING).update(
        status=DraftStatus.CANCELLED, reason="The app's access was revoked.", updated=now
    )
    audit_record(
        action="connection.revoked",
        actor=actor,
        customer=connection.user,
        connection=connection,
        actor_type={RevokedBy.CUSTOMER: "customer", RevokedBy.STAFF: "staff"}.get(by, "system"),  # type: ignore[call-overload]
        data={"by": by, "access_tokens": access_tokens, "refresh_tokens": refresh_tokens, "drafts_cancelled": drafts},
    )
    return connection


def connection_touch(connection: Connection) -> None:
    """Record "last used" at most once per LAST_USED_RESOLUTION, so reads do not each cost a write."""
    now = timezone.now()
    if connection.last_used_at is None or now - connection.last_used_at >= Connection.LAST_USED_RESOLUTION:
        Connection.objects.filter(pk=connection.pk).update(last_used_at=now)
        connection.last_used_at = now


@transaction.atomic
def application_suspend(*, application: Application, actor: Any, reason: str = "") -> int:
    """Staff suspend an app: it cannot start new authorizations and every connection to it ends now."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    application.suspended_at = timezone.now()
    application.suspended_reason = reason
    application.save(update_fields=["suspended_at", "suspended_reason"])
    ended = 0
    for connection in Connection.objects.filter(application=application, revoked_at__isnull=True):
        connection_revoke(connection=connection, by=RevokedBy.APP_SUSPENDED, actor=actor)
        ended += 1
    audit_record(
        action="application.suspended",
        actor=actor,
        application=application,
        actor_type="staff",
        data={"reason": reason, "connections_revoked": ended},
    )
    return ended


@transaction.atomic
def application_unsuspend(*, application: Application, actor: Any) -> None:
    Application.objects.filter(pk=application.pk).update(suspended_at=None, suspended_reason="")
    audit_record(action="application.unsuspended", actor=actor, application=application, actor_type="staff")


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
            action="api.read",
            actor=connection.user,
            customer=connection.user,
            connection=connection,
            data={"resource": resource, "account_id": account_id},
        )


# --- Developers' own applications --------------------------------------------------------------

DEVELOPER_FIELDS = ("name", "website", "redirect_uris", "client_type", "logo_url")


def _saved(application: Application) -> None:
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()),
            code="invalid_application",
        ) from exc
    application.save()


@transaction.atomic
def application_register(*, developer: Any, **fields: Any) -> tuple[Application, str]:
    """A customer registers an app. It may ask only for the read-only scopes until staff allow more.
    Returns the raw client secret, which is stored hashed and shown this once."""
    secret = generate_client_secret()
    application = Application(
        user=developer,
        client_secret=secret,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        developer_name=display_name(developer),
        **{name: fields[name] for name in DEVELOPER_FIELDS},
    )
    _saved(application)
    audit_record(
        action="application.registered",
        actor=developer,
        customer=developer,
        application=application,
        actor_type="customer",
        data={"client_type": application.client_type},
    )
    return application, secret


@transaction.atomic
def application_update(*, application: Application, developer: Any, **fields: Any) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    changed = sorted(name for name in DEVELOPER_FIELDS if getattr(application, name) != fields[name])
    for name in DEVELOPER_FIELDS:
        setattr(application, name, fields[name])
    _saved(application)
    audit_record(
        action="application.updated",
        actor=developer,
        customer=developer,
        application=application,
        actor_type="customer",
        data={"changed": changed},
    )
    return application


@transaction.atomic
def application_rotate_secret(*, application: Application, developer: Any) -> str:
    """A new client secret; the old one stops working at once. Returns the raw secret, shown once."""
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    secret = generate_client_secret()
    application.client_secret = secret
    application.save(update_fields=["client_secret", "updated"])
    audit_record(
        action="application.secret_rotated",
        actor=developer,
        customer=developer,
        application=application,
        actor_type="customer",
    )
    return secret
