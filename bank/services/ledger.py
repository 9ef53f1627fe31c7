"""The ledger primitive that every movement of money goes through.

`ledger_move` checks each debit against the overdraft limit, writes one Movement and its Payment
legs, and updates the balances, on account rows that `lock_accounts` locked in primary-key order
(so concurrent movements never deadlock each other). The database repeats the checks (constraints
and triggers).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Abs, Coalesce, Round
from schwifty import IBAN

from bank.core.errors import ErrorCode, InsufficientFunds, ValidationFailed
from bank.core.events import Audience, events_record
from bank.models import CounterpartyType, MonetaryAccount, Movement, MovementKind, Payment
from bank.money import format_amount
from bank.selectors import ResolvedCounterparty
from bank.vocabulary import EventType

from .rules import checked_amount, ensure_active

# Where demo deposits come from: an IBAN in the bank's own range that no account ever gets.
DEPOSIT_IBAN = str(
    IBAN.generate(settings.BANK_IBAN_COUNTRY, bank_code=settings.BANK_IBAN_BANK_CODE, account_code="0000000000").compact
)
DEPOSIT_ORIGIN = ResolvedCounterparty(type=CounterpartyType.IBAN, value=DEPOSIT_IBAN, name="Deposit", account=None)


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
        raise ValidationFailed("The account does not exist.", code=ErrorCode.ACCOUNT_NOT_FOUND)
    return locked


@dataclass(frozen=True)
class Leg:
    """One side of a movement as the ledger needs it."""

    account: MonetaryAccount
    amount: Decimal  # signed: negative leaves the account
    counterparty: ResolvedCounterparty


def _debit(account: MonetaryAccount, amount: Decimal) -> None:
    ensure_active(account)
    if account.balance - amount < -account.overdraft_limit:
        raise InsufficientFunds(f"The account {account.iban} does not have enough money for this payment.")
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
    amount = checked_amount(amount)
    if source is not None and target.account is not None and source.pk == target.account.pk:
        raise ValidationFailed("The source and the target are the same account.", code=ErrorCode.SAME_ACCOUNT)
    if source is None and target.account is None:
        raise ValidationFailed("A deposit needs an account of the bank.", code=ErrorCode.INVALID_DEPOSIT)

    legs: list[Leg] = []
    if source is not None:
        _debit(source, amount)
        legs.append(Leg(source, -amount, target))
    if target.account is not None:
        ensure_active(target.account)
        target.account.balance += amount
        origin = ResolvedCounterparty.of_account(source) if source is not None else DEPOSIT_ORIGIN
        legs.append(Leg(target.account, amount, origin))

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
    # Every payment of every kind is booked here: its callback's event too, in the same transaction.
    events_record(EventType.PAYMENT_CREATED, payments, [Audience(account_id=leg.account.pk) for leg in legs])
    return payments


def _write_balance(account: MonetaryAccount) -> None:
    """One leg's new balance (the fault tests break in here, between the legs of a transfer)."""
    MonetaryAccount.objects.filter(pk=account.pk).update(balance=account.balance)


def ledger_problems() -> list[str]:
    problems: list[str] = []
    payment_sum = (
        Payment.objects.filter(monetary_account=OuterRef("pk"))
        .values("monetary_account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    zero = Value(0, output_field=DecimalField(max_digits=15, decimal_places=2))
    mismatched = (
        MonetaryAccount.objects.annotate(ledger=Coalesce(Subquery(payment_sum), zero))
        # Rounded to the cent: exact on PostgreSQL, and SQLite's binary sums compare correctly too.
        .annotate(difference=Round(F("ledger") - F("balance"), 2))
        .exclude(difference=0)
        .values_list("pk", "iban", "balance", "ledger")
    )
    for pk, iban, balance, ledger in mismatched:
        problems.append(
            f"account {pk} ({iban}): balance {format_amount(balance)} but its payments sum to {format_amount(ledger)}"
        )
    below = MonetaryAccount.objects.filter(balance__lt=-F("overdraft_limit")).values_list("pk", "iban", "balance")
    for pk, iban, balance in below:
        problems.append(f"account {pk} ({iban}): balance {format_amount(balance)} is below its overdraft limit")

    expected_legs = Q(kind=MovementKind.INTERNAL, legs=2) | Q(
        kind__in=[MovementKind.EXTERNAL, MovementKind.DEPOSIT], legs=1
    )
    movements = Movement.objects.annotate(
        legs=Count("payments"),
        net=Coalesce(Sum("payments__amount"), zero),
        gross=Coalesce(Sum(Abs("payments__amount")), zero),
    )
    bad = movements.exclude(
        expected_legs
        & (
            Q(kind=MovementKind.INTERNAL, net=0, gross=2 * F("amount"))
            | Q(kind=MovementKind.EXTERNAL, net=-F("amount"))
            | Q(kind=MovementKind.DEPOSIT, net=F("amount"))
        )
    ).values_list("pk", "kind", "amount", "legs", "net")
    for pk, kind, amount, legs, net in bad:
        problems.append(
            f"movement {pk} ({kind} {format_amount(amount)}): {legs} payments summing to {format_amount(net)}"
        )
    return problems
