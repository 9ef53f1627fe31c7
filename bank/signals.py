"""Security events from Django's authentication, into the audit log: logins, failed logins, logouts.
Only the username and the address are kept, never a password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from .core.audit import audit_record, by_customer, by_staff, by_system
from .core.http import client_address
from .services.security import login_failure_count
from .vocabulary import AuditAction


def _address(request: HttpRequest | None) -> str:
    return client_address(request) if request is not None else ""


@receiver(user_logged_in)
def audit_login(sender: object, request: HttpRequest, user: User, **kwargs: object) -> None:
    by = by_staff(user) if user.is_staff else by_customer(user)
    audit_record(AuditAction.LOGIN, by, data={"ip": _address(request)})


@receiver(user_logged_out)
def audit_logout(sender: object, request: HttpRequest, user: User | None, **kwargs: object) -> None:
    if user is not None:
        audit_record(AuditAction.LOGOUT, by_customer(user))


@receiver(user_login_failed)
def audit_login_failure(
    sender: object, credentials: dict[str, str], request: HttpRequest | None = None, **kwargs: object
) -> None:
    username = str(credentials.get("username", ""))[:150]
    login_failure_count(request=request, username=username)
    user = get_user_model().objects.filter(username=username).first()
    audit_record(
        AuditAction.LOGIN_FAILED, by_system(customer=user), data={"username": username, "ip": _address(request)}
    )
