"""Demo data, login, the home page and the health check."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from bank.models import AuditEvent, Card, MonetaryAccount, Payment
from bank.services.ledger import ledger_problems
from connections.models import Application
from connections.scopes import ALL

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(get_user_model().objects.order_by("username").values_list("username", "email", "is_staff")),
        list(MonetaryAccount.objects.order_by("id").values_list("owner__username", "type", "iban", "balance")),
        list(Payment.objects.order_by("id").values_list("monetary_account_id", "amount")),
        Card.objects.count(),
        list(Application.objects.values_list("client_id", "name", "redirect_uris", "allowed_scopes")),
    )


def test_seed_demo_is_idempotent_and_matches_the_spec():
    call_command("seed_demo")
    first = snapshot()
    call_command("seed_demo")
    assert snapshot() == first
    users, accounts, _payments, cards, _apps = first
    assert users == [
        ("admin", "admin@example.com", True),
        ("alice", "alice@example.com", False),
        ("bob", "bob@example.com", False),
    ]
    for name in ("alice", "bob"):
        user = get_user_model().objects.get(username=name)
        assert user.check_password("demo-pass-123")
        assert {t for owner, t, _, _ in accounts if owner == name} == {"BANK", "SAVINGS"}
        main = MonetaryAccount.objects.get(owner=user, type="BANK")
        assert main.balance > 0 and main.payments.count() >= 2
    assert cards == 2
    app = Application.objects.get(client_id="demo-budget-app")
    assert app.redirect_uris == "http://127.0.0.1:8001/callback"
    assert app.allowed_scope_list() == list(ALL)
    assert app.client_secret != "demo-budget-secret"  # stored hashed
    assert ledger_problems() == []


@override_settings(BANK_DEMO_DATA_ALLOWED=False)
def test_seed_demo_is_refused_where_demo_data_is_not_allowed():
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


def test_login_and_home_shows_balances(client):
    call_command("seed_demo")
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post("/accounts/login/", {"username": "alice", "password": "demo-pass-123"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.get("/")
    body = response.content.decode()
    main = MonetaryAccount.objects.get(owner__username="alice", type="BANK")
    assert "Main account" in body and main.iban in body
    assert f"€{main.balance:.2f}" in body
    assert "Dinner, thanks!" in body
    assert "no-store" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "DENY"


def test_home_shows_only_the_customers_own_accounts(client, alice, bob, account_for):
    account_for(alice, description="Alice pot")
    account_for(bob, description="Bob pot")
    client.force_login(alice)
    body = client.get("/").content.decode()
    assert "Alice pot" in body and "Bob pot" not in body


def test_wrong_password_is_refused(client):
    call_command("seed_demo")
    response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and "did not match" in response.content.decode()


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_audit_events_cannot_be_changed(alice, account_for):
    from django.db import DatabaseError, transaction

    account_for(alice)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(action="tampered")
