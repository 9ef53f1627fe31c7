"""Signals: the toolkit's, written to the audit log (never the token itself); and the bank's committed
events, handed to the worker for callbacks."""

import logging

from django.http import HttpRequest
from oauth2_provider.signals import app_authorized

from bank.core.audit import audit_record
from bank.core.events import events_committed
from bank.vocabulary import ActorType, AuditAction

from .models import AccessToken
from .tasks import callbacks_dispatch


def _token_issued(sender: object, request: HttpRequest, token: AccessToken, **kwargs: object) -> None:
    grant_type = request.POST.get("grant_type", "") if hasattr(request, "POST") else ""
    audit_record(
        action=AuditAction.TOKEN_REFRESHED if grant_type == "refresh_token" else AuditAction.TOKEN_ISSUED,
        actor=None,
        actor_type=ActorType.APP,
        customer=token.user,
        connection=token.connection,
        application=token.application,
        data={"scope": token.scope, "expires": token.expires.isoformat()},
    )


app_authorized.connect(_token_issued, dispatch_uid="connections.audit_token_issued")


logger = logging.getLogger(__name__)


def _dispatch_committed(sender: object, event_ids: list[str], **kwargs: object) -> None:
    """After commit: ask the worker for the events' callbacks. If this fails (the queue is down), the
    periodic sweep dispatches them later: the events are committed either way."""
    try:
        callbacks_dispatch.enqueue(event_ids)
    except Exception:
        logger.exception("Could not enqueue the dispatch of %d event(s); the sweep will.", len(event_ids))


events_committed.connect(_dispatch_committed, dispatch_uid="connections.dispatch_committed_events")
