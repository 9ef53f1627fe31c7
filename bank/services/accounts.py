"""Opening accounts, joint-account invitations, and deposits into the bank."""

import secrets
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from schwifty import IBAN

from bank.core.audit import acting, audit_record, by_customer
from bank.core.errors import ErrorCode, InvalidState, PermissionDenied, ValidationFailed
from bank.core.transactions import atomic_with_retry
from bank.models import AccountType, CoOwner, CoOwnerStatus, MonetaryAccount
from bank.money import quantize
from bank.selectors import ResolvedCounterparty, is_sandbox_customer
from bank.vocabulary import ACCOUNT_DESCRIPTION_MAX, AuditAction

from .ledger import DEPOSIT_IBAN, ledger_post, ledger_prepare
from .rules import ensure_within_sandbox, lock_owned

if TYPE_CHECKING:
    from connections.models import Connection


def iban_generate() -> str:
    """A valid IBAN in the bank's range; the checksum comes from schwifty."""
    account_code = f"{secrets.randbelow(10**10 - 1) + 1:010d}"
    iban = str(
        IBAN.generate(
            settings.BANK_IBAN_COUNTRY, bank_code=settings.BANK_IBAN_BANK_CODE, account_code=account_code
        ).compact
    )
    return iban if iban != DEPOSIT_IBAN else iban_generate()


def _co_owner(*, owner: User, type: str, co_owner_email: str | None) -> User | None:
    if type != AccountType.JOINT:
        if co_owner_email:
            raise ValidationFailed(
                "Only a joint account has a co-owner.", code=ErrorCode.CO_OWNER_NOT_ALLOWED, field="co_owner"
            )
        return None
    co_owner = get_user_model().objects.filter(email__iexact=(co_owner_email or "").strip(), is_active=True).first()
    if co_owner is None:
        raise ValidationFailed(
            "A joint account needs a co-owner who is a customer of the bank (their email).",
            code=ErrorCode.UNKNOWN_EMAIL,
            field="co_owner",
        )
    if co_owner.pk == owner.pk:
        raise ValidationFailed("You cannot be your own co-owner.", code=ErrorCode.CO_OWNER_IS_OWNER, field="co_owner")
    ensure_within_sandbox(customer_id=owner.pk, other_id=co_owner.pk, field="co_owner")
    return co_owner


def account_open(
    *,
    owner: User,
    type: str,
    description: str,
    savings_goal: Decimal | None = None,
    co_owner_email: str | None = None,
    actor: User,
    connection: "Connection | None" = None,
) -> MonetaryAccount:
    if type not in AccountType.values:
        raise ValidationFailed(
            "The account type is BANK, SAVINGS or JOINT.", code=ErrorCode.INVALID_ACCOUNT_TYPE, field="type"
        )
    description = (description or "").strip()
    if not description or len(description) > ACCOUNT_DESCRIPTION_MAX:
        raise ValidationFailed(
            f"A description of 1 to {ACCOUNT_DESCRIPTION_MAX} characters is required.",
            code=ErrorCode.INVALID_DESCRIPTION,
            field="description",
        )
    if savings_goal is not None:
        if type != AccountType.SAVINGS:
            raise ValidationFailed(
                "Only a savings account has a savings goal.",
                code=ErrorCode.SAVINGS_GOAL_NOT_ALLOWED,
                field="savings_goal",
            )
        savings_goal = quantize(savings_goal)
        if savings_goal <= 0:
            raise ValidationFailed(
                "A savings goal is positive.", code=ErrorCode.AMOUNT_NOT_POSITIVE, field="savings_goal"
            )
    co_owner = _co_owner(owner=owner, type=type, co_owner_email=co_owner_email)

    for _ in range(5):
        try:
            with transaction.atomic():
                account = MonetaryAccount.objects.create(
                    owner=owner, type=type, description=description, iban=iban_generate(), savings_goal=savings_goal
                )
                if co_owner is not None:
                    CoOwner.objects.create(account=account, user=co_owner)
                audit_record(
                    AuditAction.ACCOUNT_OPENED,
                    acting(actor, customer=owner, connection=connection),
                    target=account,
                    data={"type": type, "co_owner_invited": co_owner.pk if co_owner else None},
                )
                return account
        except IntegrityError:
            continue  # an IBAN collision: draw another
    raise InvalidState("Could not allocate an IBAN; try again.", code=ErrorCode.IBAN_ALLOCATION_FAILED)


@atomic_with_retry
def co_owner_answer(*, invitation_id: int, customer: User, accept: bool) -> CoOwner:
    """The invited customer accepts or rejects a joint-account invitation."""
    invitation = lock_owned(CoOwner.objects.filter(user=customer), pk=invitation_id, not_found="No such invitation.")
    if invitation.status != CoOwnerStatus.PENDING:
        raise InvalidState("This invitation was already answered.", code=ErrorCode.ALREADY_ANSWERED)
    invitation.status = CoOwnerStatus.ACCEPTED if accept else CoOwnerStatus.REJECTED
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    audit_record(
        AuditAction.CO_OWNER_ACCEPTED if accept else AuditAction.CO_OWNER_REJECTED,
        by_customer(customer),
        target=invitation.account,
    )
    return invitation


@atomic_with_retry
def account_deposit(*, account: MonetaryAccount, amount: Decimal, description: str, actor: User) -> None:
    """Money entering the bank from outside (demo data and staff corrections), recorded as a deposit."""
    demo_money = settings.BANK_DEMO_DATA_ALLOWED or (
        settings.BANK_SANDBOX and is_sandbox_customer(customer_id=account.owner_id)
    )
    if not actor.is_staff and not demo_money:
        raise PermissionDenied("Only staff can record a deposit.")
    payments = ledger_prepare(
        source=None, target=ResolvedCounterparty.of_account(account), amount=amount, description=description
    )
    audit_record(
        AuditAction.ACCOUNT_DEPOSIT, acting(actor, customer=account.owner), target=account, data={"amount": str(amount)}
    )
    ledger_post(payments)
