"""API attacks, walked over every routed action (OWASP API Top 10: BOLA, function-level authorization,
mass assignment): another customer's objects are 404 for every verb, every action refuses a token
without its scopes, and no read-only field can be set."""

from decimal import Decimal
from typing import Any

import pytest

from bank.api import serializers as s
from bank.api.views import (
    CardViewSet,
    DraftPaymentViewSet,
    MonetaryAccountViewSet,
    PaymentViewSet,
    RequestInquiryViewSet,
    RequestResponseViewSet,
)
from bank.models import Card, DraftPayment, MonetaryAccount, Payment, RequestInquiry, RequestResponse
from bank.services.cards import card_order
from bank.services.drafts import draft_payment_create
from bank.services.payments import payment_create
from connections import scopes
from tests.factories import UserFactory, make_account, request_money

pytestmark = pytest.mark.django_db

EUR = {"value": "5.00", "currency": "EUR"}
SHOP = {"type": "IBAN", "value": "DE89370400440532013000", "name": "Shop"}

# The routes under test: (viewset, list path, detail path). {a}: account id, {o}: object id.
ROUTES = [
    (MonetaryAccountViewSet, "/api/v1/monetary-accounts/", "/api/v1/monetary-accounts/{o}/"),
    (PaymentViewSet, "/api/v1/monetary-accounts/{a}/payments/", "/api/v1/monetary-accounts/{a}/payments/{o}/"),
    (
        DraftPaymentViewSet,
        "/api/v1/monetary-accounts/{a}/draft-payments/",
        "/api/v1/monetary-accounts/{a}/draft-payments/{o}/",
    ),
    (CardViewSet, "/api/v1/cards/", "/api/v1/cards/{o}/"),
    (
        RequestInquiryViewSet,
        "/api/v1/monetary-accounts/{a}/request-inquiries/",
        "/api/v1/monetary-accounts/{a}/request-inquiries/{o}/",
    ),
    (
        RequestResponseViewSet,
        "/api/v1/monetary-accounts/{a}/request-responses/",
        "/api/v1/monetary-accounts/{a}/request-responses/{o}/",
    ),
]

# A valid body for each writing action, given the account id.
BODIES: dict[tuple[Any, str], Any] = {
    (MonetaryAccountViewSet, "create"): lambda a: {"type": "BANK", "description": "New"},
    (PaymentViewSet, "create"): lambda a: {"amount": EUR, "counterparty_alias": SHOP},
    (DraftPaymentViewSet, "create"): lambda a: {"entries": [{"amount": EUR, "counterparty_alias": SHOP}]},
    (DraftPaymentViewSet, "partial_update"): lambda a: {"status": "CANCELLED"},
    (CardViewSet, "create"): lambda a: {"type": "VIRTUAL", "name_on_card": "X", "primary_account_id": a},
    (CardViewSet, "partial_update"): lambda a: {"status": "FROZEN"},
    (RequestInquiryViewSet, "create"): lambda a: {
        "amount": EUR,
        "counterparty_alias": {"type": "EMAIL", "value": "carol@example.com"},
    },
    (RequestInquiryViewSet, "partial_update"): lambda a: {"status": "REVOKED"},
}
METHODS = {"list": "get", "retrieve": "get", "create": "post", "partial_update": "patch"}


@pytest.fixture
def world(alice, bob, connect):
    """Alice with one of every object, shared with her app; Bob's app with every scope."""
    carol = UserFactory(username="carol", email="carol@example.com")
    make_account(carol)
    main = make_account(alice, balance="100.00")
    other = make_account(alice, description="Other")
    alices_app = connect(alice, accounts=[main, other], app="alices")
    payment = payment_create(customer=alice, source=main, amount=Decimal("1.00"), counterparty={**SHOP}, actor=alice)
    draft = draft_payment_create(
        customer=alice,
        source=main,
        entries=[{"amount": "1.00", "counterparty_alias": SHOP}],
        actor=alice,
        connection=alices_app.connection,
    )
    card = card_order(customer=alice, type="VIRTUAL", name_on_card="A", primary_account=main, actor=alice)
    inquiry = request_money(alice, main, "2.00", {"type": "EMAIL", "value": "carol@example.com"})
    bobs = make_account(bob, balance="100.00")
    request_money(bob, bobs, "3.00", {"type": "EMAIL", "value": "alice@example.com"})
    response = RequestResponse.objects.get(monetary_account=main)
    objects = {
        MonetaryAccountViewSet: main.pk,
        PaymentViewSet: payment.pk,
        DraftPaymentViewSet: draft.pk,
        CardViewSet: card.pk,
        RequestInquiryViewSet: inquiry.pk,
        RequestResponseViewSet: response.pk,
    }
    bobs_app = connect(bob, accounts=[bobs], app="bobs")
    return {"alice": alices_app, "bob": bobs_app, "main": main, "bobs": bobs, "objects": objects}


def snapshot() -> tuple:
    return (
        list(MonetaryAccount.objects.order_by("id").values_list("id", "balance", "status")),
        Payment.objects.count(),
        list(DraftPayment.objects.values_list("id", "status")),
        list(Card.objects.values_list("id", "status", "primary_account_id")),
        list(RequestInquiry.objects.values_list("id", "status")),
    )


def test_bola_every_object_type_and_verb_is_404_for_another_customer(world):
    bob, alices_account, bobs_account = world["bob"], world["main"].pk, world["bobs"].pk
    before = snapshot()
    tried = 0
    for viewset, list_path, detail_path in ROUTES:
        obj = world["objects"][viewset]
        for action, method in METHODS.items():
            if action not in viewset.required_scopes_by_action:
                continue
            body = BODIES.get((viewset, action), lambda a: None)(alices_account)
            if action in ("list", "create"):
                if "{a}" not in list_path:
                    continue  # top-level lists start from the caller: nothing of Alice's to name
                paths = [list_path.format(a=alices_account)]
            else:
                paths = [detail_path.format(a=alices_account, o=obj)]
                if "{a}" in detail_path:  # Alice's object under Bob's own account
                    paths.append(detail_path.format(a=bobs_account, o=obj))
            for path in paths:
                response = getattr(bob.client, method)(path, body, format="json")
                assert response.status_code == 404, (method.upper(), path, response.status_code)
                tried += 1
    print(f"BOLA: {tried} requests for another customer's objects, all 404")
    assert tried >= 20
    assert snapshot() == before


def test_every_action_refuses_a_token_without_its_scopes(alice, world, connect):
    main = world["main"]
    before = snapshot()
    refused = 0
    for viewset, list_path, detail_path in ROUTES:
        obj = world["objects"][viewset]
        for action, alternatives in viewset.required_scopes_by_action.items():
            granted = [name for name in scopes.ALL if not any(name in group for group in alternatives)]
            app = connect(alice, scopes=granted, accounts=[main, world["objects"][MonetaryAccountViewSet]])
            path = (list_path if action in ("list", "create") else detail_path).format(a=main.pk, o=obj)
            body = BODIES.get((viewset, action), lambda a: None)(main.pk)
            response = getattr(app.client, METHODS[action])(path, body, format="json")
            assert response.status_code == 403, (viewset.__name__, action, response.status_code)
            assert response["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
            refused += 1
    print(f"Function-level authorization: {refused} actions refused a token with every other scope")
    assert snapshot() == before


WRITERS = [
    (s.MonetaryAccountCreateSerializer, "post", "/api/v1/monetary-accounts/", MonetaryAccountViewSet, "create"),
    (s.PaymentCreateSerializer, "post", "/api/v1/monetary-accounts/{a}/payments/", PaymentViewSet, "create"),
    (
        s.DraftPaymentCreateSerializer,
        "post",
        "/api/v1/monetary-accounts/{a}/draft-payments/",
        DraftPaymentViewSet,
        "create",
    ),
    (
        s.DraftPaymentUpdateSerializer,
        "patch",
        "/api/v1/monetary-accounts/{a}/draft-payments/{o}/",
        DraftPaymentViewSet,
        "partial_update",
    ),
    (s.CardCreateSerializer, "post", "/api/v1/cards/", CardViewSet, "create"),
    (s.CardUpdateSerializer, "patch", "/api/v1/cards/{o}/", CardViewSet, "partial_update"),
    (
        s.RequestInquiryCreateSerializer,
        "post",
        "/api/v1/monetary-accounts/{a}/request-inquiries/",
        RequestInquiryViewSet,
        "create",
    ),
    (
        s.RequestInquiryUpdateSerializer,
        "patch",
        "/api/v1/monetary-accounts/{a}/request-inquiries/{o}/",
        RequestInquiryViewSet,
        "partial_update",
    ),
]


def test_no_read_only_field_can_be_set_anywhere(world):
    app, main = world["alice"], world["main"]
    before = snapshot()
    checked = 0
    for input_serializer, method, path, viewset, action in WRITERS:
        assert input_serializer.read_only_from is not None
        writable = set(input_serializer().fields)
        read_only = set(input_serializer.read_only_from._declared_fields) - writable
        url = path.format(a=main.pk, o=world["objects"][viewset])
        for name in sorted(read_only):
            body = {**BODIES[(viewset, action)](main.pk), name: 1}
            response = getattr(app.client, method)(url, body, format="json")
            assert response.status_code == 400, (url, name, response.status_code)
            assert {"field": name, "code": "read_only_field"} in [
                {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
            ], (url, name)
            checked += 1
    print(f"Mass assignment: {checked} read-only fields refused")
    assert checked >= 30
    assert snapshot() == before
