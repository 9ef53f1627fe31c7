"""/api/v1/monetary-accounts/{id}/payments/: list, detail, internal transfers."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from bank.models import AuditEvent, MonetaryAccount, Payment
from tests.factories import make_account, pay

pytestmark = pytest.mark.django_db


def amount(value: str) -> dict[str, str]:
    return {"value": value, "currency": "EUR"}


def to_iban(account: MonetaryAccount, name: str = "Me") -> dict[str, str]:
    return {"type": "IBAN", "value": account.iban, "name": name}


def transfer(customer, source, target, value: str, description: str = "") -> Payment:
    return pay(customer, source, value, {"type": "IBAN", "value": target.iban, "name": "x"}, description=description)


@pytest.fixture
def accounts(alice):
    return make_account(alice, balance="100.00"), make_account(alice, type="SAVINGS", description="Savings")


def test_list_is_newest_first_signed_with_balance_after(alice, accounts, connect):
    main, savings = accounts
    transfer(alice, main, savings, "30.00", "To savings")
    app = connect(alice, scopes=["payments:read"], accounts=[main, savings])

    body = app.get(f"/api/v1/monetary-accounts/{main.pk}/payments/").json()

    newest = Payment.objects.filter(monetary_account=main).order_by("-id")[0]
    assert body["next"] is None
    assert body["results"][0] == {
        "id": newest.pk,
        "monetary_account_id": main.pk,
        "amount": amount("-30.00"),
        "description": "To savings",
        "counterparty_alias": {"type": "IBAN", "value": savings.iban, "name": "Alice Jansen"},
        "balance_after_mutation": amount("70.00"),
        "created": body["results"][0]["created"],
    }
    assert body["results"][1]["amount"] == amount("100.00")  # the deposit
    other_side = app.get(f"/api/v1/monetary-accounts/{savings.pk}/payments/").json()["results"]
    assert [p["amount"] for p in other_side] == [amount("30.00")]


def test_detail_and_404s(alice, bob, accounts, connect):
    main, savings = accounts
    bobs = make_account(bob, balance="10.00")
    app = connect(alice, scopes=["payments:read"], accounts=[main])
    payment = Payment.objects.filter(monetary_account=main).latest("id")
    bobs_payment = Payment.objects.filter(monetary_account=bobs).latest("id")
    transfer(alice, main, savings, "5.00")
    savings_payment = Payment.objects.filter(monetary_account=savings).latest("id")

    assert app.get(f"/api/v1/monetary-accounts/{main.pk}/payments/{payment.pk}/").status_code == 200
    for path in (
        f"/api/v1/monetary-accounts/{bobs.pk}/payments/",  # another customer's account
        f"/api/v1/monetary-accounts/{bobs.pk}/payments/{bobs_payment.pk}/",
        f"/api/v1/monetary-accounts/{main.pk}/payments/{bobs_payment.pk}/",  # another's payment under mine
        f"/api/v1/monetary-accounts/{savings.pk}/payments/",  # own account, not shared
        f"/api/v1/monetary-accounts/{savings.pk}/payments/{savings_payment.pk}/",
        f"/api/v1/monetary-accounts/{main.pk}/payments/{savings_payment.pk}/",
        "/api/v1/monetary-accounts/999999/payments/",
    ):
        assert app.get(path).status_code == 404, path


def test_an_empty_shared_account_lists_nothing(alice, connect):
    empty = make_account(alice)
    app = connect(alice, scopes=["payments:read"], accounts=[empty])

    response = app.get(f"/api/v1/monetary-accounts/{empty.pk}/payments/")

    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


def test_cursor_pages_are_stable_while_payments_arrive(alice, accounts, connect):
    main, savings = accounts
    for i in range(5):
        transfer(alice, main, savings, "1.00", f"p{i}")
    app = connect(alice, scopes=["payments:read"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"

    first = app.get(path, page_size=2).json()
    transfer(alice, main, savings, "1.00", "arrived meanwhile")
    cursor = parse_qs(urlsplit(first["next"]).query)["cursor"][0]
    second = app.get(path, page_size=2, cursor=cursor).json()
    cursor = parse_qs(urlsplit(second["next"]).query)["cursor"][0]
    third = app.get(path, page_size=2, cursor=cursor).json()

    seen = [p["description"] for page in (first, second, third) for p in page["results"]]
    assert seen == ["p4", "p3", "p2", "p1", "p0", "Test deposit"]
    assert third["next"] is None
    assert second["previous"] is not None


@pytest.mark.parametrize("page_size", ["0", "201", "abc", "-1"])
def test_page_size_outside_1_to_200_is_400(alice, accounts, connect, page_size):
    app = connect(alice, scopes=["payments:read"], accounts=[accounts[0]])

    response = app.get(f"/api/v1/monetary-accounts/{accounts[0].pk}/payments/", page_size=page_size)

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page_size"


def test_filters_by_date_amount_and_direction(alice, accounts, connect):
    main, savings = accounts
    transfer(alice, main, savings, "5.00", "small")
    transfer(alice, main, savings, "50.00", "big")
    app = connect(alice, scopes=["payments:read"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"

    def descriptions(**params):
        response = app.get(path, **params)
        assert response.status_code == 200, response.json()
        return [p["description"] for p in response.json()["results"]]

    assert descriptions(direction="OUT") == ["big", "small"]
    assert descriptions(direction="IN") == ["Test deposit"]
    assert descriptions(amount_min="-10", amount_max="-1") == ["small"]
    big = Payment.objects.get(monetary_account=main, description="big")
    assert descriptions(created_after=big.created.isoformat()) == ["big"]
    assert descriptions(created_before=big.created.isoformat()) == ["small", "Test deposit"]
    assert app.get(path, created_after="yesterday").status_code == 400
    # Offsets beyond what the database takes are compared in UTC; times before year 1 UTC are bad input.
    assert descriptions(created_after="2000-01-01T00:00:00+16:24") == ["big", "small", "Test deposit"]
    out_of_range = app.get(path, created_before="0001-01-01T00:00:00+05:00")
    assert out_of_range.status_code == 400
    assert out_of_range.json()["errors"][0]["field"] == "created_before"


@pytest.mark.postgres  # the token and the shared account ids in one query (ARRAY) on PostgreSQL
def test_list_costs_two_queries_however_many_rows(alice, accounts, connect):
    main, savings = accounts
    app = connect(alice, scopes=["payments:read"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    app.get(path)  # the first read of the minute is recorded
    counts = []
    for _ in range(2):
        for _ in range(10):
            transfer(alice, main, savings, "1.00")
        with CaptureQueriesContext(db_connection) as queries:
            assert app.get(path).status_code == 200
        counts.append(len(queries))
    payment = Payment.objects.filter(monetary_account=main).latest("id")
    with CaptureQueriesContext(db_connection) as detail:
        app.get(f"{path}{payment.pk}/")

    # The token (with the connection's shared account ids) and the page; a detail, the token and the row.
    assert counts == [2, 2], [q["sql"] for q in queries]
    assert len(detail) == 2, [q["sql"] for q in detail]
    assert not any("COUNT(" in q["sql"].upper() for q in queries)
    # An empty page needs no further query to tell "no payments yet" from "no such account".
    with CaptureQueriesContext(db_connection) as empty:
        assert app.get(f"{path}?created_after=2999-01-01T00:00:00Z").json()["results"] == []
    assert len(empty) == 2


# --- Creating: payments:internal ------------------------------------------------------------


def test_transfer_between_own_shared_accounts(alice, accounts, connect):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        {"amount": amount("25.00"), "counterparty_alias": to_iban(savings), "description": "Round-up"},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["amount"] == amount("-25.00")
    assert body["balance_after_mutation"] == amount("75.00")
    assert body["monetary_account_id"] == main.pk
    main.refresh_from_db()
    savings.refresh_from_db()
    assert (main.balance, savings.balance) == (Decimal("75.00"), Decimal("25.00"))
    event = AuditEvent.objects.get(action="payment.created")
    assert event.connection == app.connection and event.application == app.connection.application


def test_transfer_to_a_joint_account_the_customer_co_owns(alice, bob, accounts, connect):
    make_account(bob)
    main, _ = accounts
    joint = make_account(bob, type="JOINT", description="Shared", co_owner_email="alice@example.com")
    from bank.models import CoOwner, CoOwnerStatus

    CoOwner.objects.filter(account=joint).update(status=CoOwnerStatus.ACCEPTED)
    app = connect(alice, scopes=["payments:internal"], accounts=[main, joint])

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        {"amount": amount("10.00"), "counterparty_alias": to_iban(joint)},
    )

    assert response.status_code == 201, response.json()


def test_paying_someone_else_is_403_use_draft_payment(alice, bob, accounts, connect):
    main, savings = accounts
    make_account(bob)
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])

    for pointer in (
        {"type": "EMAIL", "value": "bob@example.com"},
        {"type": "IBAN", "value": "DE89370400440532013000", "name": "Shop"},
    ):
        response = app.post(
            f"/api/v1/monetary-accounts/{main.pk}/payments/", {"amount": amount("1.00"), "counterparty_alias": pointer}
        )
        assert response.status_code == 403
        assert response.json()["code"] == "use_draft_payment"
    assert Payment.objects.filter(monetary_account=main).count() == 1


def test_paying_an_own_account_that_is_not_shared_is_refused(alice, accounts, connect):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main])

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        {"amount": amount("1.00"), "counterparty_alias": to_iban(savings)},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "account_not_shared"


def test_paying_from_an_unshared_or_foreign_account_is_404(alice, bob, accounts, connect):
    main, savings = accounts
    bobs = make_account(bob, balance="50.00")
    app = connect(alice, scopes=["payments:internal"], accounts=[savings])

    for source in (main, bobs):
        response = app.post(
            f"/api/v1/monetary-accounts/{source.pk}/payments/",
            {"amount": amount("1.00"), "counterparty_alias": to_iban(savings)},
        )
        assert response.status_code == 404
    assert Payment.objects.count() == 2  # the two deposits


def test_insufficient_funds_is_422_and_moves_nothing(alice, accounts, connect):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        {"amount": amount("100.01"), "counterparty_alias": to_iban(savings)},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_funds"
    main.refresh_from_db()
    assert main.balance == Decimal("100.00")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (12.5, "not_a_string"),
        (12, "not_a_string"),
        ("12.5", "format"),
        ("12.500", "format"),
        ("1e3", "format"),
        ("NaN", "format"),
        ("Infinity", "format"),
        ("-1.00", "format"),
        ("+1.00", "format"),
        ("0.00", "not_positive"),
        ("01.00", "format"),
        (" 1.00", "format"),
        (None, "not_a_string"),
    ],
)
def test_amounts_are_strings_with_two_decimals_and_positive(alice, accounts, connect, value, code):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        {"amount": {"value": value, "currency": "EUR"}, "counterparty_alias": to_iban(savings)},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "amount", "code": code, "detail": response.json()["errors"][0]["detail"]}
    ]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"amount": {"value": "1.00", "currency": "USD"}}, "amount", "currency"),
        ({"amount": "1.00"}, "amount", "invalid"),
        ({"amount": {"value": "1.00"}}, "amount", "invalid"),
        (
            {"counterparty_alias": {"type": "IBAN", "value": "NL00BANK0000000000", "name": "x"}},
            "counterparty_alias.value",
            "invalid_iban",
        ),
        (
            {"counterparty_alias": {"type": "IBAN", "value": "DE89370400440532013000"}},
            "counterparty_alias.name",
            "required",
        ),
        ({"counterparty_alias": {"type": "PHONE", "value": "123"}}, "counterparty_alias.type", "invalid_choice"),
        (
            {"counterparty_alias": {"type": "EMAIL", "value": "nobody@example.com"}},
            "counterparty_alias.value",
            "unknown_email",
        ),
        (
            {"counterparty_alias": {"type": "EMAIL", "value": "x", "extra": 1}},
            "counterparty_alias.extra",
            "unknown_field",
        ),
        ({"description": "x" * 141}, "description", "max_length"),
        ({"id": 5}, "id", "read_only_field"),
        ({"balance_after_mutation": amount("1.00")}, "balance_after_mutation", "read_only_field"),
        ({"monetary_account_id": 5}, "monetary_account_id", "read_only_field"),
        ({"sneaky": True}, "sneaky", "unknown_field"),
    ],
)
def test_bad_payment_input_is_400_with_the_field(alice, accounts, connect, body, field, code):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])
    request = {"amount": amount("1.00"), "counterparty_alias": to_iban(savings), **body}

    response = app.post(f"/api/v1/monetary-accounts/{main.pk}/payments/", request)

    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert (field, code) in [(e["field"], e["code"]) for e in response.json()["errors"]]
    assert Payment.objects.filter(monetary_account=main).count() == 1


def test_an_iban_is_normalised(alice, accounts, connect):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])
    spaced = " ".join(savings.iban[i : i + 4] for i in range(0, len(savings.iban), 4)).lower()

    response = app.post(
        f"/api/v1/monetary-accounts/{main.pk}/payments/",
        {"amount": amount("1.00"), "counterparty_alias": {"type": "IBAN", "value": spaced, "name": "Me"}},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["counterparty_alias"]["value"] == savings.iban


def test_body_that_is_not_json_or_not_an_object_is_400(alice, accounts, connect):
    main, _ = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main])
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"

    assert app.client.post(path, "{not json", content_type="application/json").status_code == 400
    assert app.client.post(path, '{"amount": NaN}', content_type="application/json").status_code == 400
    assert app.post(path, [1, 2]).status_code == 400
    assert app.client.post(path, "a=b", content_type="application/x-www-form-urlencoded").status_code == 415


def test_read_scope_cannot_create_and_internal_cannot_read(alice, accounts, connect):
    main, savings = accounts
    reader = connect(alice, scopes=["payments:read"], accounts=[main, savings], app="reader")
    mover = connect(alice, scopes=["payments:internal"], accounts=[main, savings], app="mover")
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"

    refused = reader.post(path, {"amount": amount("1.00"), "counterparty_alias": to_iban(savings)})
    assert refused.status_code == 403
    assert refused["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="payments:internal"'
    assert mover.get(path).status_code == 403
    assert mover.get(path)["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="payments:read"'


def test_create_costs_a_fixed_number_of_queries(alice, accounts, connect):
    main, savings = accounts
    app = connect(alice, scopes=["payments:internal"], accounts=[main, savings])
    app.get("/api/v1/me/")
    path = f"/api/v1/monetary-accounts/{main.pk}/payments/"
    body = {"amount": amount("1.00"), "counterparty_alias": to_iban(savings)}
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(db_connection) as queries:
            assert app.post(path, body).status_code == 201
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 20, [q["sql"] for q in queries]
