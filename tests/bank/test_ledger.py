"""The ledger's two steps (bank/services/ledger.py): what runs while account rows are locked, the
checks made again on the locked rows rather than on what the caller read, and the statement order
that each payment's balance follows."""

import re
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from bank.core.errors import DomainError, ErrorCode
from bank.models import AccountStatus, MonetaryAccount, Movement, MovementKind, Payment
from bank.services.ledger import ledger_problems
from bank.services.payments import payment_create
from tests.factories import main_and_savings, pay, transfer_body

pytestmark = pytest.mark.django_db

ACCOUNTS = f'"{MonetaryAccount._meta.db_table}"'


def kind(sql: str) -> str:
    """A statement, as the lock-window test names it."""
    words = " ".join(sql.split())
    if words.startswith(f"WITH account AS ( UPDATE {ACCOUNTS}"):
        return f"post to account {re.search(r'WHERE id = (\d+)', words).group(1)}"  # type: ignore[union-attr]
    return " ".join(words.split()[:3]).replace('"', "")


@pytest.mark.postgres  # one statement per leg on PostgreSQL (SQLite serialises writers anyway)
def test_a_payment_locks_its_accounts_only_for_its_legs_and_its_idempotency_record(alice, connect):
    first, second = main_and_savings(alice, "100.00")
    app = connect(alice, scopes=["payments:internal"], accounts=[first, second])
    body = transfer_body("1.00", second)
    for source, target in ((first, second), (second, first)):  # both directions: the locks in the same order
        body["counterparty_alias"]["value"] = target.iban  # type: ignore[index]
        with CaptureQueriesContext(db_connection) as queries:
            path = f"/api/v1/monetary-accounts/{source.pk}/payments/"
            assert app.post(path, body, **{"Idempotency-Key": f"to-{target.pk}"}).status_code == 201

        statements = [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
        assert not [sql for sql in statements if "FOR UPDATE" in sql and ACCOUNTS in sql]
        locked = next(i for i, sql in enumerate(statements) if f"UPDATE {ACCOUNTS}" in sql)
        assert [kind(sql) for sql in statements[locked:]] == [
            f"post to account {first.pk}",
            f"post to account {second.pk}",
            "UPDATE bank_idempotencykey SET",
        ]  # ...and then the commit: as many statements as the bare locked transfer's (bench/floors.py)


def written(*accounts: MonetaryAccount) -> tuple[object, ...]:
    balances = [MonetaryAccount.objects.get(pk=account.pk).balance for account in accounts]
    return (*balances, Movement.objects.count(), Payment.objects.count())


@pytest.mark.parametrize("blocked", ["source", "target"])
def test_an_account_blocked_after_the_payment_read_it_is_refused_and_nothing_is_written(alice, blocked):
    source, target = main_and_savings(alice, "100.00")
    stale = {"source": source, "target": target}[blocked]
    MonetaryAccount.objects.filter(pk=stale.pk).update(status=AccountStatus.BLOCKED)  # as staff did meanwhile
    before = written(source, target)

    with pytest.raises(DomainError) as refused:
        payment_create(
            customer=alice,
            source=source,  # still says ACTIVE, as read before the block
            amount=Decimal("10.00"),
            counterparty={"type": "IBAN", "value": target.iban},
            actor=alice,
        )

    assert refused.value.code == ErrorCode.ACCOUNT_NOT_ACTIVE
    assert written(source, target) == before


def test_money_spent_after_the_payment_read_the_balance_is_refused_on_the_locked_row(alice):
    source, target = main_and_savings(alice, "100.00")
    pay = {"customer": alice, "counterparty": {"type": "IBAN", "value": target.iban}, "actor": alice}
    payment_create(source=MonetaryAccount.objects.get(pk=source.pk), amount=Decimal("90.00"), **pay)
    before = written(source, target)

    with pytest.raises(DomainError) as refused:
        payment_create(source=source, amount=Decimal("50.00"), **pay)  # `source` still says 100.00

    assert refused.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert written(source, target) == before
    assert ledger_problems() == []


def test_each_payment_ends_at_the_balance_its_accounts_earlier_payments_add_up_to(alice):
    source, target = main_and_savings(alice, "100.00")
    for amount in ("10.00", "2.50", "30.00"):
        pay(alice, MonetaryAccount.objects.get(pk=source.pk), amount, target.iban)
    assert list(
        Payment.objects.filter(monetary_account=source).order_by("id").values_list("balance_after", flat=True)
    ) == [
        Decimal("100.00"),
        Decimal("90.00"),
        Decimal("87.50"),
        Decimal("57.50"),
    ]
    assert ledger_problems() == []

    # A payment written past the ledger, with the account's balance and sum kept right, breaks the chain.
    movement = Movement.objects.create(kind=MovementKind.DEPOSIT, amount=Decimal("5.00"))
    forged = Payment.objects.create(
        movement=movement, monetary_account=target, amount=Decimal("5.00"), balance_after=Decimal("500.00")
    )
    MonetaryAccount.objects.filter(pk=target.pk).update(balance=Decimal("47.50"))
    assert ledger_problems() == [
        f"payment {forged.pk} on account {target.pk}: balance after 500.00, "
        "but the account's payments up to it sum to 47.50"
    ]
