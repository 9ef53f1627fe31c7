"""/request-inquiries/ (sent) and /request-responses/ (received, read only)."""

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from bank.models import RequestInquiry, RequestResponse, RequestStatus
from tests.factories import make_account

pytestmark = pytest.mark.django_db


def amount(value: str) -> dict[str, str]:
    return {"value": value, "currency": "EUR"}


@pytest.fixture
def accounts(alice, bob):
    return make_account(alice), make_account(bob, balance="50.00")


def ask_bob(app, account, value="24.00"):
    return app.post(
        f"/api/v1/monetary-accounts/{account.pk}/request-inquiries/",
        {
            "amount": amount(value),
            "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"},
            "description": "Dinner",
        },
    )


def test_send_a_request_and_the_payer_sees_it(alice, bob, accounts, connect):
    mine, bobs = accounts
    app = connect(alice, scopes=["request_inquiries:write", "request_inquiries:read"], accounts=[mine])

    response = ask_bob(app, mine)

    assert response.status_code == 201, response.json()
    inquiry = RequestInquiry.objects.get()
    assert response.json() == {
        "id": inquiry.pk,
        "monetary_account_id": mine.pk,
        "amount": amount("24.00"),
        "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com", "name": "Bob de Vries"},
        "description": "Dinner",
        "status": "PENDING",
        "created": response.json()["created"],
    }
    bobs_app = connect(bob, scopes=["request_responses:read"], accounts=[bobs], app="bobs")
    received = bobs_app.get(f"/api/v1/monetary-accounts/{bobs.pk}/request-responses/").json()["results"]
    assert received == [
        {
            "id": inquiry.response.pk,
            "monetary_account_id": bobs.pk,
            "amount": amount("24.00"),
            "counterparty_alias": {"type": "IBAN", "value": mine.iban, "name": "Alice Jansen"},
            "description": "Dinner",
            "status": "PENDING",
            "created": received[0]["created"],
        }
    ]


def test_revoke_a_pending_request(alice, accounts, connect):
    mine, _ = accounts
    app = connect(alice, scopes=["request_inquiries:write"], accounts=[mine])
    inquiry_id = ask_bob(app, mine).json()["id"]
    path = f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/{inquiry_id}/"

    response = app.patch(path, {"status": "REVOKED"})

    assert response.status_code == 200
    assert response.json()["status"] == "REVOKED"
    assert RequestResponse.objects.get().status == RequestStatus.REVOKED
    assert app.patch(path, {"status": "REVOKED"}).status_code == 409
    assert app.patch(path, {"status": "ACCEPTED"}).status_code == 400


def test_an_app_cannot_answer_a_request(alice, bob, accounts, connect):
    mine, bobs = accounts
    ask_bob(connect(alice, scopes=["request_inquiries:write"], accounts=[mine]), mine)
    response_id = RequestResponse.objects.get().pk
    bobs_app = connect(bob, accounts=[bobs], app="bobs")  # every scope there is
    path = f"/api/v1/monetary-accounts/{bobs.pk}/request-responses/{response_id}/"

    assert bobs_app.get(path).status_code == 200
    for method in ("patch", "put", "delete"):
        assert getattr(bobs_app.client, method)(path, {"status": "ACCEPTED"}, format="json").status_code == 405
    assert bobs_app.client.post(path[: path.rindex(str(response_id))], {}, format="json").status_code == 405
    assert RequestResponse.objects.get().status == RequestStatus.PENDING


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {"counterparty_alias": {"type": "EMAIL", "value": "alice@example.com"}},
            "counterparty_alias",
            "request_to_self",
        ),
        ({"amount": amount("0.00")}, "amount", "not_positive"),
        ({"status": "ACCEPTED"}, "status", "read_only_field"),
    ],
)
def test_bad_requests_are_400(alice, accounts, connect, body, field, code):
    mine, _ = accounts
    app = connect(alice, scopes=["request_inquiries:write"], accounts=[mine])
    request = {"amount": amount("1.00"), "counterparty_alias": {"type": "EMAIL", "value": "bob@example.com"}, **body}

    response = app.post(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/", request)

    assert response.status_code == 400, response.json()
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert not RequestInquiry.objects.exists()


def test_scopes_and_ownership(alice, bob, accounts, connect):
    mine, bobs = accounts
    writer = connect(alice, scopes=["request_inquiries:write"], accounts=[mine])
    inquiry_id = ask_bob(writer, mine).json()["id"]
    reader = connect(alice, scopes=["request_responses:read"], accounts=[mine], app="reader")

    refused = reader.get(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/")
    assert refused.status_code == 403
    assert refused["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="request_inquiries:read"'
    assert writer.get(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/{inquiry_id}/").status_code == 403
    snoop = connect(bob, scopes=["request_inquiries:read", "request_inquiries:write"], accounts=[bobs], app="snoop")
    assert snoop.get(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/{inquiry_id}/").status_code == 404
    assert snoop.get(f"/api/v1/monetary-accounts/{bobs.pk}/request-inquiries/{inquiry_id}/").status_code == 404
    assert (
        snoop.patch(
            f"/api/v1/monetary-accounts/{bobs.pk}/request-inquiries/{inquiry_id}/", {"status": "REVOKED"}
        ).status_code
        == 404
    )


def test_reads_cost_at_most_three_queries(alice, bob, accounts, connect):
    mine, bobs = accounts
    writer = connect(alice, scopes=["request_inquiries:write", "request_inquiries:read"], accounts=[mine])
    for value in ("1.00", "2.00", "3.00"):
        ask_bob(writer, mine, value)
    bobs_app = connect(bob, scopes=["request_responses:read"], accounts=[bobs], app="bobs")
    writer.get(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/")  # the first read of the minute is recorded
    bobs_app.get(f"/api/v1/monetary-accounts/{bobs.pk}/request-responses/")

    with CaptureQueriesContext(db_connection) as sent:
        assert len(writer.get(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/").json()["results"]) == 3
    with CaptureQueriesContext(db_connection) as received:
        assert len(bobs_app.get(f"/api/v1/monetary-accounts/{bobs.pk}/request-responses/").json()["results"]) == 3

    assert len(sent) <= 3 and len(received) <= 3


def test_requests_filter_by_status(alice, accounts, connect):
    mine, _ = accounts
    app = connect(alice, scopes=["request_inquiries:write", "request_inquiries:read"], accounts=[mine])
    kept = ask_bob(app, mine, "1.00").json()["id"]
    revoked = ask_bob(app, mine, "2.00").json()["id"]
    app.patch(f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/{revoked}/", {"status": "REVOKED"})
    path = f"/api/v1/monetary-accounts/{mine.pk}/request-inquiries/"

    assert [r["id"] for r in app.get(path, status="PENDING").json()["results"]] == [kept]
    assert [r["id"] for r in app.get(path, status="REVOKED").json()["results"]] == [revoked]
    assert app.get(path, status="LOST").status_code == 400
