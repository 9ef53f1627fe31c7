"""The ledger primitive that every movement of money goes through, in two steps that keep account
rows locked about as briefly as a bare transfer does:

- `ledger_prepare` checks the movement, writes its Movement row and returns its payments (legs),
  not yet written. It locks nothing.
- `ledger_post` writes the legs: for each, in the accounts' primary-key order (so that concurrent
  movements never deadlock each other), one statement changes the balance only if the account is
  active and a debit stays within the overdraft limit, and inserts the payment with the balance it
  left, and the payment's callback event. An account's row is locked from that statement to the
  commit, so the caller does everything it can before `ledger_post` (a payment's audit record names
  its movement), and after it only what needs the payments' ids (the draft or request it paid).

A payment's id is drawn while its account is locked, so an account's payments in id order (the
order of its statement) each end at the balance the previous one left plus their amount;
`ledger_problems` checks that too. The database repeats the checks (constraints, and triggers that
keep payments append-only).
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection
from django.db.models import Count, DecimalField, F, Field, Model, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.fields import AutoFieldMixin
from django.db.models.functions import Abs, Coalesce, Round
from django.utils import timezone
from schwifty import IBAN

from bank.core.errors import ErrorCode, InsufficientFunds, ValidationFailed
from bank.core.events import Audience, events_build
from bank.models import AccountStatus, CounterpartyType, Event, MonetaryAccount, Movement, MovementKind, Payment
from bank.money import format_amount
from bank.selectors import ResolvedCounterparty
from bank.vocabulary import EventType

from .rules import checked_amount, ensure_active, ensure_within_sandbox

if TYPE_CHECKING:
    from django.db.backends.utils import _SQLType

# Where demo deposits come from: an IBAN in the bank's own range that no account ever gets.
DEPOSIT_IBAN = str(
    IBAN.generate(settings.BANK_IBAN_COUNTRY, bank_code=settings.BANK_IBAN_BANK_CODE, account_code="0000000000").compact
)
DEPOSIT_ORIGIN = ResolvedCounterparty(type=CounterpartyType.IBAN, value=DEPOSIT_IBAN, name="Deposit", account=None)


def ledger_prepare(
    *,
    source: MonetaryAccount | None,
    target: ResolvedCounterparty,
    amount: Decimal,
    description: str,
) -> list[Payment]:
    """Move `amount` from `source` (None: a deposit) to `target` (an account of the bank or an external
    IBAN), in the caller's transaction. Returns the payments, the source's leg first, not yet
    written: pass them (with those of any other movement of the same transaction) to `ledger_post`."""
    amount = checked_amount(amount)
    if source is not None and target.account is not None and source.pk == target.account.pk:
        raise ValidationFailed("The source and the target are the same account.", code=ErrorCode.SAME_ACCOUNT)
    if source is None and target.account is None:
        raise ValidationFailed("A deposit needs an account of the bank.", code=ErrorCode.INVALID_DEPOSIT)
    # An early answer from the accounts as read; ledger_post checks again on the locked rows.
    for account in (source, target.account):
        if account is not None:
            ensure_active(account)
    if source is not None:
        ensure_within_sandbox(customer_id=source.owner_id, other_id=target.owner_id)

    legs: list[tuple[MonetaryAccount, Decimal, ResolvedCounterparty]] = []
    if source is not None:
        legs.append((source, -amount, target))
    if target.account is not None:
        origin = ResolvedCounterparty.of_account(source) if source is not None else DEPOSIT_ORIGIN
        legs.append((target.account, amount, origin))
    kind = (
        MovementKind.DEPOSIT
        if source is None
        else (MovementKind.INTERNAL if target.is_internal else MovementKind.EXTERNAL)
    )
    movement = Movement.objects.create(kind=kind, amount=amount, description=description)
    now = timezone.now()
    return [
        Payment(
            movement=movement,
            monetary_account=account,
            amount=signed,
            description=description,
            **counterparty.as_fields(),
            counterparty_account=counterparty.account,
            created=now,
        )
        for account, signed, counterparty in legs
    ]


def ledger_post(payments: Sequence[Payment]) -> None:
    """Write the payments that `ledger_prepare` returned, with their events, changing the balances.
    From here to the commit the accounts' rows stay locked. Raises (and the caller's transaction
    rolls back) if an account is no longer active or a debit would take it below its overdraft
    limit."""
    # Every payment of every kind is booked here: its callback's event too, in the same statement.
    events = events_build(
        EventType.PAYMENT_CREATED, payments, [Audience(account_id=payment.monetary_account_id) for payment in payments]
    )
    for payment, event in sorted(zip(payments, events, strict=True), key=lambda leg: leg[0].monetary_account_id):
        _post_payment(payment, event)


def _post_payment(payment: Payment, event: Event) -> None:
    """One leg (the fault tests break in here, between the legs of a transfer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_post_sql(), _post_params(payment, event))
            row = cursor.fetchone()
        if row is None:  # the account is no longer active, or has not enough money
            account = MonetaryAccount.objects.get(pk=payment.monetary_account_id)
            ensure_active(account)
            raise _insufficient_funds(account)
        payment.pk, payment.balance_after = row
        event.subject_id = payment.pk
        for written in (payment, event):
            written._state.adding = False
            written._state.db = connection.alias
        return
    # SQLite serialises writers (each transaction begins IMMEDIATE): reading, checking and writing
    # the balance is enough there.
    account = MonetaryAccount.objects.get(pk=payment.monetary_account_id)
    ensure_active(account)
    if payment.amount < 0 and account.balance + payment.amount < -account.overdraft_limit:
        raise _insufficient_funds(account)
    account.balance += payment.amount
    MonetaryAccount.objects.filter(pk=account.pk).update(balance=account.balance)
    payment.balance_after = account.balance
    payment.save(force_insert=True)
    event.subject_id = payment.pk
    event.save(force_insert=True)


def _insufficient_funds(account: MonetaryAccount) -> InsufficientFunds:
    return InsufficientFunds(f"The account {account.iban} does not have enough money for this payment.")


@dataclass(frozen=True)
class _InsertSelect:
    """`INSERT INTO <model's table> SELECT <a parameter per column> FROM <source>`, where `computed`
    gives the SQL of the columns that come from the source instead (an automatic id is left out)."""

    model: type[Model]
    source: str
    computed: dict[str, str]

    def fields(self) -> "list[Field[object, object]]":  # quoted: Field is generic for mypy only
        return [field for field in self.model._meta.concrete_fields if not isinstance(field, AutoFieldMixin)]

    def values(self, row: Model) -> "list[_SQLType]":
        """The parameters for `row`."""
        return [
            field.get_db_prep_save(getattr(row, field.attname), connection)
            for field in self.fields()
            if field.name not in self.computed
        ]

    def sql(self) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column or "") for field in self.fields())
        values = ", ".join(
            self.computed.get(field.name, f"CAST(%s AS {field.cast_db_type(connection)})") for field in self.fields()
        )
        return f"INSERT INTO {quote(self.model._meta.db_table)} ({columns}) SELECT {values} FROM {self.source}"  # noqa: S608


_PAYMENT_SQL = _InsertSelect(Payment, source="account", computed={"balance_after": "account.balance"})
_EVENT_SQL = _InsertSelect(Event, source="payment", computed={"subject_id": "payment.id"})


@functools.cache
def _post_sql() -> str:
    """PostgreSQL, one statement per leg: the balance update, and only if it found the account active
    and the debit within its limit, the payment's and its event's inserts."""
    return f"""
        WITH account AS (
            UPDATE {connection.ops.quote_name(MonetaryAccount._meta.db_table)} SET balance = balance + %s
            WHERE id = %s AND status = %s AND (%s > 0 OR balance + %s >= -overdraft_limit)
            RETURNING balance
        ), payment AS (
            {_PAYMENT_SQL.sql()}
            RETURNING id, balance_after
        ), event AS (
            {_EVENT_SQL.sql()}
        )
        SELECT id, balance_after FROM payment
    """  # noqa: S608 (table and column names from the models; every value a parameter)


def _post_params(payment: Payment, event: Event) -> "list[_SQLType]":
    amount = payment.amount
    update: list[_SQLType] = [amount, payment.monetary_account_id, AccountStatus.ACTIVE.value, amount, amount]
    return update + _PAYMENT_SQL.values(payment) + _EVENT_SQL.values(event)


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
    # In id order, each payment leaves its account at the sum of the account's payments so far.
    running = Window(Sum("amount"), partition_by=F("monetary_account"), order_by=F("id").asc())
    unchained = (
        Payment.objects.annotate(difference=Round(running - F("balance_after"), 2))
        .exclude(difference=0)
        .values_list("pk", "monetary_account_id", "balance_after", "difference")
    )
    for pk, account_id, balance_after, difference in unchained:
        problems.append(
            f"payment {pk} on account {account_id}: balance after {format_amount(balance_after)}, "
            f"but the account's payments up to it sum to {format_amount(balance_after + difference)}"
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
