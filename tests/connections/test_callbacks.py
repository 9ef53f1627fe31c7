"""Callbacks (SPEC §9): notification filters through the API, the outbox, signed at-least-once delivery
with retries, the SSRF guard, what a revoked connection still hears, and the developers' view."""

import ipaddress
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from bank.models import AuditEvent, Event, Payment
from bank.vocabulary import AuditAction
from bench.receiver import Behaviour, receiving
from connections.models import Application, Delivery, DeliveryStatus, NotificationFilter
from connections.services.callbacks import signing_secret_set
from connections.services.connections import connection_revoke
from connections.tasks import callbacks_sweep, outbox_relay
from connections.webhooks import address_allowed, unseal
from tests import factories
from tests.concurrency import at_once
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def relay() -> None:
    """What the scheduler does several times a second: hand committed events to the workers (here the
    tasks run at once, in this process)."""
    outbox_relay()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` is a request that commits: its on-commit hooks run, then the scheduler's
    relay hands the committed events to the workers (run at once, in this process)."""

    @contextmanager
    def block() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield
            relay()

    return block


SECRET = "whsec_" + "dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5MDEyMw=="


@pytest.fixture
def shop(alice, connect):
    """alice's main and savings accounts, shared with an app that may read payments and move money."""
    main = make_account(alice, balance="100.00", description="Main")
    savings = make_account(alice, type="SAVINGS", description="Savings")
    app = connect(alice, accounts=[main, savings])
    signing_secret_set(application=app.connection.application, secret=SECRET)
    relay()  # the opening deposit's events, before anyone listens
    return app, main, savings


def pay(alice, main, savings, amount="1.00"):
    return factories.pay(alice, main, amount, savings.iban)


def subscribe(app, target, category="PAYMENT"):
    response = app.post("/api/v1/notification-filters/", {"category": category, "notification_target": target})
    assert response.status_code == 201, response.content
    return response.json()


# --- the filters, through the API ------------------------------------------------------------------


def test_an_app_manages_its_filters(shop):
    app, _, _ = shop

    created = subscribe(app, "https://hooks.example/bank")

    assert set(created) == {"id", "category", "notification_target", "created"}
    listed = app.get("/api/v1/notification-filters/").json()["results"]
    assert [f["id"] for f in listed] == [created["id"]]
    assert app.get(f"/api/v1/notification-filters/{created['id']}/").json() == created
    duplicate = app.post(
        "/api/v1/notification-filters/", {"category": "PAYMENT", "notification_target": "https://hooks.example/bank"}
    )
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "duplicate_filter"
    assert app.client.delete(f"/api/v1/notification-filters/{created['id']}/").status_code == 204
    assert not NotificationFilter.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.NOTIFICATION_FILTER_DELETED).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_filter_asked_for_at_once_is_made_once(alice, connect):
    app = connect(alice, accounts=[make_account(alice)])

    def ask(_: int) -> int:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {app.token}")
        body = {"category": "PAYMENT", "notification_target": "https://hooks.example/bank"}
        return client.post("/api/v1/notification-filters/", body, format="json").status_code

    statuses, _ = at_once(4, ask)
    assert sorted(statuses) == [201, 400, 400, 400]
    assert NotificationFilter.objects.count() == 1


def test_a_category_needs_its_scope(alice, connect):
    app = connect(alice, scopes=["accounts:read"], accounts=[make_account(alice)])

    refused = app.post(
        "/api/v1/notification-filters/", {"category": "PAYMENT", "notification_target": "https://h.example/"}
    )

    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert subscribe(app, "https://h.example/", category="CONNECTION")["category"] == "CONNECTION"


def test_another_connections_filter_does_not_exist(shop, bob, connect):
    app, _, _ = shop
    created = subscribe(app, "https://hooks.example/bank")
    other = connect(bob, accounts=[make_account(bob)], app="other")

    assert other.get(f"/api/v1/notification-filters/{created['id']}/").status_code == 404
    assert other.client.delete(f"/api/v1/notification-filters/{created['id']}/").status_code == 404
    assert NotificationFilter.objects.count() == 1


@pytest.mark.parametrize(
    ("target", "production"),
    [
        ("http://hooks.example/bank", False),
        ("ftp://hooks.example/bank", False),
        ("https://user:pass@hooks.example/bank", False),
        ("http://127.0.0.1/no-port", False),
        ("http://127.0.0.1:9000/bank", True),
        ("https://10.0.0.7/bank", True),
        ("https://169.254.169.254/latest/meta-data", True),
        ("https://[::ffff:192.168.1.1]/bank", True),
        ("not a url", False),
    ],
)
def test_a_bad_target_is_refused_and_nothing_is_saved(shop, settings, target, production):
    settings.CALLBACKS_ALLOW_LOOPBACK = not production
    app, _, _ = shop

    response = app.post("/api/v1/notification-filters/", {"category": "PAYMENT", "notification_target": target})

    assert response.status_code == 400, response.content
    assert not NotificationFilter.objects.exists()


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("127.0.0.1", False),
        ("::1", False),
        ("169.254.169.254", False),
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104  (an address to refuse, not one to bind)
        ("100.64.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("fc00::1", False),
    ],
)
def test_only_public_addresses_are_called_in_production(address, allowed):
    assert address_allowed(ipaddress.ip_address(address), allow_loopback=False) is allowed


# --- delivery ------------------------------------------------------------------------------------


def test_a_committed_payment_is_called_back_signed_with_the_api_object(shop, alice, committed):
    app, main, savings = shop
    with receiving() as receiver:
        subscribe(app, receiver.url + "/hook")
        with committed():
            payment = pay(alice, main, savings, "2.50")

        arrived = receiver.wait_for(2)  # both legs: the debit on main, the credit on savings

    assert len(arrived) == 2
    for call in arrived:
        message = Webhook(SECRET).verify(call.body, call.headers)
        assert message["type"] == "payment.created"
        assert call.headers["webhook-id"].startswith("msg_")
    bodies = {json.loads(call.body)["data"]["id"]: json.loads(call.body) for call in arrived}
    api = app.get(f"/api/v1/monetary-accounts/{main.pk}/payments/{payment.pk}/").json()
    assert bodies[payment.pk]["data"] == api
    assert set(bodies[payment.pk]) == {"id", "type", "created", "data"}
    assert Delivery.objects.filter(status=DeliveryStatus.DELIVERED).count() == 2


def test_a_rolled_back_payment_has_no_event_and_no_callback(shop, alice, django_capture_on_commit_callbacks):
    app, main, savings = shop
    events = Event.objects.count()
    with receiving() as receiver:
        subscribe(app, receiver.url + "/hook")
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
            pay(alice, main, savings)
            raise RuntimeError("the request failed after the payment")
        relay()
        assert receiver.wait_for(1, timeout=1) == []
    assert Event.objects.count() == events


def test_an_unshared_account_or_another_category_hears_nothing(shop, alice, connect, committed):
    app, main, savings = shop
    only_savings = connect(alice, accounts=[savings], app="other")
    signing_secret_set(application=only_savings.connection.application, secret=SECRET)
    elsewhere = make_account(alice, balance="10.00", description="Elsewhere")
    with receiving() as receiver:
        subscribe(only_savings, receiver.url + "/savings")
        subscribe(app, receiver.url + "/cards", category="CARD")
        with committed():
            pay(alice, elsewhere, main)

        assert receiver.wait_for(1, timeout=1) == []


def test_a_failed_callback_is_retried_with_the_same_webhook_id(shop, alice, committed):
    app, main, savings = shop
    with receiving() as receiver:
        subscribe(app, receiver.url + "/hook", category="PAYMENT")
        receiver.behaviour = Behaviour(status=500)
        with committed():
            pay(alice, main, savings)
        first = receiver.wait_for(2)
        pending = list(Delivery.objects.order_by("id"))
        assert {d.status for d in pending} == {DeliveryStatus.PENDING} and {d.attempts for d in pending} == {1}
        assert {d.last_status_code for d in pending} == {500}
        assert all(d.next_attempt_at > timezone.now() for d in pending)  # a pause first

        receiver.behaviour = Behaviour(status=200)
        Delivery.objects.update(next_attempt_at=timezone.now())  # the pause is over
        callbacks_sweep.call()
        again = receiver.wait_for(4)

    assert {c.headers["webhook-id"] for c in again[2:]} == {c.headers["webhook-id"] for c in first}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_receiver_that_is_down_gets_it_when_it_is_back(shop, alice, committed):
    app, main, savings = shop
    with receiving() as receiver:
        port = int(receiver.url.rsplit(":", 1)[1])
        target = receiver.url + "/hook"
    subscribe(app, target)  # the receiver is gone now: nothing listens on its port
    with committed():
        pay(alice, main, savings)
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {"Could not connect: ConnectError."}

    with receiving(port) as back:
        Delivery.objects.update(next_attempt_at=timezone.now())
        callbacks_sweep.call()
        assert len(back.wait_for(2)) == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_a_redirect_is_not_followed(shop, alice, committed):
    app, main, savings = shop
    with receiving() as elsewhere, receiving() as receiver:
        receiver.behaviour = Behaviour(location=elsewhere.url + "/stolen")
        subscribe(app, receiver.url + "/hook")
        with committed():
            pay(alice, main, savings)
        assert len(receiver.wait_for(2)) == 2
        assert elsewhere.wait_for(1, timeout=1) == []
    assert set(Delivery.objects.values_list("last_status_code", flat=True)) == {302}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_a_slow_receiver_times_out_and_is_retried(shop, alice, settings, committed):
    settings.CALLBACK_TIMEOUT = 0.3
    app, main, savings = shop
    with receiving(behaviour=Behaviour(delay=1.0)) as receiver:
        subscribe(app, receiver.url + "/hook")
        with committed():
            pay(alice, main, savings)
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {"No answer within 0.3 s."}
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PENDING}


def test_a_host_that_resolves_to_a_private_address_is_never_called(shop, alice, settings, monkeypatch, committed):
    app, main, savings = shop
    subscribe(app, "https://hooks.example/bank")
    settings.CALLBACKS_ALLOW_LOOPBACK = False
    resolved: list[str] = []

    def rebinding(host, port, *args, **kwargs):
        resolved.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.8", port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with committed():
        pay(alice, main, savings)

    assert resolved == ["hooks.example", "hooks.example"]
    errors = set(Delivery.objects.values_list("last_error", flat=True))
    assert errors == {"The target's host resolves to a private, loopback or reserved address."}


def test_a_delivery_whose_worker_died_is_sent_again_with_the_same_id(shop, alice, committed):
    app, main, savings = shop
    with receiving() as receiver:
        subscribe(app, receiver.url + "/hook")
        receiver.behaviour = Behaviour(status=500)
        with committed():
            pay(alice, main, savings)
        receiver.wait_for(2)
        # A worker leased both for their next attempt and died: nothing recorded, the lease runs on.
        Delivery.objects.update(next_attempt_at=timezone.now(), leased_until=timezone.now() + timedelta(minutes=1))
        receiver.behaviour = Behaviour(status=204)
        callbacks_sweep.call()
        assert len(receiver.wait_for(3, timeout=0.5)) == 2  # leased: not due yet
        Delivery.objects.update(leased_until=timezone.now() - timedelta(seconds=1))  # the lease ran out
        callbacks_sweep.call()
        arrived = receiver.wait_for(4)
    assert len(arrived) == 4
    assert sorted(c.headers["webhook-id"] for c in arrived[:2]) == sorted(c.headers["webhook-id"] for c in arrived[2:])


def test_after_a_day_of_retries_a_delivery_fails(shop, alice, settings, committed):
    settings.CALLBACK_RETRY_SCHEDULE = [1, 2]
    assert sum([5, 300, 1800, 7200, 18000, 36000, 36000]) > 24 * 3600  # the production schedule
    app, main, savings = shop
    with receiving(behaviour=Behaviour(status=503)) as receiver:
        subscribe(app, receiver.url + "/hook")
        with committed():
            pay(alice, main, savings)
        for _ in range(2):
            Delivery.objects.update(next_attempt_at=timezone.now())
            callbacks_sweep.call()
    assert set(Delivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.FAILED, 3)}


def test_a_target_failing_for_three_days_is_disabled_and_its_developer_told(shop, alice, committed):
    app, main, savings = shop
    application = app.connection.application
    Application.objects.filter(pk=application.pk).update(user=alice)
    with receiving(behaviour=Behaviour(status=500)) as receiver:
        subscribe(app, receiver.url + "/hook")
        NotificationFilter.objects.update(failing_since=timezone.now() - timedelta(days=3, seconds=1))
        with committed():
            pay(alice, main, savings)

    notification_filter = NotificationFilter.objects.get()
    assert notification_filter.disabled_at is not None
    assert app.get("/api/v1/notification-filters/").json()["results"] == []
    assert [m.subject for m in mail.outbox] == ["Demo Bank stopped calling your app"]
    assert "/developers/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action=AuditAction.NOTIFICATION_FILTER_DISABLED).exists()


def test_a_revoked_connection_hears_its_revocation_and_nothing_more(shop, alice, committed):
    app, main, savings = shop
    with receiving() as receiver:
        subscribe(app, receiver.url + "/connection", category="CONNECTION")
        subscribe(app, receiver.url + "/payments")
        with committed():
            connection_revoke(connection=app.connection, by="customer", actor=alice)
        with committed():
            pay(alice, main, savings)
        arrived = receiver.wait_for(2, timeout=1)

    assert [json.loads(call.body)["type"] for call in arrived] == ["connection.revoked"]
    assert arrived[0].path == "/connection"


# --- the developer's side ------------------------------------------------------------------------


def test_the_signing_secret_is_shown_once_and_kept_encrypted(alice):
    application = Application.objects.create(
        client_id="mine",
        client_secret="x" * 64,
        name="Mine",
        user=alice,
        redirect_uris="https://mine.example/cb",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
    )
    client = Client()
    client.force_login(alice)

    page = client.post(f"/developers/{application.pk}/signing-secret/").content.decode()

    secret = page.split('<code class="secret">')[1].split("</code>")[0]
    application.refresh_from_db()
    assert secret.startswith("whsec_") and secret not in application.signing_secret
    assert unseal(application.signing_secret) == secret
    assert secret not in client.get(f"/developers/{application.pk}/").content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.APPLICATION_SIGNING_SECRET_ROTATED).exists()


def test_a_developer_sees_the_deliveries_and_sends_one_again(shop, alice, bob, committed):
    app, main, savings = shop
    application = app.connection.application
    Application.objects.filter(pk=application.pk).update(user=alice)
    client = Client()
    client.force_login(alice)
    with receiving(behaviour=Behaviour(status=500)) as receiver:
        subscribe(app, receiver.url + "/hook")
        with committed():
            pay(alice, main, savings)
        page = client.get(f"/developers/{application.pk}/deliveries/").content.decode()
        assert "payment.created" in page and receiver.url in page and "HTTP 500" in page
        delivery = Delivery.objects.first()
        receiver.behaviour = Behaviour(status=204)
        with committed():
            answer = client.post(f"/developers/{application.pk}/deliveries/{delivery.pk}/resend/")
        assert answer.status_code == 303
        arrived = receiver.wait_for(3)

    assert arrived[-1].headers["webhook-id"] == delivery.webhook_id
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    intruder = Client()
    intruder.force_login(bob)
    assert intruder.get(f"/developers/{application.pk}/deliveries/").status_code == 404
    assert intruder.post(f"/developers/{application.pk}/deliveries/{delivery.pk}/resend/").status_code == 404


def test_every_payment_has_exactly_one_event(shop, alice):
    _, main, savings = shop
    for _ in range(3):
        pay(alice, main, savings)
    payments = set(Payment.objects.filter(monetary_account__in=[main, savings]).values_list("pk", flat=True))
    events = [e.subject_id for e in Event.objects.filter(type="payment.created")]
    assert sorted(events) == sorted(payments)
