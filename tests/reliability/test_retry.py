"""Deadlocks and serialisation failures are retried inside the service, never shown to the client;
any other database error is not retried."""

from decimal import Decimal

import psycopg
import pytest
from django.db import OperationalError
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from bank.core import transactions
from bank.core.errors import DomainError
from bank.models import MonetaryAccount, Payment
from bank.services import ledger
from bank.services.payments import payment_create
from tests.factories import main_and_savings, pay

# The retry needs the service to own its transaction (inside a test's transaction it joins it).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_error(sqlstate: str) -> OperationalError:
    """What Django raises for a PostgreSQL error: OperationalError caused by psycopg's error."""
    cause = psycopg.errors.lookup(sqlstate)("forced by the test")
    error = OperationalError("forced by the test")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])  # deadlock detected, serialization failure
def test_a_deadlock_or_serialisation_failure_is_retried_and_pays_once(alice, monkeypatch, sqlstate):
    main, savings = main_and_savings(alice, "10.00")
    real_post = ledger.ledger_post
    calls: list[int] = []

    def post_that_fails_once(payments):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise database_error(sqlstate)
        return real_post(payments)

    monkeypatch.setattr("bank.services.payments.ledger_post", post_that_fails_once)
    monkeypatch.setattr(transactions.time, "sleep", lambda seconds: None)

    payment = pay(alice, main, "4.00", {"type": "IBAN", "value": savings.iban, "name": "Me"})

    assert len(calls) == 2
    assert Payment.objects.filter(monetary_account=main, amount=Decimal("-4.00")).get() == payment


def test_other_database_errors_are_not_retried(alice, monkeypatch):
    main, savings = main_and_savings(alice, "10.00")
    calls: list[int] = []

    def broken_post(payments):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise database_error("57P01")  # the server terminated the connection

    monkeypatch.setattr("bank.services.payments.ledger_post", broken_post)

    with pytest.raises(OperationalError):
        pay(alice, main, "4.00", {"type": "IBAN", "value": savings.iban, "name": "Me"})
    assert calls == [1]
    assert not Payment.objects.filter(monetary_account=main, amount__lt=0).exists()


def test_a_deadlock_that_keeps_happening_gives_up_after_five_attempts(alice, monkeypatch):
    main, savings = main_and_savings(alice, "10.00")
    calls: list[int] = []

    def always_deadlocked(payments):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise database_error("40P01")

    monkeypatch.setattr("bank.services.payments.ledger_post", always_deadlocked)
    monkeypatch.setattr(transactions.time, "sleep", lambda seconds: None)

    with pytest.raises(OperationalError):
        pay(alice, main, "4.00", {"type": "IBAN", "value": savings.iban, "name": "Me"})
    assert len(calls) == transactions.MAX_ATTEMPTS


def test_a_retrying_transaction_inside_another_joins_it_without_a_savepoint_and_fails_with_it(alice):
    main, savings = main_and_savings(alice, "10.00")
    pay = {"customer": alice, "counterparty": {"type": "IBAN", "value": savings.iban}, "actor": alice}
    payments_before = Payment.objects.count()

    @transactions.atomic_with_retry
    def pay_twice(second: Decimal) -> None:
        payment_create(source=main, amount=Decimal("4.00"), **pay)
        payment_create(source=main, amount=second, **pay)

    with CaptureQueriesContext(db_connection) as queries:
        pay_twice(Decimal("1.00"))
    assert not [q for q in queries if "SAVEPOINT" in q["sql"]]  # the payments ran in pay_twice's transaction
    assert Payment.objects.count() == payments_before + 4

    with pytest.raises(DomainError):
        pay_twice(Decimal("100.00"))  # the second payment is refused: the first one goes with it
    assert Payment.objects.count() == payments_before + 4
    assert MonetaryAccount.objects.get(pk=main.pk).balance == Decimal("5.00")
