"""The ledger primitive that every movement of money goes through.

`ledger_move` locks the balance rows in primary-key order (so concurrent movements never deadlock
each other), checks each debit against the overdraft limit, writes one Movement and its Payment
legs, and updates the balances. The database repeats the checks (constraints and triggers).
"""

import functools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import OperationalError, connection, transaction
from schwifty import IBAN

from bank.errors import InsufficientFunds, InvalidState, ValidationFailed
from bank.models import AccountStatus, CounterpartyType, MonetaryAccount, Movement, MovementKind, Payment
from bank.money import quantize
from bank.selectors import ResolvedCounterparty, display_name

# SQLSTATEs that mean "run the transaction again": serialization failure and deadlock.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5

# Where demo deposits come from: an IBAN in the bank's own range that no account ever gets.
DEPOSIT_IBAN = str(
    IBAN.generate(settings.BANK_IBAN_COUNTRY, bank_code=settings.BANK_IBAN_BANK_CODE, account_code="0000000000").compact
)


def _is_retryable(exc: OperationalError) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(exc)


def atomic_with_retry[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` in its own transaction, again (a few times, with jitter) on deadlock or serialization
    failure, so that the client never sees one. Inside an outer transaction it cannot retry, and
    simply joins it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as exc:
                if attempt == MAX_ATTEMPTS or not _is_retryable(exc):
                    raise
                time.sleep(random.uniform(0, 0.02 * attempt))
        raise AssertionError("unreachable")

    return wrapper


def lock_accounts(ids: Iterable[int]) -> dict[int, MonetaryAccount]:
    """Lock the given accounts' rows, always in primary-key order."""
    wanted = sorted(set(ids))
    locked = {
        account.pk: account
        for account in MonetaryAccount.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    if len(locked) != len(wanted):
        raise ValidationFailed("The account does not exist.", code="account_not_found")
    return locked


def ensure_active(account: MonetaryAccount) -> None:
    if account.status != AccountStatus.ACTIVE:
        raise InvalidState(f"The account {account.iban} is {account.status.lower()}.", code="account_not_active")


@dataclass(frozen=True)
class Leg:
    """One side of a movement as the ledger needs it."""

    account: MonetaryAccount
    amount: Decimal  # signed: negative leaves the account
    counterparty: ResolvedCounterparty


def _counterparty_of(account: MonetaryAccount) -> ResolvedCounterparty:
    return ResolvedCounterparty(
        type=CounterpartyType.IBAN, value=account.iban, name=display_name(account.owner), account=account
    )


def _debit(account: MonetaryAccount, amount: Decimal) -> None:
    ensure_active(account)
    if account.balance - amount < -account.overdraft_limit:
        raise InsufficientFunds(
            f"The account {account.iban} does not have enough money for this payment.",
            available=str(account.balance + account.overdraft_limit),
        )
    account.balance -= amount


def ledger_move(
    *,
    source: MonetaryAccount | None,
    target: ResolvedCounterparty,
    amount: Decimal,
    description: str,
) -> list[Payment]:
    """Move `amount` from `source` (None: a deposit) to `target` (an account of the bank or an external
    IBAN). Both accounts must already be locked by `lock_accounts` in the caller's transaction.
    Returns the payments written, the source's leg first."""
    amount = quantize(amount)
    if amount <= 0:
        raise ValidationFailed("The amount must be positive.", code="amount_not_positive", field="amount")
    if source is not None and target.account is not None and source.pk == target.account.pk:
        raise ValidationFailed("The source and the target are the same account.", code="same_account")

    legs: list[Leg] = []
    if source is not None:
        _debit(source, amount)
        legs.append(Leg(source, -amount, target))
    if target.account is not None:
        ensure_active(target.account)
        target.account.balance += amount
        origin = (
            _counterparty_of(source)
            if source is not None
            else ResolvedCounterparty(CounterpartyType.IBAN, DEPOSIT_IBAN, "Deposit", None)
        )
        legs.append(Leg(target.account, amount, origin))
    if source is None and target.account is None:
        raise ValidationFailed("A deposit needs an account of the bank.", code="invalid_deposit")

    kind = (
        MovementKind.DEPOSIT
        if source is None
        else (MovementKind.INTERNAL if target.is_internal else MovementKind.EXTERNAL)
    )
    movement = Movement.objects.create(kind=kind, amount=amount, description=description)
    payments = [
        Payment(
            movement=movement,
            monetary_account=leg.account,
            amount=leg.amount,
            description=description,
            counterparty_type=leg.counterparty.type,
            counterparty_value=leg.counterparty.value,
            counterparty_name=leg.counterparty.name,
            counterparty_account=leg.counterparty.account,
            balance_after=leg.account.balance,
        )
        for leg in legs
    ]
    Payment.objects.bulk_create(payments)
    for leg in legs:
        _write_balance(leg.account)
    return payments


def _write_balance(account: MonetaryAccount) -> None:
    """One leg's new balance (the fault tests break in here, between the legs of a transfer)."""
    MonetaryAccount.objects.filter(pk=account.pk).update(balance=account.balance)
