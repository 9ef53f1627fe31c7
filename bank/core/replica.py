"""Reads from a read replica (`DATABASE_REPLICA_URL`), where they can do no harm.

Only what a view puts inside `replica_reads()` may go to the replica: the customers' page selectors
and the API's list and detail reads. Everything else stays on the primary: the token check (it runs
before), idempotency, every service and every write, anything inside a transaction, and a customer's
reads for `REPLICA_STICKY_SECONDS` after their own write (so that a customer, or their app, sees a
payment right after making it, however far the replica lags). A replica that is not configured, or
`REPLICA_READS` off, routes nothing.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
_reading: ContextVar[bool] = ContextVar("replica_reads", default=False)


def _sticky_key(customer_id: int) -> str:
    return f"replica:primary-for:{customer_id}"


def customer_wrote(customer_id: int) -> None:
    """The customer changed something: their reads stay on the primary for a few seconds."""
    cache.set(_sticky_key(customer_id), 1, timeout=settings.REPLICA_STICKY_SECONDS)


def replica_enabled() -> bool:
    return settings.REPLICA_READS and REPLICA in settings.DATABASES


@contextmanager
def replica_reads(*, customer_id: int | None) -> Iterator[None]:
    """Reads inside may go to the replica, unless this customer wrote a moment ago."""
    allowed = replica_enabled() and not (customer_id is not None and cache.get(_sticky_key(customer_id)))
    token = _reading.set(allowed)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """Django's database router for the replica: reads inside `replica_reads()`, never writes."""

    def db_for_read(self, model: type[models.Model], **hints: object) -> str | None:
        if _reading.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return REPLICA
        return None

    def db_for_write(self, model: type[models.Model], **hints: object) -> str:
        return DEFAULT_DB_ALIAS  # also for an object read from the replica

    def allow_relation(self, first: models.Model, second: models.Model, **hints: object) -> bool:
        return True  # the same data, wherever it was read

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool:
        return db == DEFAULT_DB_ALIAS


class ReplicaStickinessMiddleware:
    """After a request that may have changed something for its customer (any method but GET, HEAD
    and OPTIONS, from a page session or an app's token), keep that customer's reads on the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS") and replica_enabled():
            user = getattr(request, "user", None)  # DRF sets the token's customer here too
            if user is not None and user.is_authenticated:
                customer_wrote(user.pk)
        return response
