"""Customer alerts by email, the home page's security events, and the periodic jobs the scheduler runs
(each emitting its callback's event where something changed)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bank.models import AuditEvent, DraftPayment, DraftStatus, Event, IdempotencyKey, MonetaryAccount
from bank.services.drafts import draft_payment_create
from bank.tasks import drafts_expire, idempotency_keys_prune, ledger_check
from bank.vocabulary import AuditAction
from connections import scopes
from connections.management.commands.run_scheduler import job_claim, jobs_enqueue_due
from connections.models import Connection, RevokedBy
from connections.services.connections import connection_grant, connection_revoke
from connections.services.vetting import application_suspend
from connections.tasks import connections_tidy
from tests.connections.oauth_helpers import make_application
from tests.factories import StaffFactory, make_account

pytestmark = pytest.mark.django_db

SHOP = "NL91ABNA0417164300"


@pytest.fixture
def main(alice):
    return make_account(alice, balance="100.00")


def grant(alice, main, scope_names, django_capture_on_commit_callbacks, client_id="test-client"):
    application = make_application(client_id=client_id, name=client_id.title())
    with django_capture_on_commit_callbacks(execute=True):
        return connection_grant(user=alice, application=application, scopes=scope_names, accounts=[main])


def test_connecting_an_app_that_may_move_money_is_emailed(alice, main, django_capture_on_commit_callbacks):
    grant(alice, main, ["accounts:read"], django_capture_on_commit_callbacks)
    assert mail.outbox == []  # reading only: no alert

    scope_names = ["accounts:read", "payments:internal"]
    connection = grant(alice, main, scope_names, django_capture_on_commit_callbacks, client_id="mover")

    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert mail.outbox[0].subject == "An app can now move money for you"
    assert f"/profile/settings/security/app-connections/{connection.pk}/" in mail.outbox[0].body


def test_an_alert_is_queued_in_the_transaction_of_its_change(alice, main, settings, django_capture_on_commit_callbacks):
    """With the task queue in the bank's database (as deployed), an alert's task commits with the
    change it tells of: a change that rolls back queues none, and a process that dies right after the
    commit (here: the commit hooks never run) loses none. The worker sends it."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    money = ["accounts:read", "payments:internal"]
    emails = DBTaskResult.objects.filter(task_path="bank.core.mail.email_send")
    with pytest.raises(RuntimeError), transaction.atomic():
        connection_grant(user=alice, application=make_application(), scopes=money, accounts=[main])
        raise RuntimeError("something after the grant fails")
    assert not emails.exists()

    with django_capture_on_commit_callbacks(execute=False):
        connection_grant(user=alice, application=make_application(client_id="mover"), scopes=money, accounts=[main])
    queued = emails.get()
    assert mail.outbox == []
    queued.task.call(**queued.task_result.kwargs)  # what the worker does with it
    assert [m.subject for m in mail.outbox] == ["An app can now move money for you"]


def test_staff_revoking_or_suspending_is_emailed_with_the_reason(alice, bob, main, django_capture_on_commit_callbacks):
    staff = StaffFactory()
    application = make_application()
    with django_capture_on_commit_callbacks(execute=True):
        mine = connection_grant(user=alice, application=application, scopes=["accounts:read"], accounts=[main])
        connection_grant(user=bob, application=application, scopes=["accounts:read"], accounts=[make_account(bob)])
    with django_capture_on_commit_callbacks(execute=True):
        connection_revoke(connection=mine, by=RevokedBy.STAFF, actor=staff, reason="Reported as fraud")
    assert mail.outbox[-1].subject == "Demo Bank ended an app's access to your accounts"
    assert "Reported as fraud" in mail.outbox[-1].body and mail.outbox[-1].to == ["alice@example.com"]

    with django_capture_on_commit_callbacks(execute=True):
        application_suspend(application=application, actor=staff, reason="Under investigation")
    assert mail.outbox[-1].subject == "Demo Bank suspended an app you connected"
    assert mail.outbox[-1].to == ["bob@example.com"] and "Under investigation" in mail.outbox[-1].body


def test_a_customer_revoking_is_not_emailed(alice, main, django_capture_on_commit_callbacks):
    connection = grant(alice, main, ["accounts:read"], django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        connection_revoke(connection=connection, by=RevokedBy.CUSTOMER, actor=alice)
    assert mail.outbox == []


def test_the_home_page_lists_recent_security_events(alice, main, client):
    connection = connection_grant(
        user=alice, application=make_application(name="Pocket"), scopes=["accounts:read"], accounts=[main]
    )
    connection_revoke(connection=connection, by=RevokedBy.STAFF, actor=StaffFactory(), reason="fraud")
    client.force_login(alice)

    page = client.get("/").content.decode()

    section = page.split('id="security-h"')[1].split("</section>")[0]
    assert "Connected an app (Pocket)" in section and "Ended a connection (Pocket), by the bank" in section


# --- periodic jobs -------------------------------------------------------------------------------


def test_expired_connections_end_with_their_event_and_reminders_go_once(
    alice, main, django_capture_on_commit_callbacks
):
    ending = grant(alice, main, ["accounts:read"], django_capture_on_commit_callbacks)
    soon = connection_grant(
        user=alice,
        application=make_application(client_id="soon", name="Soon"),
        scopes=["accounts:read"],
        accounts=[main],
    )
    Connection.objects.filter(pk=ending.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    Connection.objects.filter(pk=soon.pk).update(expires_at=timezone.now() + timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        first = connections_tidy.call()
    with django_capture_on_commit_callbacks(execute=True):
        second = connections_tidy.call()

    assert (first["expired"], first["reminded"]) == (1, 1)
    assert (second["expired"], second["reminded"]) == (0, 0)
    ending.refresh_from_db()
    assert ending.revoked_by == RevokedBy.EXPIRED and ending.status_label == "Expired"
    assert Event.objects.filter(type="connection.expired", connection=ending).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.CONNECTION_EXPIRED, connection=ending).exists()
    assert [m.subject for m in mail.outbox] == ["An app connection ends soon"]


def test_drafts_past_their_lifetime_expire_with_their_event(alice, main):
    application = make_application()
    connection = connection_grant(user=alice, application=application, scopes=list(scopes.ALL), accounts=[main])
    draft = draft_payment_create(
        customer=alice,
        source=main,
        entries=[
            {
                "amount": Decimal("1.00"),
                "counterparty_alias": {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "Shop"},
            }
        ],
        actor=alice,
        connection=connection,
    )
    assert drafts_expire.call() == 0
    DraftPayment.objects.filter(pk=draft.pk).update(expires_at=timezone.now())

    assert drafts_expire.call() == 1
    draft.refresh_from_db()
    assert draft.status == DraftStatus.EXPIRED
    event = Event.objects.get(type="draft_payment.updated")
    assert event.data is not None and event.data["status"] == "EXPIRED" and event.data["id"] == draft.pk


def test_old_idempotency_keys_are_purged(alice, main):
    connection = connection_grant(user=alice, application=make_application(), scopes=["accounts:read"], accounts=[main])
    old = IdempotencyKey.objects.create(
        connection=connection, key="old", fingerprint="f", created=timezone.now() - timedelta(hours=25)
    )
    IdempotencyKey.objects.create(connection=connection, key="new", fingerprint="f", created=timezone.now())

    assert idempotency_keys_prune.call() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()


def test_the_ledger_check_alerts_on_a_mismatch(alice, main, settings):
    settings.ADMINS = [("Ops", "ops@bank.example")]
    assert ledger_check.call() == 0
    assert mail.outbox == []

    MonetaryAccount.objects.filter(pk=main.pk).update(balance=Decimal("999.00"))  # a broken balance

    assert ledger_check.call() == 1
    assert mail.outbox[0].to == ["ops@bank.example"] and "999.00" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action=AuditAction.LEDGER_CHECKED, data__problems=1).exists()


def test_each_run_of_a_periodic_job_is_claimed_once(settings):
    settings.PERIODIC_JOBS = {"bank.tasks.drafts_expire": timedelta(minutes=1)}

    assert job_claim("bank.tasks.drafts_expire", timedelta(minutes=1)) is True
    assert job_claim("bank.tasks.drafts_expire", timedelta(minutes=1)) is False  # another scheduler
    assert jobs_enqueue_due() == []
    assert job_claim("bank.tasks.drafts_expire", timedelta(0)) is True


def test_the_scheduler_enqueues_what_is_due(settings):
    settings.PERIODIC_JOBS = {"bank.tasks.idempotency_keys_prune": timedelta(hours=1)}
    assert jobs_enqueue_due() == ["bank.tasks.idempotency_keys_prune"]
    assert jobs_enqueue_due() == []


def test_the_developers_deliveries_page_needs_a_login(client):
    assert Client().get("/developers/1/deliveries/").status_code == 302
