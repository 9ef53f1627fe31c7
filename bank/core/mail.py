"""Email from the bank, sent by the worker (never in a request), once the change it tells of has
committed: Django's email framework (the console locally, SMTP from the environment in production)."""

from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task
from django_tasks_db.backend import DatabaseBackend


@task()
def email_send(*, to: list[str], subject: str, body: str) -> None:
    send_mail(subject, body, None, to)


def email_on_commit(*, to: list[str], subject: str, body: str) -> None:
    """Send an email once the caller's transaction commits, and only if it does.

    With the task queue in the bank's own database (django-tasks-db, as deployed), the task is written
    in the caller's transaction: it commits with the change or not at all, so a process that dies just
    after the commit loses no email. Any other task backend is handed the email when the transaction
    commits (at once outside a transaction)."""
    if isinstance(email_send.get_backend(), DatabaseBackend):
        email_send.enqueue(to=to, subject=subject, body=body)
    else:
        transaction.on_commit(lambda: email_send.enqueue(to=to, subject=subject, body=body), robust=True)
