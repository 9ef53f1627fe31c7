"""The database itself refuses bad rows, even when the services are bypassed."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, transaction

from bank.models import Movement, Payment
from tests.factories import pay

pytestmark = pytest.mark.django_db
EXTERNAL = {"type": "IBAN", "value": "NL91ABNA0417164300", "name": "Shop"}


def test_balance_below_overdraft_limit_is_refused_by_the_database(alice, account_for):
    main = account_for(alice, balance="10.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        type(main).objects.filter(pk=main.pk).update(balance=Decimal("-0.01"))


def test_non_positive_amounts_are_refused_by_the_database(alice, account_for):
    account_for(alice, balance="10.00")
    for amount in ("0.00", "-5.00"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Movement.objects.create(kind="DEPOSIT", amount=Decimal(amount))


def test_payments_and_movements_cannot_be_changed_or_deleted(alice, account_for):
    main = account_for(alice, balance="10.00")
    payment = pay(alice, main, "1", EXTERNAL)
    for statement in (
        lambda: Payment.objects.filter(pk=payment.pk).update(amount=Decimal("-2.00")),
        lambda: Payment.objects.filter(pk=payment.pk).delete(),
        lambda: Movement.objects.filter(pk=payment.movement_id).update(description="edited"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    payment.refresh_from_db()
    assert payment.amount == Decimal("-1.00")


def test_check_ledger_is_clean_and_detects_a_tampered_balance(alice, bob, account_for, capsys):
    main = account_for(alice, balance="100.00")
    account_for(bob, balance="5.00")
    pay(alice, main, "10", {"type": "EMAIL", "value": bob.email})
    call_command("check_ledger")
    assert "Ledger consistent" in capsys.readouterr().out

    type(main).objects.filter(pk=main.pk).update(balance=Decimal("95.00"))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_ledger")
    err = capsys.readouterr().err
    assert f"account {main.pk} ({main.iban}): balance 95.00 but its payments sum to 90.00" in err
