"""Email from the bank, sent by the worker (never in a request), once the change it tells of has
committed: Django's email framework (the console locally, SMTP from the environment in production)."""

from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task


@task()
def email_send(*, to: list[str], subject: str, body: str) -> None:
    send_mail(subject, body, None, to)


def email_on_commit(*, to: list[str], subject: str, body: str) -> None:
    """Queue an email for when the caller's transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: email_send.enqueue(to=to, subject=subject, body=body), robust=True)
