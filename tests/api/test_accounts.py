"""/api/v1/monetary-accounts/ and /api/v1/me/."""

from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from bank.models import AuditEvent, CoOwner, CoOwnerStatus, MonetaryAccount
from connections.services.connections import connection_revoke
from tests.factories import main_and_savings, make_account

pytestmark = pytest.mark.django_db

EUR = "EUR"


def amount(value: str) -> dict[str, str]:
    return {"value": value, "currency": EUR}


def test_list_shows_exactly_the_shared_accounts_with_their_fields(alice, connect):
    main = make_account(alice, balance="120.50")
    make_account(alice, description="Not shared")
    app = connect(alice, scopes=["accounts:read"], accounts=[main])

    response = app.get("/api/v1/monetary-accounts/")

    assert response.status_code == 200
    assert response.json() == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": main.pk,
                "type": "BANK",
                "description": "Main",
                "iban": main.iban,
                "balance": amount("120.50"),
                "status": "ACTIVE",
                "savings_goal": None,
                "co_owners": [],
                "created": response.json()["results"][0]["created"],
            }
        ],
    }
    assert response.json()["results"][0]["created"].endswith("Z")  # ISO 8601, UTC


def test_detail_of_an_unshared_or_foreign_account_is_404(alice, bob, connect):
    shared = make_account(alice)
    unshared = make_account(alice, description="Private")
    bobs = make_account(bob)
    app = connect(alice, scopes=["accounts:read"], accounts=[shared])

    assert app.get(f"/api/v1/monetary-accounts/{shared.pk}/").status_code == 200
    for other in (unshared, bobs):
        response = app.get(f"/api/v1/monetary-accounts/{other.pk}/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"
    assert app.get("/api/v1/monetary-accounts/abc/").status_code == 404


def test_a_joint_account_shows_its_co_owners(alice, bob, connect):
    make_account(bob)
    joint = make_account(alice, type="JOINT", description="Household", co_owner_email="bob@example.com")
    app = connect(alice, scopes=["accounts:read"], accounts=[joint])

    body = app.get(f"/api/v1/monetary-accounts/{joint.pk}/").json()

    assert body["type"] == "JOINT"
    assert body["co_owners"] == [{"name": "Bob de Vries", "status": "PENDING"}]


def test_the_co_owner_sees_the_joint_account_once_accepted(alice, bob, connect):
    make_account(bob)
    joint = make_account(alice, type="JOINT", description="Household", co_owner_email="bob@example.com")
    CoOwner.objects.filter(account=joint).update(status=CoOwnerStatus.ACCEPTED)
    app = connect(bob, scopes=["accounts:read"], accounts=[joint])

    assert [a["id"] for a in app.get("/api/v1/monetary-accounts/").json()["results"]] == [joint.pk]

    # When the co-ownership ends, the shared account disappears from the app at once.
    CoOwner.objects.filter(account=joint).update(status=CoOwnerStatus.REVOKED)
    assert app.get("/api/v1/monetary-accounts/").json()["results"] == []
    assert app.get(f"/api/v1/monetary-accounts/{joint.pk}/").status_code == 404


def test_filters_by_type(alice, connect):
    main, savings = main_and_savings(alice)
    app = connect(alice, scopes=["accounts:read"], accounts=[main, savings])

    results = app.get("/api/v1/monetary-accounts/", type="SAVINGS").json()["results"]

    assert [a["id"] for a in results] == [savings.pk]
    assert app.get("/api/v1/monetary-accounts/", type="NOPE").status_code == 400


def test_create_a_savings_account_shares_it_with_the_app_and_audits(alice, connect):
    main = make_account(alice)
    app = connect(alice, scopes=["accounts:read", "accounts:create"], accounts=[main])

    response = app.post(
        "/api/v1/monetary-accounts/",
        {"type": "SAVINGS", "description": "Holiday", "savings_goal": amount("1500.00")},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "SAVINGS"
    assert body["savings_goal"] == amount("1500.00")
    assert body["balance"] == amount("0.00")
    account = MonetaryAccount.objects.get(pk=body["id"])
    assert account.owner == alice
    assert app.connection.accounts.filter(pk=account.pk).exists()
    assert app.get(f"/api/v1/monetary-accounts/{account.pk}/").status_code == 200
    event = AuditEvent.objects.get(action="account.opened", target_id=str(account.pk))
    assert event.connection == app.connection
    assert event.actor_type == "app"


def test_create_a_joint_account_invites_the_co_owner_by_email(alice, bob, connect):
    make_account(bob)
    app = connect(alice, scopes=["accounts:create"], accounts=[make_account(alice)])

    response = app.post(
        "/api/v1/monetary-accounts/",
        {"type": "JOINT", "description": "Household", "co_owner": {"type": "EMAIL", "value": "bob@example.com"}},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["co_owners"] == [{"name": "Bob de Vries", "status": "PENDING"}]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"type": "CHECKING", "description": "x"}, "type", "invalid_choice"),
        ({"type": "BANK"}, "description", "required"),
        ({"type": "BANK", "description": "x", "iban": "NL00"}, "iban", "read_only_field"),
        ({"type": "BANK", "description": "x", "balance": amount("1000000.00")}, "balance", "read_only_field"),
        ({"type": "BANK", "description": "x", "owner": 2}, "owner", "unknown_field"),
        (
            {"type": "BANK", "description": "x", "savings_goal": amount("10.00")},
            "savings_goal",
            "savings_goal_not_allowed",
        ),
        ({"type": "JOINT", "description": "x"}, "co_owner", "unknown_email"),
        (
            {
                "type": "JOINT",
                "description": "x",
                "co_owner": {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "y"},
            },
            "co_owner",
            "email_required",
        ),
    ],
)
def test_create_refuses_bad_input_with_field_errors(alice, connect, body, field, code):
    app = connect(alice, scopes=["accounts:create"], accounts=[make_account(alice)])

    response = app.post("/api/v1/monetary-accounts/", body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert MonetaryAccount.objects.filter(owner=alice).count() == 1


def test_each_action_needs_its_scope(alice, connect):
    main = make_account(alice)
    app = connect(alice, scopes=["payments:read"], accounts=[main])

    listing = app.get("/api/v1/monetary-accounts/")
    creating = app.post("/api/v1/monetary-accounts/", {"type": "BANK", "description": "x"})

    assert listing.status_code == 403
    assert listing["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="accounts:read"'
    assert listing.json()["code"] == "insufficient_scope"
    assert creating.status_code == 403
    assert creating["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="accounts:create"'
    assert MonetaryAccount.objects.count() == 1


@pytest.mark.postgres  # the token and the shared account ids in one query (ARRAY) on PostgreSQL
def test_list_and_detail_cost_at_most_three_queries(alice, bob, connect):
    make_account(bob)
    accounts = [make_account(alice, balance=Decimal(i), description=f"A{i}") for i in range(1, 6)]
    accounts.append(make_account(alice, type="JOINT", description="J", co_owner_email="bob@example.com"))
    app = connect(alice, scopes=["accounts:read"], accounts=accounts)
    # The first read of the minute records "last used" and the read for the activity page.
    app.get("/api/v1/monetary-accounts/")

    with CaptureQueriesContext(db_connection) as listing:
        assert app.get("/api/v1/monetary-accounts/").status_code == 200
    with CaptureQueriesContext(db_connection) as detail:
        assert app.get(f"/api/v1/monetary-accounts/{accounts[-1].pk}/").status_code == 200

    # The token with the shared account ids, the accounts, their co-owners (one prefetch).
    assert len(listing) == 3, [q["sql"] for q in listing]
    assert len(detail) == 3, [q["sql"] for q in detail]


def test_me_describes_the_customer_and_the_connection(alice, connect):
    main = make_account(alice)
    make_account(alice, description="Private")
    app = connect(alice, scopes=["payments:read", "accounts:read"], accounts=[main])

    response = app.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "display_name": "Alice Jansen",
        "scopes": ["accounts:read", "payments:read"],
        "account_ids": [main.pk],
        "expires_at": response.json()["expires_at"],
    }


def test_a_revoked_connection_is_401_on_the_next_request(alice, connect):
    app = connect(alice, scopes=["accounts:read"], accounts=[make_account(alice)])
    assert app.get("/api/v1/monetary-accounts/").status_code == 200

    connection_revoke(connection=app.connection, by="customer", actor=alice)
    response = app.get("/api/v1/monetary-accounts/")

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["code"] == "invalid_token"
