"""Guessing limits. A session holder must not be able to guess the customer's password (confirming a
payment, changing the password), and nobody may guess their way into an account at the login form.

Every guess is counted atomically before the password is checked (`bank.core.limits`), so parallel
requests, over any number of processes sharing the cache, get no more guesses than the limit.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as LoginRefused
from django.db import transaction
from django.http import HttpRequest

from bank.core.audit import audit_record, by_customer
from bank.core.errors import ErrorCode, PermissionDenied
from bank.core.http import client_address
from bank.core.limits import Limit
from bank.selectors import logged_in_from_before
from bank.vocabulary import AuditAction

# One budget for every place that checks the logged-in customer's password: the step-up before a
# payment and the password-change form count against each other.
PASSWORD_GUESSES = Limit(name="password-guesses", attempts=5, window=timedelta(minutes=15))


def password_confirm(
    *, customer: User, password: str, purpose: str, act: str = "paying", unchanged: str = "nothing was paid"
) -> None:
    """The logged-in customer proves it is them by typing their password again (a step-up before a
    payment, or the old password when changing it). Refuses once the budget is spent, without
    looking at the password; every wrong one is audited. `act` names what is paused when the budget
    is spent, `unchanged` what did not happen after a wrong password."""
    who = str(customer.pk)
    attempt = PASSWORD_GUESSES.hit(who)
    if attempt > PASSWORD_GUESSES.attempts:
        if attempt == PASSWORD_GUESSES.attempts + 1:  # the first refusal of the window, once
            audit_record(AuditAction.PASSWORD_GUESSES_LOCKED, by_customer(customer), data={"purpose": purpose})
        raise PermissionDenied(
            f"Too many wrong passwords. For your safety, {act} is paused for 15 minutes.",
            code=ErrorCode.STEP_UP_LOCKED,
        )
    if customer.check_password(password):
        PASSWORD_GUESSES.reset(who)
        return
    audit_record(AuditAction.STEP_UP_FAILED, by_customer(customer), data={"purpose": purpose})
    left = PASSWORD_GUESSES.attempts - attempt
    raise PermissionDenied(
        f"That password is not right; {unchanged}. {left} attempts left.", code=ErrorCode.STEP_UP_FAILED
    )


@transaction.atomic
def password_change(*, customer: User, new_password: str) -> None:
    """Set a new password (the form has checked the old one with `password_confirm`)."""
    customer.set_password(new_password)
    customer.save(update_fields=["password"])
    audit_record(AuditAction.PASSWORD_CHANGED, by_customer(customer))


# --- The login form ---------------------------------------------------------------------------


def login_failures_per_address() -> Limit:
    return Limit.parse("login-address", settings.LOGIN_FAILURES_PER_ADDRESS)


def login_failures_per_username() -> Limit:
    return Limit.parse("login-username", settings.LOGIN_FAILURES_PER_USERNAME)


def login_failure_count(*, request: HttpRequest | None, username: str) -> None:
    """A failed login counts against its address and its username (django-axes counts the pair)."""
    if request is not None:
        login_failures_per_address().hit(client_address(request))
    if username:
        login_failures_per_username().hit(username.casefold())


class LoginLimitsBackend:
    """An authentication backend that authenticates nobody: it refuses, before any password is
    checked, a login from an address that failed too often, or for a username that failed too
    often from anywhere (unless from an address its customer logged in from before). The refusal
    shows the lockout page of django-axes. (Not a BaseBackend: without `get_user` it is never the
    backend a session is tied to.)"""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: object
    ) -> User | None:
        if request is None or not username:
            return None
        address = client_address(request)
        blocked = login_failures_per_address().exceeded(address) or (
            login_failures_per_username().exceeded(username.casefold())
            and not logged_in_from_before(username=username, address=address)
        )
        if blocked:
            setattr(request, "axes_locked_out", True)  # noqa: B010  (django-axes shows its lockout page)
            raise LoginRefused("Too many failed logins.")
        return None
