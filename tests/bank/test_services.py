"""Every service's rules, each refusal with its exact code, and that a refusal changes nothing."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from bank.core.errors import DomainError
from bank.models import (
    AccountType,
    AuditEvent,
    CardStatus,
    CoOwnerStatus,
    DraftPayment,
    DraftStatus,
    MonetaryAccount,
    Movement,
    Payment,
    RequestResponse,
    RequestStatus,
)
from bank.services.accounts import account_open, co_owner_answer
from bank.services.cards import card_order, card_update
from bank.services.drafts import (
    draft_payment_accept,
    draft_payment_cancel,
    draft_payment_create,
    draft_payment_reject,
    draft_payments_expire_due,
)
from bank.services.ledger import ledger_problems
from bank.services.payment_requests import request_inquiry_revoke, request_response_accept, request_response_reject
from tests.factories import UserFactory, pay, request_money

pytestmark = pytest.mark.django_db
EXTERNAL = {"type": "IBAN", "value": "NL91 ABNA 0417 1643 00", "name": "Shop B.V."}


def refused(code: str):
    """Assert that the block raises a DomainError with this code and leaves the ledger unchanged."""

    class _Refused:
        def __enter__(self):
            self.before = (
                Payment.objects.count(),
                Movement.objects.count(),
                list(MonetaryAccount.objects.values_list("balance", flat=True)),
            )
            self.ctx = pytest.raises(DomainError)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *exc):
            result = self.ctx.__exit__(*exc)
            assert self.info.value.code == code, self.info.value.code
            after = (
                Payment.objects.count(),
                Movement.objects.count(),
                list(MonetaryAccount.objects.values_list("balance", flat=True)),
            )
            assert after == self.before
            return result

    return _Refused()


def balance(account: MonetaryAccount) -> Decimal:
    account.refresh_from_db()
    return account.balance


# --- accounts ---------------------------------------------------------------------------------------


def test_open_account_generates_a_valid_unique_iban(alice):
    first = account_open(owner=alice, type=AccountType.BANK, description="Main", actor=alice)
    second = account_open(owner=alice, type=AccountType.SAVINGS, description="Savings", actor=alice)
    assert first.iban.startswith("NL") and len(first.iban) == 18
    assert first.iban != second.iban
    from schwifty import IBAN

    IBAN(first.iban)  # validates the checksum
    assert AuditEvent.objects.filter(action="account.opened", customer=alice).count() == 2


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"type": "CHECKING", "description": "x"}, "invalid_account_type"),
        ({"type": "BANK", "description": ""}, "invalid_description"),
        ({"type": "BANK", "description": "x" * 101}, "invalid_description"),
        ({"type": "BANK", "description": "x", "savings_goal": Decimal("10")}, "savings_goal_not_allowed"),
        ({"type": "SAVINGS", "description": "x", "savings_goal": Decimal("-1")}, "amount_not_positive"),
        ({"type": "JOINT", "description": "x", "co_owner_email": "nobody@example.com"}, "unknown_email"),
        ({"type": "JOINT", "description": "x", "co_owner_email": "alice@example.com"}, "co_owner_is_owner"),
        ({"type": "BANK", "description": "x", "co_owner_email": "bob@example.com"}, "co_owner_not_allowed"),
    ],
)
def test_open_account_refusals(alice, bob, kwargs, code):
    with pytest.raises(DomainError) as info:
        account_open(owner=alice, actor=alice, **kwargs)
    assert info.value.code == code
    assert not MonetaryAccount.objects.exists()


def test_joint_account_invitation_accept_and_reject(alice, bob, account_for):
    joint = account_for(alice, type=AccountType.JOINT, co_owner_email="BOB@example.com", description="Household")
    invitation = joint.co_owners.get()
    assert invitation.user == bob and invitation.status == CoOwnerStatus.PENDING
    with pytest.raises(DomainError) as info:
        co_owner_answer(invitation_id=invitation.pk, customer=alice, accept=True)
    assert info.value.code == "not_found"
    co_owner_answer(invitation_id=invitation.pk, customer=bob, accept=True)
    invitation.refresh_from_db()
    assert invitation.status == CoOwnerStatus.ACCEPTED
    with pytest.raises(DomainError) as info:
        co_owner_answer(invitation_id=invitation.pk, customer=bob, accept=False)
    assert info.value.code == "already_answered"

    other = account_for(alice, type=AccountType.JOINT, co_owner_email="bob@example.com", description="Trip")
    co_owner_answer(invitation_id=other.co_owners.get().pk, customer=bob, accept=False)
    assert other.co_owners.get().status == CoOwnerStatus.REJECTED


# --- payments ---------------------------------------------------------------------------------------


def test_transfer_between_own_accounts_is_two_legs_that_sum_to_zero(alice, account_for):
    main = account_for(alice, balance="100.00")
    savings = account_for(alice, type=AccountType.SAVINGS, description="Savings")
    payment = pay(alice, main, "30.00", savings.iban, own_accounts_only=True)
    assert payment.amount == Decimal("-30.00") and payment.balance_after == Decimal("70.00")
    legs = list(payment.movement.payments.order_by("id").values_list("monetary_account_id", "amount"))
    assert legs == [(main.pk, Decimal("-30.00")), (savings.pk, Decimal("30.00"))]
    assert balance(main) == Decimal("70.00") and balance(savings) == Decimal("30.00")
    assert ledger_problems() == []


def test_pay_another_customer_by_email_and_an_external_iban(alice, bob, account_for):
    main = account_for(alice, balance="100.00")
    bob_main = account_for(bob)
    pay(alice, main, "10.00", {"type": "EMAIL", "value": "Bob@Example.com"})
    external = pay(alice, main, "5.00", EXTERNAL)
    assert balance(bob_main) == Decimal("10.00")
    assert balance(main) == Decimal("85.00")
    assert external.counterparty_value == "NL91ABNA0417164300"  # normalised
    assert external.movement.kind == "EXTERNAL" and external.movement.payments.count() == 1
    assert ledger_problems() == []


@pytest.mark.parametrize(
    ("amount", "counterparty", "code"),
    [
        ("150.00", EXTERNAL, "insufficient_funds"),
        ("0.00", EXTERNAL, "amount_not_positive"),
        ("-5.00", EXTERNAL, "amount_not_positive"),
        ("5.00", {"type": "IBAN", "value": "NL91ABNA0417164301", "name": "x"}, "invalid_iban"),
        ("5.00", {"type": "IBAN", "value": "NL91ABNA0417164300"}, "name_required"),
        ("5.00", {"type": "EMAIL", "value": "nobody@example.com"}, "unknown_email"),
        ("5.00", {"type": "PHONE", "value": "+31"}, "invalid_counterparty_type"),
    ],
)
def test_payment_refusals_change_nothing(alice, account_for, amount, counterparty, code):
    main = account_for(alice, balance="100.00")
    with refused(code):
        pay(alice, main, amount, counterparty)


def test_payment_refusals_for_ownership_savings_and_internal_scope(alice, bob, account_for):
    main = account_for(alice, balance="100.00")
    savings = account_for(alice, balance="50.00", type=AccountType.SAVINGS, description="Savings")
    bob_main = account_for(bob, balance="10.00")
    with refused("not_your_account"):
        pay(alice, bob_main, "1", EXTERNAL)
    with refused("savings_only_to_own_accounts"):
        pay(alice, savings, "1", bob_main.iban)
    with refused("use_draft_payment"):
        pay(alice, main, "1", bob_main.iban, own_accounts_only=True)
    with refused("same_account"):
        pay(alice, main, "1", main.iban)
    with refused("description_too_long"):
        pay(alice, main, "1", EXTERNAL, description="x" * 141)
    MonetaryAccount.objects.filter(pk=main.pk).update(status="BLOCKED")
    with refused("account_not_active"):
        pay(alice, main, "1", EXTERNAL)


def test_joint_co_owner_counts_as_own_account(alice, bob, account_for):
    joint = account_for(alice, type=AccountType.JOINT, co_owner_email=bob.email, description="Household")
    bob_main = account_for(bob, balance="40.00")
    with refused("use_draft_payment"):
        pay(bob, bob_main, "10", joint.iban, own_accounts_only=True)
    co_owner_answer(invitation_id=joint.co_owners.get().pk, customer=bob, accept=True)
    pay(bob, bob_main, "10", joint.iban, own_accounts_only=True)
    assert balance(joint) == Decimal("10.00")


def test_overdraft_limit_allows_going_below_zero_up_to_the_limit(alice, account_for):
    main = account_for(alice, balance="10.00", overdraft_limit="50.00")
    pay(alice, main, "60.00", EXTERNAL)
    assert balance(main) == Decimal("-50.00")
    with refused("insufficient_funds"):
        pay(alice, main, "0.01", EXTERNAL)


# --- draft payments ---------------------------------------------------------------------------------


def _draft(alice, main, *entries):
    return draft_payment_create(
        customer=alice,
        source=main,
        actor=alice,
        entries=[{"amount": a, "counterparty_alias": c, "description": "d"} for a, c in entries],
    )


def test_draft_accept_pays_every_entry_once(alice, bob, account_for):
    main = account_for(alice, balance="100.00")
    bob_main = account_for(bob)
    draft = _draft(alice, main, ("10.00", {"type": "EMAIL", "value": bob.email}), ("20.00", EXTERNAL))
    draft_payment_accept(draft_id=draft.pk, customer=alice)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.ACCEPTED and draft.answered_by == alice
    assert [e.payment.amount for e in draft.entries.all()] == [Decimal("-10.00"), Decimal("-20.00")]
    assert balance(main) == Decimal("70.00") and balance(bob_main) == Decimal("10.00")
    with refused("draft_accepted"):
        draft_payment_accept(draft_id=draft.pk, customer=alice)
    assert ledger_problems() == []


def test_draft_accept_is_all_or_nothing(alice, account_for):
    main = account_for(alice, balance="25.00")
    draft = _draft(alice, main, ("10.00", EXTERNAL), ("20.00", EXTERNAL))
    with refused("insufficient_funds"):
        draft_payment_accept(draft_id=draft.pk, customer=alice)
    draft.refresh_from_db()
    assert draft.status == DraftStatus.PENDING
    assert not draft.entries.filter(payment__isnull=False).exists()


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([], "invalid_entries"),
        ([("1.00", EXTERNAL)] * 26, "invalid_entries"),
        ([("0.00", EXTERNAL)], "amount_not_positive"),
        ([("1.00", {"type": "EMAIL", "value": "nobody@example.com"})], "unknown_email"),
    ],
)
def test_draft_create_refusals(alice, account_for, entries, code):
    main = account_for(alice, balance="100.00")
    with pytest.raises(DomainError) as info:
        _draft(alice, main, *entries)
    assert info.value.code == code
    assert not DraftPayment.objects.exists()


def test_draft_reject_cancel_expire(alice, bob, account_for):
    main = account_for(alice, balance="100.00")
    rejected = _draft(alice, main, ("1.00", EXTERNAL))
    draft_payment_reject(draft_id=rejected.pk, customer=alice, reason="Not mine")
    rejected.refresh_from_db()
    assert rejected.status == DraftStatus.REJECTED and rejected.reason == "Not mine"
    with refused("draft_rejected"):
        draft_payment_accept(draft_id=rejected.pk, customer=alice)

    cancelled = _draft(alice, main, ("1.00", EXTERNAL))
    draft_payment_cancel(draft_id=cancelled.pk, customer=alice, actor=alice)
    with refused("draft_cancelled"):
        draft_payment_accept(draft_id=cancelled.pk, customer=alice)

    expired = _draft(alice, main, ("1.00", EXTERNAL))
    DraftPayment.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with refused("draft_expired"):
        draft_payment_accept(draft_id=expired.pk, customer=alice)
    expired.refresh_from_db()
    assert expired.status == DraftStatus.EXPIRED

    due = _draft(alice, main, ("1.00", EXTERNAL))
    DraftPayment.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert draft_payments_expire_due() == 1

    with pytest.raises(DomainError) as info:
        draft_payment_accept(draft_id=_draft(alice, main, ("1.00", EXTERNAL)).pk, customer=bob)
    assert info.value.code == "not_found"


# --- payment requests -------------------------------------------------------------------------------


def test_request_sent_received_and_paid(alice, bob, account_for):
    alice_main = account_for(alice)
    bob_main = account_for(bob, balance="50.00")
    inquiry = request_money(alice, alice_main, "12.50", {"type": "EMAIL", "value": bob.email}, description="Pizza")
    response = RequestResponse.objects.get(inquiry=inquiry)
    assert response.monetary_account == bob_main
    with pytest.raises(DomainError) as info:
        request_response_accept(response_id=response.pk, customer=alice, source=alice_main)
    assert info.value.code == "not_found"
    request_response_accept(response_id=response.pk, customer=bob, source=bob_main)
    inquiry.refresh_from_db()
    assert inquiry.status == RequestStatus.ACCEPTED
    assert balance(alice_main) == Decimal("12.50") and balance(bob_main) == Decimal("37.50")
    with refused("request_accepted"):
        request_response_accept(response_id=response.pk, customer=bob, source=bob_main)


def test_request_reject_and_revoke(alice, bob, account_for):
    alice_main = account_for(alice)
    account_for(bob, balance="50.00")
    first = request_money(alice, alice_main, "1", {"type": "EMAIL", "value": bob.email})
    request_response_reject(response_id=first.response.pk, customer=bob)
    first.refresh_from_db()
    assert first.status == RequestStatus.REJECTED
    second = request_money(alice, alice_main, "1", {"type": "EMAIL", "value": bob.email})
    request_inquiry_revoke(inquiry_id=second.pk, customer=alice, actor=alice)
    second.response.refresh_from_db()
    assert second.response.status == RequestStatus.REVOKED
    with pytest.raises(DomainError) as info:
        request_inquiry_revoke(inquiry_id=second.pk, customer=alice, actor=alice)
    assert info.value.code == "request_revoked"
    with pytest.raises(DomainError) as info:
        request_money(alice, alice_main, "1", alice_main.iban)
    assert info.value.code == "request_to_self"


# --- cards ------------------------------------------------------------------------------------------


def test_card_lifecycle(alice, bob, account_for):
    main = account_for(alice)
    savings = account_for(alice, type=AccountType.SAVINGS, description="Savings")
    bob_main = account_for(bob)
    card = card_order(customer=alice, type="DEBIT", name_on_card="Alice Jansen", primary_account=main, actor=alice)
    assert card.status == CardStatus.ORDERED and len(card.last_four) == 4 and card.name_on_card == "ALICE JANSEN"
    card = card_update(card_id=card.pk, customer=alice, actor=alice, status=CardStatus.ACTIVE)
    card = card_update(card_id=card.pk, customer=alice, actor=alice, status=CardStatus.FROZEN)
    card = card_update(
        card_id=card.pk, customer=alice, actor=alice, status=CardStatus.ACTIVE, daily_limit=Decimal("250")
    )
    card = card_update(card_id=card.pk, customer=alice, actor=alice, primary_account=savings, secondary_account=main)
    assert (card.primary_account, card.secondary_account, card.daily_limit) == (savings, main, Decimal("250.00"))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"status": "ORDERED"}, "invalid_card_transition"),
        ({"daily_limit": Decimal("10000.01")}, "invalid_limit"),
        ({"daily_limit": Decimal("-1")}, "invalid_limit"),
        ({"primary_account": bob_main}, "not_your_account"),
        ({"primary_account": main}, "same_account"),
    ]
    for kwargs, code in cases:
        with pytest.raises(DomainError) as info:
            card_update(card_id=card.pk, customer=alice, actor=alice, **kwargs)
        assert info.value.code == code, kwargs
    with pytest.raises(DomainError) as info:
        card_update(card_id=card.pk, customer=bob, actor=bob, status=CardStatus.FROZEN)
    assert info.value.code == "not_found"
    card_update(card_id=card.pk, customer=alice, actor=alice, status=CardStatus.CANCELLED)
    with pytest.raises(DomainError) as info:
        card_update(card_id=card.pk, customer=alice, actor=alice, status=CardStatus.ACTIVE)
    assert info.value.code == "card_not_changeable"
    with pytest.raises(DomainError) as info:
        card_order(customer=alice, type="GOLD", name_on_card="A", primary_account=main, actor=alice)
    assert info.value.code == "invalid_card_type"


def test_staff_actions_are_audited_as_staff(alice, account_for):
    staff = UserFactory(username="teller", is_staff=True)
    main = account_for(alice)
    card = card_order(customer=alice, type="VIRTUAL", name_on_card="A", primary_account=main, actor=alice)
    card_update(card_id=card.pk, customer=alice, actor=staff, status=CardStatus.FROZEN)
    event = AuditEvent.objects.filter(action="card.updated").get()
    assert (event.actor_type, event.actor, event.customer) == ("staff", staff, alice)
    assert event.data == {"status": ["ACTIVE", "FROZEN"]}
