"""Paying: between one's own accounts, to another customer, or to an IBAN outside the bank."""

from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth.models import User

from bank.core.audit import acting, audit_record
from bank.core.errors import ErrorCode, PermissionDenied
from bank.core.transactions import atomic_with_retry
from bank.models import MonetaryAccount, Payment
from bank.selectors import Pointer, is_own_account, pointer_resolve
from bank.vocabulary import AuditAction

from .ledger import ledger_post, ledger_prepare
from .rules import checked_description, ensure_own_account, ensure_savings_rule

if TYPE_CHECKING:
    from connections.models import Connection


@atomic_with_retry
def payment_create(
    *,
    customer: User,
    source: MonetaryAccount,
    amount: Decimal,
    counterparty: Pointer,
    description: str = "",
    own_accounts_only: bool = False,
    shared_account_ids: frozenset[int] | None = None,
    actor: User,
    connection: "Connection | None" = None,
) -> Payment:
    """Pay from one of the customer's accounts. With `own_accounts_only` (an app holding
    payments:internal) the target must be an account that the customer owns or co-owns and, when
    `shared_account_ids` is given (an app's connection), one of those."""
    checked_description(description)
    ensure_own_account(customer=customer, account=source, message="You can pay only from your own accounts.")
    target = pointer_resolve(counterparty)
    if own_accounts_only:
        if target.account is None or not is_own_account(customer=customer, account=target.account):
            raise PermissionDenied(
                "With payments:internal an app can move money only between the customer's own accounts. "
                "To pay anyone else, create a draft payment for the customer to approve.",
                code=ErrorCode.USE_DRAFT_PAYMENT,
            )
        if shared_account_ids is not None and target.account.pk not in shared_account_ids:
            raise PermissionDenied(
                "The customer has not shared the target account with this app.", code=ErrorCode.ACCOUNT_NOT_SHARED
            )
    ensure_savings_rule(customer=customer, source=source, target=target)
    payments = ledger_prepare(source=source, target=target, amount=amount, description=description)
    audit_record(
        AuditAction.PAYMENT_CREATED,
        acting(actor, customer=customer, connection=connection),
        target=payments[0].movement,  # its legs' ids are drawn while they are posted, under the locks
        data={"amount": str(amount), "to": target.value, "internal": target.is_internal},
    )
    ledger_post(payments)  # last: from here to the commit the accounts' rows are locked
    return payments[0]
