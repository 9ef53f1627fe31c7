"""The checks that several services make, each written once: whose account it is, whether it is
active, the savings rule, the sandbox's boundary, amounts and descriptions, and "lock a row the
customer owns, or 404"."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import models

from bank.core.errors import ErrorCode, InvalidState, NotFound, PermissionDenied, ValidationFailed
from bank.models import AccountStatus, AccountType, MonetaryAccount
from bank.money import quantize
from bank.selectors import ResolvedCounterparty, is_own_account, sandbox_customer_ids
from bank.vocabulary import PAYMENT_DESCRIPTION_MAX


def ensure_own_account(*, customer: User, account: MonetaryAccount, message: str, field: str | None = None) -> None:
    if not is_own_account(customer=customer, account=account):
        raise PermissionDenied(message, code=ErrorCode.NOT_YOUR_ACCOUNT, field=field)


def ensure_active(account: MonetaryAccount) -> None:
    if account.status != AccountStatus.ACTIVE:
        raise InvalidState(
            f"The account {account.iban} is {account.status.lower()}.", code=ErrorCode.ACCOUNT_NOT_ACTIVE
        )


def ensure_savings_rule(*, customer: User, source: MonetaryAccount, target: ResolvedCounterparty) -> None:
    """Money leaves a savings account only for the customer's own accounts."""
    if source.type == AccountType.SAVINGS and (
        target.account is None or not is_own_account(customer=customer, account=target.account)
    ):
        raise PermissionDenied(
            "Money leaves a savings account only for your own accounts.",
            code=ErrorCode.SAVINGS_ONLY_TO_OWN_ACCOUNTS,
        )


def ensure_within_sandbox(*, customer_id: int, other_id: int | None, field: str | None = None) -> None:
    """The sandbox's demo money never becomes real: a test customer pays, is paid by, asks money of
    and shares an account only with test customers, and no real customer deals with one. `other_id`
    is the other party's customer, None for an IBAN outside the bank (which is real). This holds
    with the sandbox turned off too (its test customers keep their accounts), whoever asks: the
    customer, an app, a co-owner of the account."""
    if other_id == customer_id:
        return  # one customer's own accounts: nothing crosses (and no query on the common transfer)
    parties = {customer_id} if other_id is None else {customer_id, other_id}
    test_customers = sandbox_customer_ids(among=parties)
    if test_customers and (test_customers != parties or other_id is None):
        raise PermissionDenied(
            "Sandbox money stays in the sandbox: a test customer deals only with other test customers.",
            code=ErrorCode.SANDBOX_MONEY,
            field=field,
        )


def checked_amount(value: Decimal | str, *, field: str = "amount") -> Decimal:
    """A positive amount with two decimals."""
    amount = quantize(value)
    if amount <= 0:
        raise ValidationFailed("The amount must be positive.", code=ErrorCode.AMOUNT_NOT_POSITIVE, field=field)
    return amount


def checked_description(description: str, *, field: str = "description") -> str:
    if len(description) > PAYMENT_DESCRIPTION_MAX:
        raise ValidationFailed(
            f"A description has at most {PAYMENT_DESCRIPTION_MAX} characters.",
            code=ErrorCode.DESCRIPTION_TOO_LONG,
            field=field,
        )
    return description


def lock_owned[M: models.Model](owned: models.QuerySet[M], *, pk: int, not_found: str) -> M:
    """Lock the row `pk` among the rows the customer owns (`owned` is already filtered to them); any
    other row, another customer's included, does not exist for them."""
    row = owned.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(not_found)
    return row
