"""Cards: order, link, freeze, unfreeze, cancel, limits. The secondary account is the customer's own act."""

import calendar
import secrets
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from bank.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from bank.models import Card, CardStatus, CardType, MonetaryAccount
from bank.money import quantize
from bank.selectors import accounts_of

from .audit import audit_record
from .ledger import atomic_with_retry, ensure_active

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


def _own_active_account(customer: Any, account: MonetaryAccount, field: str) -> None:
    if not accounts_of(customer).filter(pk=account.pk).exists():
        raise PermissionDenied("A card can be linked only to your own accounts.", code="not_your_account", field=field)
    ensure_active(account)


def _checked_limit(value: Decimal) -> Decimal:
    limit = quantize(value)
    if not Decimal(0) <= limit <= MAX_DAILY_LIMIT:
        raise ValidationFailed(
            f"A daily limit is between 0.00 and {MAX_DAILY_LIMIT}.", code="invalid_limit", field="limits"
        )
    return limit


def _expiry_date(today: date) -> date:
    year = today.year + CARD_VALIDITY_YEARS
    return date(year, today.month, calendar.monthrange(year, today.month)[1])


def card_order(
    *,
    customer: Any,
    type: str,
    name_on_card: str,
    primary_account: MonetaryAccount,
    daily_limit: Decimal | None = None,
    actor: Any,
    connection: Any = None,
) -> Card:
    if type not in CardType.values:
        raise ValidationFailed("The card type is DEBIT or VIRTUAL.", code="invalid_card_type", field="type")
    name_on_card = (name_on_card or "").strip().upper()
    if not name_on_card or len(name_on_card) > 26:
        raise ValidationFailed(
            "The name on the card has 1 to 26 characters.", code="invalid_name_on_card", field="name_on_card"
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
        action="card.ordered", actor=actor, customer=customer, connection=connection, target=card, data={"type": type}
    )
    return card


def _lock_card(*, card_id: int, customer: Any) -> Card:
    card = Card.objects.select_for_update().filter(pk=card_id, owner=customer).first()
    if card is None:
        raise NotFound("No such card.")
    return card


def _ensure_changeable(card: Card) -> None:
    if card.status in (CardStatus.CANCELLED, CardStatus.EXPIRED):
        raise InvalidState(f"This card is {card.status.lower()}.", code="card_not_changeable")


@atomic_with_retry
def card_update(
    *,
    card_id: int,
    customer: Any,
    actor: Any,
    connection: Any = None,
    status: str | None = None,
    daily_limit: Decimal | None = None,
    primary_account: MonetaryAccount | None = None,
    secondary_account: MonetaryAccount | None = None,
    clear_secondary: bool = False,
) -> Card:
    """Change a card's status, limit or linked accounts in one act. Which of these a caller may
    change is the caller's rule (an app never changes the secondary account)."""
    card = _lock_card(card_id=card_id, customer=customer)
    _ensure_changeable(card)
    changes: dict[str, Any] = {}
    if status is not None and status != card.status:
        if status not in TRANSITIONS.get(card.status, set()):
            raise InvalidState(
                f"A card that is {card.status.lower()} cannot become {status.lower()}.",
                code="invalid_card_transition",
                field="status",
            )
        if connection is not None and (card.status, status) in CUSTOMER_ONLY_TRANSITIONS:
            raise PermissionDenied(
                "Only the customer activates a new card, in the bank's own pages.", code="customer_only", field="status"
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
                "The primary and secondary accounts differ.", code="same_account", field="primary_account_id"
            )
        changes["primary_account_id"] = [card.primary_account_id, primary_account.pk]
        card.primary_account = primary_account
    if secondary_account is not None or clear_secondary:
        if secondary_account is not None:
            _own_active_account(customer, secondary_account, "secondary_account_id")
            if secondary_account.pk == card.primary_account_id:
                raise ValidationFailed(
                    "The primary and secondary accounts differ.", code="same_account", field="secondary_account_id"
                )
        changes["secondary_account_id"] = [
            card.secondary_account_id,
            secondary_account.pk if secondary_account else None,
        ]
        card.secondary_account = secondary_account
    if changes:
        card.save()
        audit_record(
            action="card.updated", actor=actor, customer=customer, connection=connection, target=card, data=changes
        )
    return card
