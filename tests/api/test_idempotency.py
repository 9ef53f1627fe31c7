"""Idempotency-Key on creating POSTs: replay, 422 on another body, 409 while running, per connection."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from bank.api.idempotency import LEASE
from bank.models import DraftPayment, IdempotencyKey, Payment
from tests.concurrency import at_once
from tests.factories import main_and_savings, make_account, transfer_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(alice, connect):
    main, savings = main_and_savings(alice, "100.00")
    app = connect(
        alice, scopes=["payments:internal", "payments:read", "draft_payments:write"], accounts=[main, savings]
    )
    return app, main, savings, f"/api/v1/monetary-accounts/{main.pk}/payments/"


def test_same_key_and_body_replays_the_first_response_and_pays_once(setup):
    app, main, savings, path = setup

    first = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})
    second = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-10.00")).count() == 1
    main.refresh_from_db()
    assert main.balance == Decimal("90.00")


def test_same_key_with_another_body_or_path_is_422(setup):
    app, main, savings, path = setup
    app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})

    other_body = app.post(path, transfer_body("11.00", savings), **{"Idempotency-Key": "k-1"})
    other_path = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/draft-payments/",
        {"entries": [transfer_body("10.00", savings)]},
        **{"Idempotency-Key": "k-1"},
    )

    assert other_body.status_code == other_path.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    assert not DraftPayment.objects.exists()
    assert Payment.objects.filter(monetary_account=main).count() == 2


def test_a_key_still_running_is_409(setup):
    app, _main, savings, path = setup
    # Another process has claimed the key and is still working on it.
    first = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})
    IdempotencyKey.objects.filter(key="k-1").update(state=IdempotencyKey.State.IN_PROGRESS, response_body="")

    response = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})

    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"


def test_a_claim_that_outlived_its_lease_is_taken_over(setup):
    """A request that died before committing left only its claim; nothing was paid."""
    app, _main, savings, path = setup
    IdempotencyKey.objects.create(
        connection=app.connection, key="k-1", fingerprint="x" * 64, created=timezone.now() - LEASE
    )
    stale = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})
    assert stale.status_code == 422  # another body: still refused

    IdempotencyKey.objects.all().delete()
    app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-2"})
    IdempotencyKey.objects.filter(key="k-2").update(
        state=IdempotencyKey.State.IN_PROGRESS, created=timezone.now() - LEASE - timedelta(seconds=1)
    )
    # (Here the row is IN_PROGRESS only because the test says so; in real life the money would not
    # have moved. Taking over is what matters.)
    taken = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-2"})
    assert taken.status_code == 201
    assert IdempotencyKey.objects.get(key="k-2").state == IdempotencyKey.State.DONE


def test_after_24_hours_the_key_is_new_again(setup):
    app, main, savings, path = setup
    app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})
    IdempotencyKey.objects.update(created=timezone.now() - settings.IDEMPOTENCY_KEY_RETENTION - timedelta(seconds=1))

    response = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "k-1"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-10.00")).count() == 2


def test_a_failed_request_releases_its_key(setup):
    app, _main, savings, path = setup

    refused = app.post(path, transfer_body("500.00", savings), **{"Idempotency-Key": "k-1"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "insufficient_funds"
    assert not IdempotencyKey.objects.exists()

    corrected = app.post(path, transfer_body("50.00", savings), **{"Idempotency-Key": "k-1"})
    assert corrected.status_code == 201


def test_keys_are_scoped_to_the_connection(alice, setup, connect):
    app, main, savings, path = setup
    other = connect(alice, scopes=["payments:internal"], accounts=[main, savings], app="other")

    first = app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "shared"})
    second = other.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "shared"})

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-10.00")).count() == 2


@pytest.mark.parametrize("key", ["", "x" * 65, "with space", "tab\t", "ünïcode"])
def test_a_malformed_key_is_400(setup, key):
    app, main, savings, path = setup

    response = app.client.post(path, transfer_body("1.00", savings), format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Payment.objects.filter(monetary_account=main).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_key_from_many_threads_pays_once(setup):
    app, main, savings, path = setup
    statuses, _ = at_once(
        8, lambda _: app.post(path, transfer_body("10.00", savings), **{"Idempotency-Key": "race"}).status_code
    )

    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-10.00")).count() == 1
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}
    main.refresh_from_db()
    assert main.balance == Decimal("90.00")


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/monetary-accounts/", lambda main: {"type": "BANK", "description": "Bills"}),
        (
            "/api/v1/monetary-accounts/{main}/draft-payments/",
            lambda main: {
                "entries": [
                    {
                        "amount": {"value": "5.00", "currency": "EUR"},
                        "counterparty_alias": {"type": "IBAN", "value": "DE89370400440532013000", "name": "Shop"},
                    }
                ]
            },
        ),
        ("/api/v1/cards/", lambda main: {"type": "VIRTUAL", "name_on_card": "Alice", "primary_account_id": main}),
        (
            "/api/v1/monetary-accounts/{main}/request-inquiries/",
            lambda main: {
                "amount": {"value": "5.00", "currency": "EUR"},
                "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"},
            },
        ),
    ],
)
def test_every_creating_endpoint_replays_instead_of_creating_twice(alice, bob, connect, path, payload):
    make_account(bob)
    main = make_account(alice, balance="10.00")
    app = connect(alice, accounts=[main])
    url = path.format(main=main.pk)

    first = app.post(url, payload(main.pk), **{"Idempotency-Key": "once"})
    second = app.post(url, payload(main.pk), **{"Idempotency-Key": "once"})
    different = app.post(url, {**payload(main.pk), "description": "other"}, **{"Idempotency-Key": "once"})

    assert first.status_code == 201, first.json()
    assert (second.status_code, second.content) == (201, first.content)
    assert different.status_code == 422  # another body under the same key, valid or not
    listing = app.get(url) if "cards" in url or "{main}" in path else app.get("/api/v1/monetary-accounts/")
    assert sum(1 for row in listing.json()["results"] if row["id"] == first.json()["id"]) == 1
    assert len(listing.json()["results"]) == (2 if url == "/api/v1/monetary-accounts/" else 1)
