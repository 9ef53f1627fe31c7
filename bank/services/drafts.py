"""Draft payments: an app prepares them, only the customer approves (all entries paid, exactly once)."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bank.errors import InvalidState, NotFound, PermissionDenied, ValidationFailed
from bank.models import DraftPayment, DraftPaymentEntry, DraftStatus, MonetaryAccount
from bank.money import quantize
from bank.selectors import ResolvedCounterparty, accounts_of, counterparty_resolve, pointer_resolve

from .audit import audit_record
from .ledger import atomic_with_retry, ensure_active, ledger_move, lock_accounts
from .payments import MAX_DESCRIPTION, ensure_savings_rule

MAX_ENTRIES = 25
MAX_REASON = 200


def draft_payment_create(
    *,
    customer: Any,
    source: MonetaryAccount,
    entries: list[dict[str, Any]],
    actor: Any,
    connection: Any = None,
) -> DraftPayment:
    if not 1 <= len(entries) <= MAX_ENTRIES:
        raise ValidationFailed(
            f"A draft payment has 1 to {MAX_ENTRIES} entries.", code="invalid_entries", field="entries"
        )
    if not accounts_of(customer).filter(pk=source.pk).exists():
        raise PermissionDenied("You can pay only from your own accounts.", code="not_your_account")
    ensure_active(source)
    resolved: list[tuple[Decimal, ResolvedCounterparty, str]] = []
    for index, entry in enumerate(entries):
        amount = quantize(entry["amount"])
        if amount <= 0:
            raise ValidationFailed("Amounts are positive.", code="amount_not_positive", field=f"entries.{index}.amount")
        description = entry.get("description", "") or ""
        if len(description) > MAX_DESCRIPTION:
            raise ValidationFailed(
                f"A description has at most {MAX_DESCRIPTION} characters.",
                code="description_too_long",
                field=f"entries.{index}.description",
            )
        target = pointer_resolve(entry["counterparty_alias"], field=f"entries.{index}.counterparty_alias")
        if target.account is not None and target.account.pk == source.pk:
            raise ValidationFailed("An entry cannot pay the draft's own account.", code="same_account")
        ensure_savings_rule(customer=customer, source=source, target=target)
        resolved.append((amount, target, description))

    with transaction.atomic():
        draft = DraftPayment.objects.create(
            monetary_account=source,
            created_by=customer,
            connection=connection,
            application=connection.application if connection is not None else None,
            expires_at=timezone.now() + settings.DRAFT_PAYMENT_LIFETIME,
        )
        DraftPaymentEntry.objects.bulk_create(
            DraftPaymentEntry(
                draft=draft,
                amount=amount,
                description=description,
                counterparty_type=target.type,
                counterparty_value=target.value,
                counterparty_name=target.name,
            )
            for amount, target, description in resolved
        )
        audit_record(
            action="draft_payment.created",
            actor=actor,
            customer=customer,
            connection=connection,
            target=draft,
            data={"entries": len(resolved), "total": str(sum(amount for amount, _, _ in resolved))},
        )
    return draft


def _lock_pending_draft(*, draft_id: int, customer: Any) -> DraftPayment:
    draft = (
        DraftPayment.objects.select_for_update()
        .filter(pk=draft_id, monetary_account__in=accounts_of(customer).values("pk"))
        .first()
    )
    if draft is None:
        raise NotFound("No such draft payment.")
    return draft


def _ensure_answerable(draft: DraftPayment) -> None:
    if draft.status != DraftStatus.PENDING:
        raise InvalidState(
            f"This draft payment is already {draft.status.lower()}.", code=f"draft_{draft.status.lower()}"
        )


@atomic_with_retry
def _expire_if_due(*, draft_id: int) -> bool:
    updated = DraftPayment.objects.filter(
        pk=draft_id, status=DraftStatus.PENDING, expires_at__lte=timezone.now()
    ).update(status=DraftStatus.EXPIRED, updated=timezone.now())
    return bool(updated)


def draft_payment_accept(*, draft_id: int, customer: Any) -> DraftPayment:
    """The customer approves: every entry is paid from the draft's account, all or nothing, once.
    The draft's row lock makes concurrent approvals wait; the second one then finds it ACCEPTED."""
    if _expire_if_due(draft_id=draft_id):
        raise InvalidState("This draft payment has expired.", code="draft_expired")
    return _draft_payment_pay(draft_id=draft_id, customer=customer)


@atomic_with_retry
def _draft_payment_pay(*, draft_id: int, customer: Any) -> DraftPayment:
    draft = _lock_pending_draft(draft_id=draft_id, customer=customer)
    _ensure_answerable(draft)
    entries = list(draft.entries.all())
    targets = [
        counterparty_resolve(type=entry.counterparty_type, value=entry.counterparty_value, name=entry.counterparty_name)
        for entry in entries
    ]
    locked = lock_accounts([draft.monetary_account_id] + [t.account.pk for t in targets if t.account is not None])
    source = locked[draft.monetary_account_id]
    for entry, target in zip(entries, targets, strict=True):
        if target.account is not None:
            target = ResolvedCounterparty(target.type, target.value, target.name, locked[target.account.pk])
        ensure_savings_rule(customer=customer, source=source, target=target)
        entry.payment = ledger_move(source=source, target=target, amount=entry.amount, description=entry.description)[0]
    DraftPaymentEntry.objects.bulk_update(entries, ["payment"])
    draft.status = DraftStatus.ACCEPTED
    draft.answered_at = timezone.now()
    draft.answered_by = customer
    draft.save(update_fields=["status", "answered_at", "answered_by", "updated"])
    audit_record(
        action="draft_payment.accepted",
        actor=customer,
        customer=customer,
        connection=draft.connection,
        actor_type="customer",
        target=draft,
        data={"payment_ids": [entry.payment_id for entry in entries]},
    )
    return draft


@atomic_with_retry
def draft_payment_reject(*, draft_id: int, customer: Any, reason: str = "") -> DraftPayment:
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"A reason has at most {MAX_REASON} characters.", code="reason_too_long", field="reason")
    draft = _lock_pending_draft(draft_id=draft_id, customer=customer)
    _ensure_answerable(draft)
    draft.status = DraftStatus.REJECTED
    draft.reason = reason
    draft.answered_at = timezone.now()
    draft.answered_by = customer
    draft.save(update_fields=["status", "reason", "answered_at", "answered_by", "updated"])
    audit_record(
        action="draft_payment.rejected",
        actor=customer,
        customer=customer,
        actor_type="customer",
        target=draft,
        connection=draft.connection,
        data={"reason": reason},
    )
    return draft


@atomic_with_retry
def draft_payment_cancel(
    *, draft_id: int, customer: Any, actor: Any, connection: Any = None, reason: str = ""
) -> DraftPayment:
    """The app that prepared a draft (or the bank, when its connection ends) withdraws it."""
    draft = _lock_pending_draft(draft_id=draft_id, customer=customer)
    # An app sees only the drafts it prepared itself.
    if connection is not None and draft.application_id != connection.application_id:
        raise NotFound("No such draft payment.")
    _ensure_answerable(draft)
    draft.status = DraftStatus.CANCELLED
    draft.reason = reason
    draft.save(update_fields=["status", "reason", "updated"])
    audit_record(action="draft_payment.cancelled", actor=actor, customer=customer, connection=connection, target=draft)
    return draft


def draft_payments_expire_due() -> int:
    """Mark every draft that nobody answered within its lifetime as expired."""
    return DraftPayment.objects.filter(status=DraftStatus.PENDING, expires_at__lte=timezone.now()).update(
        status=DraftStatus.EXPIRED, updated=timezone.now()
    )
