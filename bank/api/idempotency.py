"""`Idempotency-Key` for every creating POST (SPEC §5), kept in the database per connection.

- Same key, same body, within 24 hours: the first (successful) response again, nothing done again.
- Same key, different body: 422. Same key while the first request is still running: 409.
- A request that fails (4xx or an error) releases its key, so the client can correct it and retry.

The key row is claimed in a short transaction of its own; the request's work and the stored
response then commit together. So a stored response always matches what was done, and a claim
that outlived its lease belongs to a request that died before committing anything: it may be taken
over safely.
"""

import functools
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Concatenate

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, IntegrityError, transaction
from django.db import connection as db_connection
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bank.core.errors import ErrorCode
from bank.core.transactions import atomic_with_retry
from bank.models import IdempotencyKey
from connections.models import Connection

from .authentication import request_connection

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,64}$")  # 1-64 visible ASCII characters
LEASE = timedelta(minutes=5)


class KeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = ErrorCode.IDEMPOTENCY_KEY_IN_USE
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    default_detail = "This Idempotency-Key was used for a different request (another path or body)."


def _fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _claim(*, connection: Connection, key: str, fingerprint: str) -> IdempotencyKey | Response:
    """Claim the key for this request, or answer from what an earlier request with it left."""
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    connection=connection, key=key, fingerprint=fingerprint, created=now
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(connection=connection, key=key).first()
        if existing is None:
            continue  # released meanwhile: claim it again
        if existing.created < now - settings.IDEMPOTENCY_KEY_RETENTION:
            IdempotencyKey.objects.filter(pk=existing.pk, created=existing.created).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise KeyReused()
        if existing.state == IdempotencyKey.State.DONE:
            assert existing.response_status is not None
            return Response(
                json.loads(existing.response_body),
                status=existing.response_status,
                headers={"Idempotent-Replayed": "true"},
            )
        if existing.created < now - LEASE and (
            IdempotencyKey.objects.filter(
                pk=existing.pk, state=IdempotencyKey.State.IN_PROGRESS, created=existing.created
            ).update(created=now)
            == 1
        ):
            existing.created = now
            return existing  # its first request died without committing: take it over
        raise KeyInUse()
    raise KeyInUse()


def _release(claimed: IdempotencyKey) -> None:
    """Free the key of a request that did nothing, so that the client can retry at once. If the
    database connection itself broke, reconnect once to do it (or the key would wait out its lease)."""
    for attempt in range(2):
        try:
            IdempotencyKey.objects.filter(pk=claimed.pk, state=IdempotencyKey.State.IN_PROGRESS).delete()
            return
        except DatabaseError:
            if attempt:
                raise
            db_connection.close()


def idempotent[V: APIView, **P](
    method: Callable[Concatenate[V, Request, P], Response],
) -> Callable[Concatenate[V, Request, P], Response]:
    """Wrap a viewset's creating action: `create(self, request, *args, **kwargs)`."""

    @functools.wraps(method)
    def wrapper(view: V, request: Request, *args: P.args, **kwargs: P.kwargs) -> Response:
        key = request.headers.get(HEADER)
        if key is None:
            return method(view, request, *args, **kwargs)
        if not KEY_PATTERN.match(key):
            raise exceptions.ValidationError(
                {HEADER: [exceptions.ErrorDetail("1 to 64 visible ASCII characters.", code=ErrorCode.INVALID)]}
            )
        claimed = _claim(connection=request_connection(request), key=key, fingerprint=_fingerprint(request))
        if isinstance(claimed, Response):
            return claimed

        @atomic_with_retry
        def run() -> Response:
            response = method(view, request, *args, **kwargs)
            if status.is_success(response.status_code):
                IdempotencyKey.objects.filter(pk=claimed.pk).update(
                    state=IdempotencyKey.State.DONE,
                    response_status=response.status_code,
                    response_body=json.dumps(response.data, cls=DjangoJSONEncoder),
                )
            return response

        try:
            response = run()
        except BaseException:
            _release(claimed)
            raise
        if not status.is_success(response.status_code):
            _release(claimed)
        return response

    # A mark that tests/api/test_contract.py looks for on every creating action.
    setattr(wrapper, "idempotent", True)  # noqa: B010
    return wrapper
