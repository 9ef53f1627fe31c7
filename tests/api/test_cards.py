"""/api/v1/cards/: read with any cards scope; link, manage and order each with their own."""

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from bank.models import AuditEvent, Card, CardStatus
from bank.services.cards import card_order
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(alice):
    main = make_account(alice, balance="10.00")
    other = make_account(alice, description="Second")
    card = card_order(customer=alice, type="DEBIT", name_on_card="Alice Jansen", primary_account=main, actor=alice)
    Card.objects.filter(pk=card.pk).update(status=CardStatus.ACTIVE)
    card.refresh_from_db()
    return main, other, card


@pytest.mark.parametrize("scope", ["cards:link", "cards:order", "cards:manage"])
def test_any_cards_scope_reads_cards(alice, setup, connect, scope):
    main, other, card = setup
    app = connect(alice, scopes=[scope], accounts=[main, other])

    body = app.get("/api/v1/cards/").json()

    assert body["results"] == [
        {
            "id": card.pk,
            "type": "DEBIT",
            "status": "ACTIVE",
            "name_on_card": "ALICE JANSEN",
            "last_four": card.last_four,
            "expiry_date": card.expiry_date.isoformat(),
            "primary_account_id": main.pk,
            "secondary_account_id": None,
            "limits": {"value": "1000.00", "currency": "EUR"},
            "created": body["results"][0]["created"],
        }
    ]
    assert len(card.last_four) == 4


def test_without_a_cards_scope_reading_is_403(alice, setup, connect):
    main, _other, card = setup
    app = connect(alice, scopes=["accounts:read"], accounts=[main])

    response = app.get(f"/api/v1/cards/{card.pk}/")

    assert response.status_code == 403
    assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="cards:link"'
    assert "cards:order" in response.json()["detail"] and "cards:manage" in response.json()["detail"]


def test_cards_on_unshared_accounts_and_other_customers_cards_are_404(alice, bob, setup, connect):
    _main, other, card = setup
    bobs_card = card_order(
        customer=bob, type="VIRTUAL", name_on_card="Bob", primary_account=make_account(bob), actor=bob
    )
    app = connect(alice, scopes=["cards:manage"], accounts=[other])

    assert app.get("/api/v1/cards/").json()["results"] == []
    for target in (card, bobs_card):
        assert app.get(f"/api/v1/cards/{target.pk}/").status_code == 404
        assert app.patch(f"/api/v1/cards/{target.pk}/", {"status": "FROZEN"}).status_code == 404
    assert Card.objects.get(pk=card.pk).status == CardStatus.ACTIVE


def test_link_moves_the_primary_account(alice, setup, connect):
    main, other, card = setup
    app = connect(alice, scopes=["cards:link"], accounts=[main, other])

    response = app.patch(f"/api/v1/cards/{card.pk}/", {"primary_account_id": other.pk})

    assert response.status_code == 200, response.json()
    assert response.json()["primary_account_id"] == other.pk
    assert AuditEvent.objects.filter(action="card.updated", connection=app.connection).exists()


def test_link_refuses_an_unshared_account(alice, setup, connect):
    main, other, card = setup
    app = connect(alice, scopes=["cards:link"], accounts=[main])

    response = app.patch(f"/api/v1/cards/{card.pk}/", {"primary_account_id": other.pk})

    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "primary_account_id",
        "code": "account_not_found",
        "detail": "No such account is shared with this app.",
    }


@pytest.mark.parametrize("body", [{"status": "FROZEN"}, {"limits": {"value": "50.00", "currency": "EUR"}}])
def test_link_cannot_change_status_or_limits(alice, setup, connect, body):
    main, other, card = setup
    app = connect(alice, scopes=["cards:link"], accounts=[main, other])

    response = app.patch(f"/api/v1/cards/{card.pk}/", {"primary_account_id": other.pk, **body})

    assert response.status_code == 403
    assert response["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="cards:manage"'
    card.refresh_from_db()
    assert (card.status, card.primary_account_id) == (CardStatus.ACTIVE, main.pk)


@pytest.mark.parametrize("scope", ["cards:link", "cards:manage"])
def test_no_scope_changes_the_secondary_account(alice, setup, connect, scope):
    main, other, card = setup
    app = connect(alice, scopes=["cards:link", "cards:manage", "cards:order"], accounts=[main, other])

    for value in (other.pk, None):
        response = app.patch(f"/api/v1/cards/{card.pk}/", {"secondary_account_id": value})
        assert response.status_code == 403
        assert response.json()["code"] == "field_not_allowed"
    assert Card.objects.get(pk=card.pk).secondary_account_id is None


def test_manage_freezes_unfreezes_sets_limits_and_cancels(alice, setup, connect):
    main, _other, card = setup
    app = connect(alice, scopes=["cards:manage"], accounts=[main])
    path = f"/api/v1/cards/{card.pk}/"

    assert app.patch(path, {"status": "FROZEN"}).json()["status"] == "FROZEN"
    assert app.patch(path, {"status": "ACTIVE"}).json()["status"] == "ACTIVE"
    limited = app.patch(path, {"limits": {"value": "250.00", "currency": "EUR"}})
    assert limited.json()["limits"] == {"value": "250.00", "currency": "EUR"}
    assert app.patch(path, {"limits": {"value": "10000.01", "currency": "EUR"}}).status_code == 400
    assert app.patch(path, {"status": "CANCELLED"}).json()["status"] == "CANCELLED"
    after = app.patch(path, {"status": "ACTIVE"})
    assert after.status_code == 409
    assert after.json()["code"] == "card_not_changeable"


def test_an_app_cannot_activate_a_newly_ordered_card(alice, setup, connect):
    main, _other, card = setup
    Card.objects.filter(pk=card.pk).update(status=CardStatus.ORDERED)
    app = connect(alice, scopes=["cards:manage"], accounts=[main])

    response = app.patch(f"/api/v1/cards/{card.pk}/", {"status": "ACTIVE"})

    assert response.status_code == 403
    assert response.json()["code"] == "customer_only"


def test_bad_updates_are_400(alice, setup, connect):
    main, _other, card = setup
    app = connect(alice, scopes=["cards:manage"], accounts=[main])
    path = f"/api/v1/cards/{card.pk}/"

    assert app.patch(path, {}).json()["code"] == "empty_update"
    assert app.patch(path, {"status": "LOST"}).status_code == 400
    assert app.patch(path, {"last_four": "1234"}).json()["errors"][0]["code"] == "read_only_field"
    assert app.patch(path, {"pin": "1234"}).json()["errors"][0]["code"] == "unknown_field"
    assert app.client.put(path, {"status": "FROZEN"}, format="json").status_code == 405
    assert app.client.delete(path).status_code == 405


def test_order_a_card(alice, setup, connect):
    main, other, _card = setup
    app = connect(alice, scopes=["cards:order"], accounts=[main])

    response = app.post("/api/v1/cards/", {"type": "VIRTUAL", "name_on_card": "Alice J", "primary_account_id": main.pk})

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "ACTIVE"
    assert response.json()["limits"] == {"value": "1000.00", "currency": "EUR"}
    refused = app.post("/api/v1/cards/", {"type": "VIRTUAL", "name_on_card": "A", "primary_account_id": other.pk})
    assert refused.status_code == 400
    manage = connect(alice, scopes=["cards:manage"], accounts=[main], app="manager")
    assert (
        manage.post(
            "/api/v1/cards/", {"type": "VIRTUAL", "name_on_card": "A", "primary_account_id": main.pk}
        ).status_code
        == 403
    )


@pytest.mark.postgres  # the token and the shared account ids in one query (ARRAY) on PostgreSQL
def test_card_reads_cost_at_most_three_queries(alice, setup, connect):
    main, _other, card = setup
    for _ in range(5):
        card_order(customer=alice, type="VIRTUAL", name_on_card="A", primary_account=main, actor=alice)
    app = connect(alice, scopes=["cards:link"], accounts=[main])
    app.get("/api/v1/cards/")  # the first read of the minute is recorded

    with CaptureQueriesContext(db_connection) as listing:
        assert len(app.get("/api/v1/cards/").json()["results"]) == 6
    with CaptureQueriesContext(db_connection) as detail:
        assert app.get(f"/api/v1/cards/{card.pk}/").status_code == 200

    assert (len(listing), len(detail)) == (2, 2), [q["sql"] for q in listing]


def test_cards_filter_by_status_and_type(alice, setup, connect):
    main, _other, card = setup
    virtual = card_order(customer=alice, type="VIRTUAL", name_on_card="A", primary_account=main, actor=alice)
    app = connect(alice, scopes=["cards:link"], accounts=[main])

    def ids(**params):
        response = app.get("/api/v1/cards/", **params)
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert ids(status="ACTIVE") == [virtual.pk, card.pk]
    assert ids(type="DEBIT") == [card.pk]
    assert ids(status="FROZEN") == []
    assert app.get("/api/v1/cards/", status="LOST").status_code == 400
