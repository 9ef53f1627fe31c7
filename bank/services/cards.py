"""Cards: order, link, freeze, unfreeze, cancel, limits. The secondary account is the customer's own act."""

import calendar
import secrets
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.utils import timezone

from bank.core.audit import AuditData, acting, audit_record
from bank.core.errors import ErrorCode, InvalidState, PermissionDenied, ValidationFailed
from bank.core.events import Audience, event_record
from bank.core.transactions import atomic_with_retry
from bank.models import Card, CardStatus, CardType, MonetaryAccount
from bank.money import quantize
from bank.vocabulary import NAME_ON_CARD_MAX, AuditAction, EventType

from .rules import ensure_active, ensure_own_account, lock_owned

if TYPE_CHECKING:
    from connections.models import Connection

DEFAULT_DAILY_LIMIT = Decimal("1000.00")
MAX_DAILY_LIMIT = Decimal("10000.00")
CARD_VALIDITY_YEARS = 4

# Which status changes a customer (or an app with cards:manage) may make.
TRANSITIONS: dict[str, set[str]] = {
    CardStatus.ORDERED: {CardStatus.ACTIVE, CardStatus.CANCELLED},
    CardStatus.ACTIVE: {CardStatus.FROZEN, CardStatus.CANCELLED},
    CardStatus.FROZEN: {CardStatus.ACTIVE, CardStatus.CANCELLED},
    CardStatus.CANCELLED: set(),
    CardStatus.EXPIRED: set(),
}
# Activating a new physical card is the customer's own act, with the card in hand.
CUSTOMER_ONLY_TRANSITIONS = {(CardStatus.ORDERED, CardStatus.ACTIVE)}


def _own_active_account(customer: User, account: MonetaryAccount, field: str) -> None:
    ensure_own_account(
        customer=customer, account=account, message="A card can be linked only to your own accounts.", field=field
    )
    ensure_active(account)


def _checked_limit(value: Decimal) -> Decimal:
    limit = quantize(value)
    if not Decimal(0) <= limit <= MAX_DAILY_LIMIT:
        raise ValidationFailed(
            f"A daily limit is between 0.00 and {MAX_DAILY_LIMIT}.", code=ErrorCode.INVALID_LIMIT, field="limits"
        )
    return limit


def _expiry_date(today: date) -> date:
    year = today.year + CARD_VALIDITY_YEARS
    return date(year, today.month, calendar.monthrange(year, today.month)[1])


def card_order(
    *,
    customer: User,
    type: str,
    name_on_card: str,
    primary_account: MonetaryAccount,
    daily_limit: Decimal | None = None,
    actor: User,
    connection: "Connection | None" = None,
) -> Card:
    if type not in CardType.values:
        raise ValidationFailed("The card type is DEBIT or VIRTUAL.", code=ErrorCode.INVALID_CARD_TYPE, field="type")
    name_on_card = (name_on_card or "").strip().upper()
    if not name_on_card or len(name_on_card) > NAME_ON_CARD_MAX:
        raise ValidationFailed(
            f"The name on the card has 1 to {NAME_ON_CARD_MAX} characters.",
            code=ErrorCode.INVALID_NAME_ON_CARD,
            field="name_on_card",
        )
    _own_active_account(customer, primary_account, "primary_account_id")
    card = Card.objects.create(
        owner=customer,
        type=type,
        # A virtual card works at once; a physical one waits for the customer to activate it.
        status=CardStatus.ACTIVE if type == CardType.VIRTUAL else CardStatus.ORDERED,
        name_on_card=name_on_card,
        last_four=f"{secrets.randbelow(10_000):04d}",
        expiry_date=_expiry_date(timezone.localdate()),
        primary_account=primary_account,
        daily_limit=_checked_limit(daily_limit if daily_limit is not None else DEFAULT_DAILY_LIMIT),
    )
    audit_record(
        AuditAction.CARD_ORDERED,
        acting(actor, customer=customer, connection=connection),
        target=card,
        data={"type": type},
    )
    event_record(EventType.CARD_CREATED, card, Audience(account_id=primary_account.pk, customer_id=customer.pk))
    return card


def _ensure_changeable(card: Card) -> None:
    if card.status in (CardStatus.CANCELLED, CardStatus.EXPIRED):
        raise InvalidState(f"This card is {card.status.lower()}.", code=ErrorCode.CARD_NOT_CHANGEABLE)


@atomic_with_retry
def card_update(
    *,
    card_id: int,
    customer: User,
    actor: User,
    connection: "Connection | None" = None,
    status: str | None = None,
    daily_limit: Decimal | None = None,
    primary_account: MonetaryAccount | None = None,
    secondary_account: MonetaryAccount | None = None,
    clear_secondary: bool = False,
    reason: str = "",
) -> Card:
    """Change a card's status, limit or linked accounts in one act. Which of these a caller may
    change is the caller's rule (an app never changes the secondary account). Staff give a reason,
    which the audit event keeps."""
    card = lock_owned(Card.objects.filter(owner=customer), pk=card_id, not_found="No such card.")
    _ensure_changeable(card)
    changes: AuditData = {}
    if status is not None and status != card.status:
        if status not in TRANSITIONS.get(card.status, set()):
            raise InvalidState(
                f"A card that is {card.status.lower()} cannot become {status.lower()}.",
                code=ErrorCode.INVALID_CARD_TRANSITION,
                field="status",
            )
        if connection is not None and (card.status, status) in CUSTOMER_ONLY_TRANSITIONS:
            raise PermissionDenied(
                "Only the customer activates a new card, in the bank's own pages.",
                code=ErrorCode.CUSTOMER_ONLY,
                field="status",
            )
        changes["status"] = [card.status, status]
        card.status = status
    if daily_limit is not None:
        limit = _checked_limit(daily_limit)
        changes["daily_limit"] = [str(card.daily_limit), str(limit)]
        card.daily_limit = limit
    if primary_account is not None and primary_account.pk != card.primary_account_id:
        _own_active_account(customer, primary_account, "primary_account_id")
        if primary_account.pk == card.secondary_account_id:
            raise ValidationFailed(
                "The primary and secondary accounts differ.", code=ErrorCode.SAME_ACCOUNT, field="primary_account_id"
            )
        changes["primary_account_id"] = [card.primary_account_id, primary_account.pk]
        card.primary_account = primary_account
    if secondary_account is not None or clear_secondary:
        if secondary_account is not None:
            _own_active_account(customer, secondary_account, "secondary_account_id")
            if secondary_account.pk == card.primary_account_id:
                raise ValidationFailed(
                    "The primary and secondary accounts differ.",
                    code=ErrorCode.SAME_ACCOUNT,
                    field="secondary_account_id",
                )
        changes["secondary_account_id"] = [
            card.secondary_account_id,
            secondary_account.pk if secondary_account else None,
        ]
        card.secondary_account = secondary_account
    if changes:
        if reason:
            changes["reason"] = reason
        card.save()
        audit_record(
            AuditAction.CARD_UPDATED, acting(actor, customer=customer, connection=connection), target=card, data=changes
        )
        audience = Audience(account_id=card.primary_account_id, customer_id=customer.pk)
        event_record(EventType.CARD_UPDATED, card, audience)
    return card
