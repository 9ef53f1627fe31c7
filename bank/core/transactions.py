"""Transactions that a client never sees fail for a reason of the database's own making: a deadlock
or a serialization failure is retried, a few times, with jitter."""

import functools
import random
import time
from collections.abc import Callable

from django.db import OperationalError, connection, transaction

# SQLSTATEs that mean "run the transaction again": serialization failure and deadlock.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5


def _is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def atomic_with_retry[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in its own transaction, again (a few times, with jitter) on deadlock or serialization
    failure, so that the client never sees one. Inside an outer transaction it cannot retry, and
    simply joins it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == MAX_ATTEMPTS or not _is_retryable(exc):
                    raise
                time.sleep(random.uniform(0, 0.02 * attempt))
        raise AssertionError("unreachable")

    return wrapper
