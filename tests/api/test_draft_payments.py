"""/api/v1/monetary-accounts/{id}/draft-payments/: an app prepares, only the customer approves."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bank.models import DraftPayment, DraftStatus, Payment
from bank.services.drafts import draft_payment_accept, draft_payment_reject
from tests.factories import make_account

pytestmark = pytest.mark.django_db

SHOP = {"type": "IBAN", "value": "DE89370400440532013000", "name": "Shop"}


def amount(value: str) -> dict[str, str]:
    return {"value": value, "currency": "EUR"}


def entry(value: str = "10.00", pointer: dict | None = None, description: str = "") -> dict:
    return {"amount": amount(value), "counterparty_alias": pointer or SHOP, "description": description}


@pytest.fixture
def main(alice, bob):
    make_account(bob)
    return make_account(alice, balance="100.00")


def test_create_a_draft_with_entries_pays_nothing(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main])

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/draft-payments/",
        {
            "entries": [
                entry("10.00", description="Groceries"),
                entry("5.50", {"type": "EMAIL", "value": "bob@example.com"}),
            ]
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    draft = DraftPayment.objects.get(pk=body["id"])
    assert body == {
        "id": draft.pk,
        "monetary_account_id": main.pk,
        "status": "PENDING",
        "entries": [
            {"amount": amount("10.00"), "counterparty_alias": SHOP, "description": "Groceries"},
            {
                "amount": amount("5.50"),
                "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com", "name": "Bob de Vries"},
                "description": "",
            },
        ],
        "payment_ids": [],
        "reason": "",
        "expires_at": body["expires_at"],
        "created": body["created"],
        "updated": body["updated"],
    }
    assert draft.application == app.connection.application
    assert Payment.objects.filter(monetary_account=main).count() == 1  # only the deposit


def test_after_the_customer_accepts_the_app_sees_the_payment_ids(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main])
    draft_id = app.post(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/", {"entries": [entry()]}).json()["id"]

    draft_payment_accept(draft_id=draft_id, customer=alice)
    body = app.get(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/{draft_id}/").json()

    assert body["status"] == "ACCEPTED"
    assert body["payment_ids"] == [Payment.objects.get(monetary_account=main, amount=Decimal("-10.00")).pk]


def test_the_app_reads_the_customers_reason_for_rejecting(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main])
    draft_id = app.post(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/", {"entries": [entry()]}).json()["id"]

    draft_payment_reject(draft_id=draft_id, customer=alice, reason="Not this month")
    body = app.get(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/{draft_id}/").json()

    assert (body["status"], body["reason"]) == ("REJECTED", "Not this month")


def test_an_unanswered_draft_shows_expired_after_its_lifetime(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/draft-payments/"
    draft_id = app.post(path, {"entries": [entry()]}).json()["id"]
    DraftPayment.objects.filter(pk=draft_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert app.get(f"{path}{draft_id}/").json()["status"] == "EXPIRED"
    assert [d["id"] for d in app.get(path, status="EXPIRED").json()["results"]] == [draft_id]
    assert app.get(path, status="PENDING").json()["results"] == []


def test_an_app_sees_only_the_drafts_it_prepared(alice, main, connect):
    budget = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main], app="budget")
    other = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main], app="other")
    path = f"/api/v1/monetary-accounts/{main.pk}/draft-payments/"
    mine = budget.post(path, {"entries": [entry()]}).json()["id"]
    theirs = other.post(path, {"entries": [entry()]}).json()["id"]

    assert [d["id"] for d in budget.get(path).json()["results"]] == [mine]
    assert budget.get(f"{path}{theirs}/").status_code == 404
    assert budget.patch(f"{path}{theirs}/", {"status": "CANCELLED"}).status_code == 404
    assert DraftPayment.objects.get(pk=theirs).status == DraftStatus.PENDING


def test_the_app_can_cancel_its_pending_draft(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/draft-payments/"
    draft_id = app.post(path, {"entries": [entry()]}).json()["id"]

    response = app.patch(f"{path}{draft_id}/", {"status": "CANCELLED", "reason": "User changed plans"})

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["reason"]) == ("CANCELLED", "User changed plans")
    again = app.patch(f"{path}{draft_id}/", {"status": "CANCELLED"})
    assert again.status_code == 409
    assert again.json()["code"] == "draft_cancelled"


@pytest.mark.parametrize("status", ["ACCEPTED", "REJECTED"])
def test_an_app_can_never_accept_or_reject(alice, main, connect, status):
    app = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/draft-payments/"
    draft_id = app.post(path, {"entries": [entry()]}).json()["id"]

    response = app.patch(f"{path}{draft_id}/", {"status": status})

    assert response.status_code == 403
    assert response.json()["code"] == "customer_only"
    assert DraftPayment.objects.get(pk=draft_id).status == DraftStatus.PENDING
    assert Payment.objects.filter(monetary_account=main).count() == 1


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"entries": []}, "entries", "min_length"),
        ({"entries": [entry()] * 26}, "entries", "max_length"),
        ({}, "entries", "required"),
        ({"entries": [entry("0.00")]}, "entries.0.amount", "not_positive"),
        ({"entries": [entry(), {**entry(), "extra": 1}]}, "entries.1.extra", "unknown_field"),
        (
            {"entries": [entry(pointer={"type": "EMAIL", "value": "nobody@example.com"})]},
            "entries.0.counterparty_alias.value",
            "unknown_email",
        ),
        ({"entries": [entry()], "status": "ACCEPTED"}, "status", "read_only_field"),
        ({"entries": [entry()], "payment_ids": [1]}, "payment_ids", "read_only_field"),
    ],
)
def test_bad_drafts_are_400(alice, main, connect, body, field, code):
    app = connect(alice, scopes=["draft_payments:write"], accounts=[main])

    response = app.post(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/", body)

    assert response.status_code == 400, response.json()
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert not DraftPayment.objects.exists()


def test_twenty_five_entries_are_allowed(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write"], accounts=[main])

    response = app.post(f"/api/v1/monetary-accounts/{main.pk}/draft-payments/", {"entries": [entry("1.00")] * 25})

    assert response.status_code == 201
    assert len(response.json()["entries"]) == 25


def test_scopes_and_accounts(alice, bob, main, connect):
    savings = make_account(alice, type="SAVINGS", description="Savings")
    reader = connect(alice, scopes=["draft_payments:read"], accounts=[main], app="reader")
    path = f"/api/v1/monetary-accounts/{main.pk}/draft-payments/"

    refused = reader.post(path, {"entries": [entry()]})
    assert refused.status_code == 403
    assert refused["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="draft_payments:write"'
    writer = connect(alice, scopes=["draft_payments:write"], accounts=[main], app="writer")
    assert writer.get(path).status_code == 403
    assert (
        writer.post(f"/api/v1/monetary-accounts/{savings.pk}/draft-payments/", {"entries": [entry()]}).status_code
        == 404
    )
    bobs = bob.owned_accounts.get()
    assert (
        writer.post(f"/api/v1/monetary-accounts/{bobs.pk}/draft-payments/", {"entries": [entry()]}).status_code == 404
    )


@pytest.mark.postgres  # the token and the shared account ids in one query (ARRAY) on PostgreSQL
def test_list_costs_at_most_three_queries_however_many_drafts_and_entries(alice, main, connect):
    app = connect(alice, scopes=["draft_payments:write", "draft_payments:read"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/draft-payments/"
    app.get(path)  # the first read of the minute is recorded
    counts = []
    for size in (1, 5):
        for _ in range(3):
            app.post(path, {"entries": [entry("1.00")] * size})
        with CaptureQueriesContext(db_connection) as queries:
            assert app.get(path).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 3, [q["sql"] for q in queries]
