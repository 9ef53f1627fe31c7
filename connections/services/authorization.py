"""Pushed authorization requests (RFC 9126): stored when an app pushes them, taken at most once, by
that app only, within their minute. The request_uri is random and only its SHA-256 is stored."""

import hashlib
import secrets
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from bank.core.audit import AuditData, audit_record, by_app
from bank.core.errors import ErrorCode, ValidationFailed
from bank.vocabulary import AuditAction
from connections.models import Application, Connection, PushedRequest

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
LIFETIME = timedelta(seconds=60)


def _reference(request_uri: str) -> str:
    return hashlib.sha256(request_uri.encode("utf-8")).hexdigest()


def pushed_request_create(*, application: Application, parameters: dict[str, str]) -> str:
    """Store a validated authorization request; returns its request_uri (shown to the app once)."""
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    PushedRequest.objects.create(
        application=application,
        reference=_reference(request_uri),
        parameters=parameters,
        expires_at=timezone.now() + LIFETIME,
    )
    return request_uri


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, code=ErrorCode.INVALID_REQUEST_URI)


@transaction.atomic
def pushed_request_take(*, client_id: str, request_uri: str) -> dict[str, str]:
    """The pushed request's parameters, once: another client's, a used or an expired request_uri is
    refused (an unknown one too, without saying which)."""
    pushed = (
        PushedRequest.objects.select_for_update()
        .select_related("application")
        .filter(reference=_reference(request_uri))
        .first()
    )
    if pushed is None or pushed.application.client_id != client_id:
        raise ValidationFailed("This request_uri is unknown for this client.", code=ErrorCode.INVALID_REQUEST_URI)
    if pushed.used_at is not None:
        raise ValidationFailed(
            "This request_uri was used already: push the request again.", code=ErrorCode.INVALID_REQUEST_URI
        )
    if pushed.expires_at <= timezone.now():
        raise ValidationFailed(
            "This request_uri has expired: push the request again.", code=ErrorCode.INVALID_REQUEST_URI
        )
    pushed.used_at = timezone.now()
    pushed.save(update_fields=["used_at"])
    return {str(key): str(value) for key, value in pushed.parameters.items()}


def pushed_requests_purge() -> int:
    """Forget pushed requests whose minute is over (a periodic job)."""
    deleted, _ = PushedRequest.objects.filter(expires_at__lt=timezone.now() - LIFETIME).delete()
    return deleted


def oauth_refusal_record(
    application: Application | None,
    *,
    endpoint: str,
    error: str,
    connection: Connection | None = None,
    action: AuditAction = AuditAction.OAUTH_REFUSED,
    data: AuditData | None = None,
) -> None:
    """A refused request of an app the bank knows (at authorization, PAR, the token endpoint or the
    API's DPoP check),
    in the audit log at most once a minute per app, endpoint and error: garbage from unknown clients
    is left to the rate limits, and a storm of refusals writes one event a minute."""
    if application is None or not cache.add(f"oauth-refused:{application.pk}:{endpoint}:{error}", True, 60):
        return
    audit_record(
        action, by_app(connection), application=application, data={"endpoint": endpoint, "error": error, **(data or {})}
    )
