"""Paying: between one's own accounts, to another customer, or to an IBAN outside the bank."""

from decimal import Decimal
from typing import Any

from bank.errors import PermissionDenied, ValidationFailed
from bank.models import AccountType, MonetaryAccount, Payment
from bank.selectors import ResolvedCounterparty, accounts_of, pointer_resolve

from .audit import audit_record
from .ledger import atomic_with_retry, ledger_move, lock_accounts

MAX_DESCRIPTION = 140


def _check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"A description has at most {MAX_DESCRIPTION} characters.", code="description_too_long", field="description"
        )
    return description


def ensure_savings_rule(*, customer: Any, source: MonetaryAccount, target: ResolvedCounterparty) -> None:
    """Money leaves a savings account only for the customer's own accounts."""
    if source.type == AccountType.SAVINGS and (
        target.account is None or not accounts_of(customer).filter(pk=target.account.pk).exists()
    ):
        raise PermissionDenied(
            "Money leaves a savings account only for your own accounts.", code="savings_only_to_own_accounts"
        )


@atomic_with_retry
def payment_create(
    *,
    customer: Any,
    source: MonetaryAccount,
    amount: Decimal,
    counterparty: dict[str, str],
    description: str = "",
    own_accounts_only: bool = False,
    actor: Any,
    connection: Any = None,
) -> Payment:
    """Pay from one of the customer's accounts. With `own_accounts_only` (an app holding
    payments:internal) the target must be an account that the customer owns or co-owns and, for an
    app, has shared with its connection."""
    _check_description(description)
    own = accounts_of(customer)
    if not own.filter(pk=source.pk).exists():
        raise PermissionDenied("You can pay only from your own accounts.", code="not_your_account")
    target = pointer_resolve(counterparty)
    if own_accounts_only and (target.account is None or not own.filter(pk=target.account.pk).exists()):
        raise PermissionDenied(
            "With payments:internal an app can move money only between the customer's own accounts. "
            "To pay anyone else, create a draft payment for the customer to approve.",
            code="use_draft_payment",
        )
    if (
        own_accounts_only and connection is not None and not connection.accounts.filter(pk=target.account.pk).exists()  # type: ignore[union-attr]
    ):
        raise PermissionDenied(
            "The customer has not shared the target account with this app.", code="account_not_shared"
        )
    ensure_savings_rule(customer=customer, source=source, target=target)
    locked = lock_accounts([source.pk] + ([target.account.pk] if target.account else []))
    if target.account is not None:
        target = ResolvedCounterparty(target.type, target.value, target.name, locked[target.account.pk])
    payments = ledger_move(source=locked[source.pk], target=target, amount=amount, description=description)
    audit_record(
        action="payment.created",
        actor=actor,
        customer=customer,
        connection=connection,
        target=payments[0],
        data={"amount": str(amount), "to": target.value, "internal": target.is_internal},
    )
    return payments[0]
