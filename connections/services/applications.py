"""Developers' applications (registered and changed at /developers/) and the bank's policy for them
(suspension by staff)."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret

from bank.core.audit import audit_record
from bank.core.errors import ErrorCode, ValidationFailed
from bank.selectors import display_name
from bank.vocabulary import ActorType, AuditAction
from connections.models import Application, Connection, RevokedBy

from .connections import connection_revoke


@transaction.atomic
def application_suspend(*, application: Application, actor: User, reason: str = "") -> int:
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
        action=AuditAction.APPLICATION_SUSPENDED,
        actor=actor,
        application=application,
        actor_type=ActorType.STAFF,
        data={"reason": reason, "connections_revoked": ended},
    )
    return ended


@transaction.atomic
def application_unsuspend(*, application: Application, actor: User) -> None:
    Application.objects.filter(pk=application.pk).update(suspended_at=None, suspended_reason="")
    audit_record(
        action=AuditAction.APPLICATION_UNSUSPENDED, actor=actor, application=application, actor_type=ActorType.STAFF
    )


# --- Developers' own applications --------------------------------------------------------------

DEVELOPER_FIELDS = ("name", "website", "redirect_uris", "client_type", "logo_url")


def _saved(application: Application) -> None:
    try:
        application.full_clean(exclude=["client_secret", "user"])
    except ValidationError as exc:
        raise ValidationFailed(
            " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()),
            code=ErrorCode.INVALID_APPLICATION,
        ) from exc
    application.save()


@transaction.atomic
def application_register(
    *, developer: User, name: str, website: str, redirect_uris: str, client_type: str, logo_url: str = ""
) -> tuple[Application, str]:
    """A customer registers an app. It may ask only for the read-only scopes until staff allow more.
    Returns the raw client secret, which is stored hashed and shown this once."""
    secret = generate_client_secret()
    application = Application(
        user=developer,
        client_secret=secret,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        developer_name=display_name(developer),
        name=name,
        website=website,
        redirect_uris=redirect_uris,
        client_type=client_type,
        logo_url=logo_url,
    )
    _saved(application)
    audit_record(
        action=AuditAction.APPLICATION_REGISTERED,
        actor=developer,
        customer=developer,
        application=application,
        actor_type=ActorType.CUSTOMER,
        data={"client_type": application.client_type},
    )
    return application, secret


@transaction.atomic
def application_update(
    *,
    application: Application,
    developer: User,
    name: str,
    website: str,
    redirect_uris: str,
    client_type: str,
    logo_url: str = "",
) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    wanted = {
        "name": name,
        "website": website,
        "redirect_uris": redirect_uris,
        "client_type": client_type,
        "logo_url": logo_url,
    }
    changed = sorted(field for field, value in wanted.items() if getattr(application, field) != value)
    for field, value in wanted.items():
        setattr(application, field, value)
    _saved(application)
    audit_record(
        action=AuditAction.APPLICATION_UPDATED,
        actor=developer,
        customer=developer,
        application=application,
        actor_type=ActorType.CUSTOMER,
        data={"changed": changed},
    )
    return application


@transaction.atomic
def application_rotate_secret(*, application: Application, developer: User) -> str:
    """A new client secret; the old one stops working at once. Returns the raw secret, shown once."""
    application = Application.objects.select_for_update().get(pk=application.pk, user=developer)
    secret = generate_client_secret()
    application.client_secret = secret
    application.save(update_fields=["client_secret", "updated"])
    audit_record(
        action=AuditAction.APPLICATION_SECRET_ROTATED,
        actor=developer,
        customer=developer,
        application=application,
        actor_type=ActorType.CUSTOMER,
    )
    return secret
