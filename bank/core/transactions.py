"""Transactions that a client never sees fail for a reason of the database's own making: a deadlock
or a serialization failure is retried, a few times, with jitter."""

import functools
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import OperationalError, connection, transaction

# SQLSTATEs that mean "run the transaction again": serialization failure and deadlock.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5


_inside_retrying = ContextVar("inside_atomic_with_retry", default=False)


@contextmanager
def _inside() -> Iterator[None]:
    token = _inside_retrying.set(True)
    try:
        yield
    finally:
        _inside_retrying.reset(token)


def _is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def atomic_with_retry[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in its own transaction, again (a few times, with jitter) on deadlock or serialization
    failure, so that the client never sees one. Inside an outer transaction it cannot retry, and
    joins it: with a savepoint inside a plain `atomic` block (whose code may catch the failure and
    go on), without one inside another `atomic_with_retry` (whose function then fails as a whole: a
    caller there must not catch a service's error and go on using the database)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            # Inside another atomic_with_retry, that one is retried or rolled back as a whole, so a
            # savepoint here would only cost two statements (one of them while a payment holds its
            # accounts' rows).
            with transaction.atomic(savepoint=not _inside_retrying.get()), _inside():
                return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic(), _inside():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == MAX_ATTEMPTS or not _is_retryable(exc):
                    raise
                time.sleep(random.uniform(0, 0.02 * attempt))
        raise AssertionError("unreachable")

    return wrapper
