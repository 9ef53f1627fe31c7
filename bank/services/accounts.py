"""Opening accounts, joint-account invitations, and demo deposits."""

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from schwifty import IBAN

from bank.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from bank.models import AccountType, CoOwner, CoOwnerStatus, MonetaryAccount
from bank.money import quantize
from bank.selectors import ResolvedCounterparty, display_name

from .audit import audit_record
from .ledger import DEPOSIT_IBAN, atomic_with_retry, ledger_move, lock_accounts

MAX_DESCRIPTION = 100


def iban_generate() -> str:
    """A valid IBAN in the bank's range; the checksum comes from schwifty."""
    account_code = f"{secrets.randbelow(10**10 - 1) + 1:010d}"
    iban = str(
        IBAN.generate(
            settings.BANK_IBAN_COUNTRY, bank_code=settings.BANK_IBAN_BANK_CODE, account_code=account_code
        ).compact
    )
    return iban if iban != DEPOSIT_IBAN else iban_generate()


def account_open(
    *,
    owner: Any,
    type: str,
    description: str,
    savings_goal: Decimal | None = None,
    co_owner_email: str | None = None,
    actor: Any,
    connection: Any = None,
) -> MonetaryAccount:
    if type not in AccountType.values:
        raise ValidationFailed("The account type is BANK, SAVINGS or JOINT.", code="invalid_account_type", field="type")
    description = (description or "").strip()
    if not description or len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"A description of 1 to {MAX_DESCRIPTION} characters is required.",
            code="invalid_description",
            field="description",
        )
    if savings_goal is not None:
        if type != AccountType.SAVINGS:
            raise ValidationFailed(
                "Only a savings account has a savings goal.", code="savings_goal_not_allowed", field="savings_goal"
            )
        savings_goal = quantize(savings_goal)
        if savings_goal <= 0:
            raise ValidationFailed("A savings goal is positive.", code="amount_not_positive", field="savings_goal")
    co_owner = None
    if type == AccountType.JOINT:
        co_owner = get_user_model().objects.filter(email__iexact=(co_owner_email or "").strip(), is_active=True).first()
        if co_owner is None:
            raise ValidationFailed(
                "A joint account needs a co-owner who is a customer of the bank (their email).",
                code="unknown_email",
                field="co_owner",
            )
        if co_owner.pk == owner.pk:
            raise ValidationFailed("You cannot be your own co-owner.", code="co_owner_is_owner", field="co_owner")
    elif co_owner_email:
        raise ValidationFailed("Only a joint account has a co-owner.", code="co_owner_not_allowed", field="co_owner")

    for _ in range(5):
        try:
            with transaction.atomic():
                account = MonetaryAccount.objects.create(
                    owner=owner, type=type, description=description, iban=iban_generate(), savings_goal=savings_goal
                )
                if co_owner is not None:
                    CoOwner.objects.create(account=account, user=co_owner)
                if connection is not None:
                    # The app that opened the account may see it; the customer can unshare it.
                    connection.accounts.add(account)
                audit_record(
                    action="account.opened",
                    actor=actor,
                    customer=owner,
                    connection=connection,
                    target=account,
                    data={"type": type, "co_owner_invited": co_owner.pk if co_owner else None},
                )
                return account
        except IntegrityError:
            continue  # an IBAN collision: draw another
    raise InvalidState("Could not allocate an IBAN; try again.", code="iban_allocation_failed")


@atomic_with_retry
def co_owner_answer(*, invitation_id: int, user: Any, accept: bool) -> CoOwner:
    """The invited customer accepts or rejects a joint-account invitation."""
    invitation = CoOwner.objects.select_for_update().filter(pk=invitation_id, user=user).first()
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.status != CoOwnerStatus.PENDING:
        raise InvalidState("This invitation was already answered.", code="already_answered")
    invitation.status = CoOwnerStatus.ACCEPTED if accept else CoOwnerStatus.REJECTED
    invitation.answered_at = timezone.now()
    invitation.save(update_fields=["status", "answered_at"])
    audit_record(
        action="account.co_owner_accepted" if accept else "account.co_owner_rejected",
        actor=user,
        customer=user,
        target=invitation.account,
    )
    return invitation


@atomic_with_retry
def account_deposit(*, account: MonetaryAccount, amount: Decimal, description: str, actor: Any) -> None:
    """Money entering the bank from outside (demo data and staff corrections), recorded as a deposit."""
    if not getattr(actor, "is_staff", False) and not getattr(settings, "BANK_DEMO_DATA_ALLOWED", False):
        raise PermissionDenied("Only staff can record a deposit.")
    locked = lock_accounts([account.pk])[account.pk]
    ledger_move(
        source=None,
        target=ResolvedCounterparty("IBAN", locked.iban, display_name(locked.owner), locked),
        amount=amount,
        description=description,
    )
    audit_record(
        action="account.deposit", actor=actor, customer=locked.owner, target=locked, data={"amount": str(amount)}
    )
