"""Verify the whole ledger: every balance equals the sum of its payments, and every movement's legs
balance (an internal transfer's two payments sum to zero). Exits non-zero naming what is wrong."""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Abs, Coalesce, Round

from bank.models import MonetaryAccount, Movement, MovementKind, Payment
from bank.money import format_amount


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


class Command(BaseCommand):
    help = "Verify that every balance equals the sum of its payments and every movement balances."

    def handle(self, *args: object, **options: object) -> None:
        problems = ledger_problems()
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"The ledger is inconsistent: {len(problems)} problem(s).")
        accounts = MonetaryAccount.objects.count()
        movements = Movement.objects.count()
        self.stdout.write(self.style.SUCCESS(f"Ledger consistent: {accounts} accounts, {movements} movements."))
