"""Strong customer authentication for paying from the bank's own pages: the customer confirms with
their password. Failures are audited and limited (5 in 15 minutes per customer), so a stolen
session cannot guess its way to a payment."""

from typing import Any

from django.core.cache import cache

from .errors import PermissionDenied
from .services.audit import audit_record

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def step_up_verify(*, user: Any, password: str, purpose: str) -> None:
    key = f"step-up-failures:{user.pk}"
    if (cache.get(key) or 0) >= MAX_FAILURES:
        raise PermissionDenied(
            "Too many wrong passwords. For your safety, paying is paused for 15 minutes.", code="step_up_locked"
        )
    if user.check_password(password):
        cache.delete(key)
        return
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    failures = cache.incr(key)
    audit_record(
        action="auth.step_up_failed", actor=user, customer=user, actor_type="customer", data={"purpose": purpose}
    )
    raise PermissionDenied(
        f"That password is not right; nothing was paid. {MAX_FAILURES - failures} attempts left.",
        code="step_up_failed",
    )
