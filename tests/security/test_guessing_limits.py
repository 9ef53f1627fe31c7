"""Whoever holds a customer's session cannot guess their password: the payment step-up and the
password-change form share one budget of 5 guesses in 15 minutes, counted before the password is
checked, so parallel requests get no more; every wrong guess is audited."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from bank.models import AuditEvent, DraftPayment, DraftStatus
from bank.services.drafts import draft_payment_create
from tests.concurrency import at_once
from tests.factories import PASSWORD, make_account

pytestmark = pytest.mark.django_db


def make_draft(customer, account, amount: str) -> DraftPayment:
    entry = {"amount": amount, "counterparty_alias": {"type": "IBAN", "value": "DE89370400440532013000", "name": "X"}}
    return draft_payment_create(customer=customer, source=account, entries=[entry], actor=customer)


@pytest.fixture
def session(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def counted_checks(monkeypatch) -> list[str]:
    """Every password the server checks, in order (to count guesses, not responses)."""
    checked: list[str] = []
    real = User.check_password

    def check_password(self, raw_password):
        checked.append(raw_password)
        return real(self, raw_password)

    monkeypatch.setattr(User, "check_password", check_password)
    return checked


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forty_parallel_guesses_get_five_and_then_even_the_right_password_waits(alice, counted_checks):
    main = make_account(alice, balance="100.00")
    draft = make_draft(alice, main, "10.00")

    def approve(n: int) -> None:
        client = Client()
        client.force_login(alice)
        client.post(f"/draft-payments/{draft.pk}/approve/", {"password": f"guess-{n}"})

    at_once(40, approve)

    assert len(counted_checks) == 5  # force_login checks no password: these are all guesses
    assert AuditEvent.objects.filter(action="auth.step_up_failed", customer=alice).count() == 5
    assert AuditEvent.objects.filter(action="auth.password_guesses_locked", customer=alice).count() == 1
    client = Client()
    client.force_login(alice)
    refused = client.post(f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD}, follow=True)
    assert "paying is paused for 15 minutes" in refused.content.decode()
    assert len(counted_checks) == 5
    draft.refresh_from_db()
    assert draft.status == DraftStatus.PENDING and not main.payments.filter(amount__lt=0).exists()


def change_password(client: Client, old: str, new: str = "a-brand-new-passphrase-42"):
    return client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new, "new_password2": new}, follow=True
    )


def test_the_password_change_form_is_limited_and_audited(session, alice):
    for _ in range(5):
        page = change_password(session, "wrong-guess")
        assert "That password is not right; your password is unchanged" in page.content.decode()

    locked = change_password(session, PASSWORD)

    assert "changing your password is paused for 15 minutes" in locked.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert AuditEvent.objects.filter(action="auth.step_up_failed", data__purpose="password_change").count() == 5


def test_guesses_at_the_step_up_and_the_password_form_count_together(session, alice):
    main = make_account(alice, balance="100.00")
    draft = make_draft(alice, main, "10.00")
    for _ in range(3):
        session.post(f"/draft-payments/{draft.pk}/approve/", {"password": "guess"})
    for _ in range(2):
        change_password(session, "guess")

    refused_change = change_password(session, PASSWORD)
    refused_payment = session.post(f"/draft-payments/{draft.pk}/approve/", {"password": PASSWORD}, follow=True)

    assert "paused for 15 minutes" in refused_change.content.decode()
    assert "paying is paused for 15 minutes" in refused_payment.content.decode()
    assert DraftPayment.objects.get().status == DraftStatus.PENDING


def test_a_right_password_change_is_audited_and_resets_the_budget(session, alice):
    change_password(session, "guess")
    done = change_password(session, PASSWORD)
    assert done.redirect_chain[-1][0] == "/profile/settings/security/"
    alice.refresh_from_db()
    assert alice.check_password("a-brand-new-passphrase-42")
    assert AuditEvent.objects.filter(action="auth.password_changed", customer=alice).count() == 1


def test_the_step_up_counts_a_guess_before_checking_it(alice, session, counted_checks):
    main = make_account(alice, balance=Decimal("100.00"))
    draft = make_draft(alice, main, "10.00")
    for _ in range(8):
        session.post(f"/draft-payments/{draft.pk}/approve/", {"password": "guess"})
    assert counted_checks.count("guess") == 5
