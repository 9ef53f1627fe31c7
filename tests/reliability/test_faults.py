"""Faults in the middle of moving money leave nothing half done, and the client can retry safely:
an exception between the two legs of a transfer, and the database connection killed mid-request."""

import threading
import time
from decimal import Decimal

import httpx
import psycopg
import pytest

from bank.models import Event, IdempotencyKey, MonetaryAccount, Movement, Payment
from bank.services import ledger
from bank.services.ledger import ledger_problems
from bench.servers import database_url_of_this_run
from tests.factories import main_and_savings, transfer_body


def state(*accounts: MonetaryAccount) -> tuple:
    return (
        [MonetaryAccount.objects.get(pk=a.pk).balance for a in accounts],
        Movement.objects.count(),
        Payment.objects.count(),
    )


@pytest.mark.django_db
def test_an_error_between_the_two_legs_leaves_no_trace_and_the_retry_pays_once(alice, connect, monkeypatch):
    main, savings = main_and_savings(alice, "100.00")
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])
    app.client.raise_request_exception = False
    before = state(main, savings)
    events_before = Event.objects.count()
    written: list[int] = []
    real_post = ledger._post_payment

    def fail_on_second_leg(payment: Payment, event: Event) -> None:
        written.append(payment.monetary_account_id)
        if len(written) == 2:
            raise RuntimeError("power cut between the legs")
        real_post(payment, event)

    monkeypatch.setattr(ledger, "_post_payment", fail_on_second_leg)
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    body = transfer_body("40.00", savings, description="Fault test")
    failed = app.post(path, body, **{"Idempotency-Key": "fault-1"})

    assert failed.status_code == 500
    assert failed["Content-Type"] == "application/problem+json" and b"power cut" not in failed.content
    assert written == sorted([main.pk, savings.pk])  # the first leg was posted, then the fault
    assert state(main, savings) == before  # ...and rolled back with everything else
    assert Event.objects.count() == events_before  # the first leg's event too
    assert not IdempotencyKey.objects.exists()  # the key is free again

    monkeypatch.setattr(ledger, "_post_payment", real_post)
    retried = app.post(path, body, **{"Idempotency-Key": "fault-1"})
    replayed = app.post(path, body, **{"Idempotency-Key": "fault-1"})

    assert (retried.status_code, replayed.status_code) == (201, 201)
    assert replayed.content == retried.content
    balances, movements, payments = state(main, savings)
    assert balances == [Decimal("60.00"), Decimal("40.00")]
    assert (movements, payments) == (before[1] + 1, before[2] + 2)
    assert ledger_problems() == []


def blocked_backend_pid(admin: psycopg.Connection, timeout: float = 10) -> int:
    """The server's database session that waits for the row lock held by `locker`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("the request never waited for the lock")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_mid_request_changes_nothing_and_the_retry_works(alice, connect, live_server):
    main, savings = main_and_savings(alice, "100.00")
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])
    before = state(main, savings)
    url = f"{live_server.url}/api/v1/monetary-accounts/{main.pk}/payments/"
    headers = {"Authorization": f"Bearer {app.token}", "Idempotency-Key": "killed-1"}
    body = transfer_body("40.00", savings, description="Fault test")
    answers: list[httpx.Response] = []

    # Sessions of our own, outside Django: one holds the account's row lock so that the request
    # stops at it; the other finds the request's session and kills it.
    with (
        psycopg.connect(database_url_of_this_run()) as locker,
        psycopg.connect(database_url_of_this_run(), autocommit=True) as admin,
    ):
        locker.execute("SELECT 1 FROM bank_monetaryaccount WHERE id = %s FOR UPDATE", [main.pk])
        sender = threading.Thread(
            target=lambda: answers.append(httpx.post(url, json=body, headers=headers, timeout=20))
        )
        sender.start()
        admin.execute("SELECT pg_terminate_backend(%s)", [blocked_backend_pid(admin)])
        locker.rollback()
    sender.join(timeout=20)

    failed = answers[0]
    assert failed.status_code == 503
    assert failed.headers["Content-Type"] == "application/problem+json" and failed.headers["Retry-After"] == "1"
    assert failed.json()["code"] == "service_unavailable"
    assert state(main, savings) == before
    assert not IdempotencyKey.objects.exists()

    retried = httpx.post(url, json=body, headers=headers, timeout=20)
    assert retried.status_code == 201, retried.text
    balances, movements, payments = state(main, savings)
    assert balances == [Decimal("60.00"), Decimal("40.00")]
    assert (movements, payments) == (before[1] + 1, before[2] + 2)
    assert ledger_problems() == []
