"""Security events from Django's authentication, into the audit log: logins, failed logins, logouts.
Only the username and the address are kept, never a password."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services.audit import audit_record


def _address(request: Any) -> str:
    return getattr(request, "axes_ip_address", None) or (request.META.get("REMOTE_ADDR", "") if request else "")


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, customer=user, actor_type="customer", data={"ip": _address(request)})


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="auth.logout", actor=user, customer=user, actor_type="customer", data={})


@receiver(user_login_failed)
def audit_login_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    user = get_user_model().objects.filter(username=username).first()
    audit_record(
        action="auth.login_failed",
        actor=None,
        customer=user,
        actor_type="system",
        data={"username": username, "ip": _address(request)},
    )
