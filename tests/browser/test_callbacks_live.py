"""Callbacks end to end, as they run in production: the production command over TLS, a worker
(`db_worker`, the database queue) and the scheduler (the outbox's relay) as their own processes, and a receiver on
loopback. An app pays and prepares a draft through the API; the customer approves the draft and
revokes the connection in Chromium; every callback arrives signed, within seconds, and the set that
arrives is exactly the set of committed changes. Then a worker is killed in the middle of a
delivery: the next worker sends it again, with the same webhook-id."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.test import override_settings
from playwright.sync_api import Browser
from standardwebhooks.webhooks import Webhook

from bank.models import Event, Payment
from bench.receiver import Behaviour, receiving
from bench.servers import ROOT, database_url_of_this_run, self_signed_certificate
from bench.tokens import issue_token
from connections.models import Delivery, DeliveryStatus, NotificationFilter
from connections.services.callbacks import signing_secret_set
from connections.services.connections import connection_grant
from connections.tasks import outbox_relay
from tests.connections.oauth_helpers import make_application
from tests.factories import PASSWORD, make_account, transfer_body
from tests.test_production import REDIS_URL, production_env, production_servers, with_production_password
from tests.test_production import SECRET as PRODUCTION_SECRET_KEY

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECRET = "whsec_" + "bGl2ZS1jYWxsYmFjay10ZXN0LXNlY3JldC0wMTIzNDU2Nzg="
# Loopback receivers are allowed for this test only; leases and the sweep are short, so that a dead
# worker's delivery is due again within seconds. The app moves money with a bearer token (this test is
# about callbacks; FAPI has its own).
WORKER_SETTINGS = {
    "CALLBACKS_ALLOW_LOOPBACK": "1",
    "CALLBACK_LEASE_SECONDS": "3",
    "CALLBACK_SWEEP_SECONDS": "1",
    "BEARER_APPS_MAY_MOVE_MONEY": "1",
}


@contextlib.contextmanager
def background(command: list[str], env: dict[str, str], *, ready: str) -> Iterator[subprocess.Popen[bytes]]:
    """A worker or the scheduler, once its log says `ready` (so that the callbacks' latencies do not
    include the time a process takes to start); its log is printed when it stops (pytest shows it
    for a failure)."""
    log = Path(tempfile.mkstemp(prefix="worker-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while ready not in log.read_text() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready in log.read_text(), f"{command[1:3]} did not start"
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        lines = [line for line in log.read_text().splitlines() if "callbacks_sweep state=" not in line]
        print(f"--- {' '.join(command[1:3])} ---\n" + "\n".join(lines[-60:]))
        log.unlink()


def worker_env() -> dict[str, str]:
    return production_env(DATABASE_URL=database_url_of_this_run(), REDIS_URL=REDIS_URL, **WORKER_SETTINGS)


WORKER_READY = "Starting worker"  # django-tasks-db's db_worker, as it logs
SCHEDULER_READY = "Scheduler started"


def worker() -> list[str]:
    return [sys.executable, "manage.py", "db_worker", "--queue-name", "default", "--interval", "0.1"]


def scheduler() -> list[str]:
    return [sys.executable, "manage.py", "run_scheduler", "--interval", "0.5"]


@pytest.fixture
def connected(alice):
    main = make_account(alice, balance="500.00", description="Main")
    savings = make_account(alice, type="SAVINGS", description="Savings")
    with_production_password(alice)
    outbox_relay()  # the opening deposits' events, before anyone listens
    application = make_application(name="Ledgerly")
    with override_settings(SECRET_KEY=PRODUCTION_SECRET_KEY):  # sealed as the production processes seal
        signing_secret_set(application=application, secret=SECRET)
    connection = connection_grant(
        user=alice,
        application=application,
        scopes=["accounts:read", "payments:read", "payments:internal", "draft_payments:read", "draft_payments:write"],
        accounts=[main, savings],
    )
    return connection, issue_token(connection), main, savings


def subscribe(connection, target: str) -> None:
    for category in ("PAYMENT", "DRAFT_PAYMENT", "CONNECTION"):
        NotificationFilter.objects.create(connection=connection, category=category, notification_target=target)


def test_every_committed_change_is_called_back_signed_and_in_time(connected, alice, browser: Browser, tmp_path: Path):
    connection, token, main, savings = connected
    certificate = self_signed_certificate(tmp_path)
    with (
        receiving() as receiver,
        production_servers(1, tls=certificate, **WORKER_SETTINGS) as (bank,),
        background(worker(), worker_env(), ready=WORKER_READY),
        background(scheduler(), worker_env(), ready=SCHEDULER_READY),
    ):
        subscribe(connection, receiver.url + "/bank")
        before = max(Payment.objects.values_list("pk", flat=True))  # the opening deposits, unannounced
        api = httpx.Client(base_url=bank, verify=str(certificate[0]), headers={"Authorization": f"Bearer {token}"})
        transfer = transfer_body("25.00", savings, description="To savings")
        assert api.post(f"/api/v1/monetary-accounts/{main.pk}/payments/", json=transfer).status_code == 201
        refused = {**transfer, "amount": {"value": "99999.00", "currency": "EUR"}}
        assert api.post(f"/api/v1/monetary-accounts/{main.pk}/payments/", json=refused).status_code == 422
        draft = {"entries": [{**transfer, "description": "Prepared by the app"}]}
        draft_id = api.post(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/", json=draft).json()["id"]

        context = browser.new_context(ignore_https_errors=True, base_url=bank)
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.goto("/draft-payments/")
        page.get_by_label("Your password, to approve").fill(PASSWORD)
        page.get_by_role("button", name="Approve and pay").click()
        page.get_by_text("Approved and paid").first.wait_for()
        # Callbacks arrive within a second or so; after a revocation the app hears nothing but that
        # (what the worker had not sent by then is not sent), so the customer revokes only now.
        changes = Payment.objects.filter(pk__gt=before).count() + 2
        assert len(receiver.wait_for(changes, timeout=20)) == changes
        page.goto(f"/profile/settings/security/app-connections/{connection.pk}/revoke/")
        page.get_by_role("button", name="Revoke access for Ledgerly").click()
        page.wait_for_url("**/revoked/")
        context.close()

        # What committed: the transfer's two legs, the draft's creation, its approval and its payment's
        # two legs, and the revocation (which would cancel nothing: the draft was answered).
        expected = {
            *(("payment.created", pk) for pk in Payment.objects.filter(pk__gt=before).values_list("pk", flat=True)),
            ("draft_payment.created", draft_id),
            ("draft_payment.updated", draft_id),
            ("connection.revoked", connection.user_id),
        }
        arrived = receiver.wait_for(len(expected), timeout=20)
        time.sleep(1.5)  # anything more would arrive now
        arrived = receiver.wait_for(len(expected) + 1, timeout=0.1)

    messages = [Webhook(SECRET).verify(call.body, call.headers) for call in arrived]  # every one signed
    assert {(m["type"], m["data"]["id"]) for m in messages} == expected
    assert len(messages) == len(expected)  # nothing twice
    created = {str(e.id): e.created.timestamp() for e in Event.objects.all()}
    latencies = [call.at - created[json.loads(call.body)["id"]] for call in arrived]
    assert max(latencies) < 5, latencies
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert Payment.objects.filter(amount=Decimal("-99999.00")).count() == 0


def test_a_worker_killed_mid_delivery_is_replaced_and_the_callback_sent_again(connected, alice):
    connection, token, main, savings = connected
    with (
        receiving() as receiver,
        production_servers(1, **WORKER_SETTINGS) as (bank,),
        background(scheduler(), worker_env(), ready=SCHEDULER_READY),
    ):
        NotificationFilter.objects.create(connection=connection, category="PAYMENT", notification_target=receiver.url)
        receiver.behaviour = Behaviour(delay=60)  # the first call hangs: the worker is stuck in it
        with background(worker(), worker_env(), ready=WORKER_READY) as first:
            transfer = transfer_body("5.00", savings)
            headers = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
            response = httpx.post(
                f"{bank}/api/v1/monetary-accounts/{main.pk}/payments/", json=transfer, headers=headers
            )
            assert response.status_code == 201
            stuck = receiver.wait_for(1, timeout=15)
            assert len(stuck) == 1
            os.kill(first.pid, signal.SIGKILL)  # the worker dies mid-delivery
            first.wait(timeout=10)
        receiver.behaviour = Behaviour(status=204)
        with background(worker(), worker_env(), ready=WORKER_READY):
            arrived = receiver.wait_for(3, timeout=30)  # the other leg, and the one sent again

    ids = [call.headers["webhook-id"] for call in arrived]
    assert ids.count(stuck[0].headers["webhook-id"]) == 2, ids
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
