"""Verify the whole ledger: every balance equals the sum of its payments, and every movement's legs
balance (an internal transfer's two payments sum to zero). Exits non-zero naming what is wrong."""

from django.core.management.base import BaseCommand, CommandError

from bank.models import MonetaryAccount, Movement
from bank.services.ledger import ledger_problems


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
