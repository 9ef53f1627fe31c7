"""Bulk data for benchmarks, written so that the ledger still balances (check_ledger stays clean):
internal transfers of 1.00 between two accounts, generated inside PostgreSQL in one statement."""

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection as db

TRANSFER_SQL = """
WITH moved AS (
    INSERT INTO bank_movement (kind, amount, currency, description, created)
    SELECT 'INTERNAL', 1.00, 'EUR', 'Bench transfer', now() - ((%(n)s - g) * interval '1 second')
    FROM generate_series(1, %(n)s) AS g
    RETURNING id, created
), legs AS (
    SELECT id, created, row_number() OVER (ORDER BY id) AS nth FROM moved
)
INSERT INTO bank_payment (
    movement_id, monetary_account_id, amount, currency, description, counterparty_type,
    counterparty_value, counterparty_name, counterparty_account_id, balance_after, created
)
SELECT id, account, amount, 'EUR', 'Bench transfer', 'IBAN', iban, %(name)s, other, balance_after, created
FROM (
    SELECT id, created, nth, 0 AS side, %(source)s AS account, -1.00 AS amount, %(target_iban)s AS iban,
           %(target)s AS other, %(source_balance)s - nth AS balance_after
    FROM legs
    UNION ALL
    SELECT id, created, nth, 1, %(target)s, 1.00, %(source_iban)s, %(source)s, %(target_balance)s + nth
    FROM legs
) AS both_legs
ORDER BY nth, side  -- the two legs of each transfer side by side, as the ledger writes them
"""


def bench_customer(username: str = "bench", opening: Decimal = Decimal("10000000.00")) -> tuple[Any, Any, Any]:
    """A customer with a funded bank account and a savings account, through the real services."""
    from django.contrib.auth import get_user_model

    from bank.services.accounts import account_deposit, account_open

    users = get_user_model().objects
    user = users.create_user(username, f"{username}@example.com", secrets.token_urlsafe(16))
    staff = users.create_user(f"{username}-staff", "", secrets.token_urlsafe(16), is_staff=True)
    source = account_open(owner=user, type="BANK", description="Main", actor=user)
    target = account_open(owner=user, type="SAVINGS", description="Savings", actor=user)
    account_deposit(account=source, amount=opening, description="Bench funding", actor=staff)
    source.refresh_from_db()
    return user, source, target


def seed_transfers(source: Any, target: Any, payments: int) -> None:
    """`payments` payment rows (half on each account), balances updated to match."""
    from bank.models import MonetaryAccount

    transfers = payments // 2
    with db.cursor() as cursor:
        cursor.execute(
            TRANSFER_SQL,
            {
                "n": transfers,
                "source": source.pk,
                "target": target.pk,
                "source_iban": source.iban,
                "target_iban": target.iban,
                "name": "Bench",
                "source_balance": source.balance,
                "target_balance": target.balance,
            },
        )
    MonetaryAccount.objects.filter(pk=source.pk).update(balance=source.balance - transfers)
    MonetaryAccount.objects.filter(pk=target.pk).update(balance=target.balance + transfers)
    with db.cursor() as cursor:
        cursor.execute("ANALYZE bank_payment; ANALYZE bank_movement")


REDIRECT_URI = "https://bench.example/callback"


def bench_application(*, client_id: str, scopes: str, secret: str | None = None, name: str = "Bench") -> Any:
    """A confidential client allowed `scopes` (space-separated)."""
    from connections.models import Application

    return Application.objects.create(
        client_id=client_id,
        client_secret=secret or secrets.token_urlsafe(64),
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        allowed_scopes=scopes,
    )


def api_token(user: Any, accounts: list[Any], scope: str = "accounts:read payments:read payments:internal") -> str:
    """A real toolkit access token for a new app's connection with the given accounts (as after consent)."""
    from bench.tokens import issue_token
    from connections.services.connections import connection_grant

    application = bench_application(client_id=f"bench-{secrets.token_hex(4)}", scopes=scope)
    connection = connection_grant(user=user, application=application, scopes=scope.split(), accounts=accounts)
    return issue_token(connection, lifetime=timedelta(hours=2))
