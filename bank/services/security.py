"""Strong customer authentication for paying from the bank's own pages: the customer confirms with
their password. Failures are audited and limited (5 in 15 minutes per customer), so a stolen
session cannot guess its way to a payment."""

from django.contrib.auth.models import User
from django.core.cache import cache

from bank.core.audit import audit_record
from bank.core.errors import ErrorCode, PermissionDenied
from bank.vocabulary import ActorType, AuditAction

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def step_up_verify(*, customer: User, password: str, purpose: str) -> None:
    key = f"step-up-failures:{customer.pk}"
    if (cache.get(key) or 0) >= MAX_FAILURES:
        raise PermissionDenied(
            "Too many wrong passwords. For your safety, paying is paused for 15 minutes.",
            code=ErrorCode.STEP_UP_LOCKED,
        )
    if customer.check_password(password):
        cache.delete(key)
        return
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    failures = cache.incr(key)
    audit_record(
        action=AuditAction.STEP_UP_FAILED,
        actor=customer,
        customer=customer,
        actor_type=ActorType.CUSTOMER,
        data={"purpose": purpose},
    )
    raise PermissionDenied(
        f"That password is not right; nothing was paid. {MAX_FAILURES - failures} attempts left.",
        code=ErrorCode.STEP_UP_FAILED,
    )
