"""Concurrency on PostgreSQL with real threads: money is conserved, no deadlock reaches a caller,
and a draft accepted from many threads at once is paid exactly once."""

import random
from decimal import Decimal

import pytest

from bank.core.errors import DomainError
from bank.models import DraftPayment, DraftStatus, MonetaryAccount, Payment
from bank.services.drafts import draft_payment_accept, draft_payment_create
from bank.services.ledger import ledger_problems
from bank.services.payments import payment_create
from tests.concurrency import at_once
from tests.factories import UserFactory, make_account, pay

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_random_transfers_conserve_money():
    owner = UserFactory()
    accounts = [make_account(owner, balance="100.00", description=f"Pot {i}") for i in range(4)]
    total = sum(a.balance for a in accounts)
    refused: list[str] = []

    def transfers(index: int) -> None:
        rng = random.Random(index)
        for _ in range(50):
            source, target = rng.sample(accounts, 2)
            try:
                payment_create(
                    customer=owner,
                    source=source,
                    amount=Decimal(rng.randint(1, 6000)) / 100,
                    counterparty={"type": "IBAN", "value": target.iban},
                    own_accounts_only=True,
                    actor=owner,
                )
            except DomainError as exc:
                refused.append(exc.code)

    _, errors = at_once(8, transfers)
    assert errors == []
    assert set(refused) <= {"insufficient_funds"}
    balances = list(MonetaryAccount.objects.filter(pk__in=[a.pk for a in accounts]).values_list("balance", flat=True))
    assert sum(balances) == total
    assert all(b >= 0 for b in balances)
    assert Payment.objects.filter(movement__kind="INTERNAL").count() == 2 * (8 * 50 - len(refused))
    assert ledger_problems() == []


def test_draft_accepted_by_eight_threads_is_paid_once():
    owner = UserFactory()
    payee = UserFactory()
    source = make_account(owner, balance="100.00")
    target = make_account(payee)
    draft = draft_payment_create(
        customer=owner,
        source=source,
        actor=owner,
        entries=[{"amount": "30.00", "counterparty_alias": {"type": "EMAIL", "value": payee.email}}],
    )
    outcomes: list[str] = []

    def accept(index: int) -> None:
        try:
            draft_payment_accept(draft_id=draft.pk, customer=owner)
            outcomes.append("paid")
        except DomainError as exc:
            outcomes.append(exc.code)

    assert at_once(8, accept)[1] == []
    assert sorted(outcomes) == ["draft_accepted"] * 7 + ["paid"]
    assert DraftPayment.objects.get(pk=draft.pk).status == DraftStatus.ACCEPTED
    target.refresh_from_db()
    assert target.balance == Decimal("30.00")
    assert ledger_problems() == []


def test_two_withdrawals_that_together_exceed_the_balance_one_succeeds():
    owner = UserFactory()
    source = make_account(owner, balance="100.00")
    outcomes: list[str] = []

    def withdraw(index: int) -> None:
        try:
            pay(owner, source, "60.00", {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "Shop"})
            outcomes.append("paid")
        except DomainError as exc:
            outcomes.append(exc.code)

    assert at_once(2, withdraw)[1] == []
    assert sorted(outcomes) == ["insufficient_funds", "paid"]
    source.refresh_from_db()
    assert source.balance == Decimal("40.00")
