"""Draft payments: an app prepares them, only the customer approves (all entries paid, exactly once)."""

from decimal import Decimal
from typing import TYPE_CHECKING, NotRequired, TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from bank.core.audit import acting, audit_record, by_customer
from bank.core.errors import ErrorCode, InvalidState, NotFound, ValidationFailed
from bank.core.events import Audience, events_record
from bank.core.transactions import atomic_with_retry
from bank.models import DraftPayment, DraftPaymentEntry, DraftStatus, MonetaryAccount, Payment
from bank.selectors import Pointer, ResolvedCounterparty, account_ids_of, counterparty_resolve, pointer_resolve
from bank.vocabulary import DRAFT_ENTRIES_MAX, REASON_MAX, AuditAction, EventType

from . import rules
from .ledger import ledger_post, ledger_prepare

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from connections.models import Connection


class DraftEntryInput(TypedDict):
    amount: Decimal
    counterparty_alias: Pointer
    description: NotRequired[str]


# What an answered draft's status becomes the code of a refusal to answer it again.
ALREADY: dict[str, ErrorCode] = {
    DraftStatus.ACCEPTED: ErrorCode.DRAFT_ACCEPTED,
    DraftStatus.REJECTED: ErrorCode.DRAFT_REJECTED,
    DraftStatus.CANCELLED: ErrorCode.DRAFT_CANCELLED,
    DraftStatus.EXPIRED: ErrorCode.DRAFT_EXPIRED,
}


def draft_payment_create(
    *,
    customer: User,
    source: MonetaryAccount,
    entries: list[DraftEntryInput],
    actor: User,
    connection: "Connection | None" = None,
) -> DraftPayment:
    if not 1 <= len(entries) <= DRAFT_ENTRIES_MAX:
        raise ValidationFailed(
            f"A draft payment has 1 to {DRAFT_ENTRIES_MAX} entries.", code=ErrorCode.INVALID_ENTRIES, field="entries"
        )
    rules.ensure_own_account(customer=customer, account=source, message="You can pay only from your own accounts.")
    rules.ensure_active(source)
    resolved: list[tuple[Decimal, ResolvedCounterparty, str]] = []
    for index, entry in enumerate(entries):
        amount = rules.checked_amount(entry["amount"], field=f"entries.{index}.amount")
        description = rules.checked_description(
            entry.get("description", "") or "", field=f"entries.{index}.description"
        )
        target = pointer_resolve(entry["counterparty_alias"], field=f"entries.{index}.counterparty_alias")
        if target.account is not None and target.account.pk == source.pk:
            raise ValidationFailed("An entry cannot pay the draft's own account.", code=ErrorCode.SAME_ACCOUNT)
        rules.ensure_savings_rule(customer=customer, source=source, target=target)
        rules.ensure_within_sandbox(
            customer_id=source.owner_id, other_id=target.owner_id, field=f"entries.{index}.counterparty_alias"
        )
        resolved.append((amount, target, description))

    with transaction.atomic():
        draft = DraftPayment.objects.create(
            monetary_account=source,
            created_by=customer,
            connection_id=connection.pk if connection is not None else None,
            application_id=connection.application_id if connection is not None else None,
            expires_at=timezone.now() + settings.DRAFT_PAYMENT_LIFETIME,
        )
        DraftPaymentEntry.objects.bulk_create(
            DraftPaymentEntry(
                draft=draft,
                amount=amount,
                description=description,
                **target.as_fields(),
            )
            for amount, target, description in resolved
        )
        audit_record(
            AuditAction.DRAFT_CREATED,
            acting(actor, customer=customer, connection=connection),
            target=draft,
            data={"entries": len(resolved), "total": str(sum(amount for amount, _, _ in resolved))},
        )
        _draft_events(EventType.DRAFT_PAYMENT_CREATED, [draft])
    return draft


def _lock_draft(*, draft_id: int, customer: User) -> DraftPayment:
    return rules.lock_owned(
        DraftPayment.objects.filter(monetary_account__in=account_ids_of(customer=customer)),
        pk=draft_id,
        not_found="No such draft payment.",
    )


def _ensure_pending(draft: DraftPayment) -> None:
    if draft.status != DraftStatus.PENDING:
        raise InvalidState(f"This draft payment is already {draft.status.lower()}.", code=ALREADY[draft.status])


@atomic_with_retry
def _expire_if_due(*, draft_id: int) -> bool:
    return bool(_drafts_set_status(DraftPayment.objects.filter(pk=draft_id, expires_at__lte=timezone.now())))


def draft_payment_accept(*, draft_id: int, customer: User) -> DraftPayment:
    """The customer approves: every entry is paid from the draft's account, all or nothing, once.
    The draft's row lock makes concurrent approvals wait; the second one then finds it ACCEPTED."""
    if _expire_if_due(draft_id=draft_id):
        raise InvalidState("This draft payment has expired.", code=ErrorCode.DRAFT_EXPIRED)
    return _draft_payment_pay(draft_id=draft_id, customer=customer)


@atomic_with_retry
def _draft_payment_pay(*, draft_id: int, customer: User) -> DraftPayment:
    draft = _lock_draft(draft_id=draft_id, customer=customer)
    _ensure_pending(draft)
    entries = list(draft.entries.all())
    targets = [
        counterparty_resolve(type=entry.counterparty_type, value=entry.counterparty_value, name=entry.counterparty_name)
        for entry in entries
    ]
    source = MonetaryAccount.objects.select_related("owner").get(pk=draft.monetary_account_id)
    payments: list[Payment] = []
    for entry, target in zip(entries, targets, strict=True):
        rules.ensure_savings_rule(customer=customer, source=source, target=target)
        legs = ledger_prepare(source=source, target=target, amount=entry.amount, description=entry.description)
        entry.payment = legs[0]
        payments += legs
    ledger_post(payments)
    DraftPaymentEntry.objects.bulk_update(entries, ["payment"])
    draft.status = DraftStatus.ACCEPTED
    draft.answered_at = timezone.now()
    draft.answered_by = customer
    draft.save(update_fields=["status", "answered_at", "answered_by", "updated"])
    _draft_events(EventType.DRAFT_PAYMENT_UPDATED, [draft])
    audit_record(
        AuditAction.DRAFT_ACCEPTED,
        by_customer(customer, connection=draft.connection),
        target=draft,
        data={"payment_ids": [entry.payment_id for entry in entries]},
    )
    return draft


@atomic_with_retry
def draft_payment_reject(*, draft_id: int, customer: User, reason: str = "") -> DraftPayment:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            f"A reason has at most {REASON_MAX} characters.", code=ErrorCode.REASON_TOO_LONG, field="reason"
        )
    draft = _lock_draft(draft_id=draft_id, customer=customer)
    _ensure_pending(draft)
    draft.status = DraftStatus.REJECTED
    draft.reason = reason
    draft.answered_at = timezone.now()
    draft.answered_by = customer
    draft.save(update_fields=["status", "reason", "answered_at", "answered_by", "updated"])
    _draft_events(EventType.DRAFT_PAYMENT_UPDATED, [draft])
    audit_record(
        AuditAction.DRAFT_REJECTED,
        by_customer(customer, connection=draft.connection),
        target=draft,
        data={"reason": reason},
    )
    return draft


@atomic_with_retry
def draft_payment_cancel(
    *, draft_id: int, customer: User, actor: User, connection: "Connection | None" = None, reason: str = ""
) -> DraftPayment:
    """The app that prepared a draft (or the bank's staff) withdraws it."""
    draft = _lock_draft(draft_id=draft_id, customer=customer)
    # An app sees only the drafts it prepared itself.
    if connection is not None and draft.application_id != connection.application_id:
        raise NotFound("No such draft payment.")
    _ensure_pending(draft)
    draft.status = DraftStatus.CANCELLED
    draft.reason = reason
    draft.save(update_fields=["status", "reason", "updated"])
    _draft_events(EventType.DRAFT_PAYMENT_UPDATED, [draft])
    audit_record(
        AuditAction.DRAFT_CANCELLED,
        acting(actor, customer=customer, connection=connection),
        target=draft,
        data={"reason": reason} if reason else {},
    )
    return draft


def draft_payments_cancel_for_connection(*, connection: "Connection", reason: str) -> int:
    """Every pending draft that an ended connection prepared is cancelled, in the caller's
    transaction (the caller's audit event counts them). Returns how many."""
    return _drafts_set_status(
        DraftPayment.objects.filter(connection_id=connection.pk), status=DraftStatus.CANCELLED, reason=reason
    )


@atomic_with_retry
def draft_payments_expire_due() -> int:
    """Mark every draft that nobody answered within its lifetime as expired (a periodic job), each
    with its callback. Returns how many."""
    return _drafts_set_status(DraftPayment.objects.filter(expires_at__lte=timezone.now()))


def _drafts_set_status(drafts: "QuerySet[DraftPayment]", *, status: str = DraftStatus.EXPIRED, reason: str = "") -> int:
    """Move the pending drafts among `drafts` to `status` (locked first, so an approval running at
    the same time either finishes before or finds them no longer pending), with their events."""
    locked = list(drafts.filter(status=DraftStatus.PENDING).select_for_update(skip_locked=False))
    if not locked:
        return 0
    now = timezone.now()
    DraftPayment.objects.filter(pk__in=[draft.pk for draft in locked]).update(status=status, reason=reason, updated=now)
    for draft in locked:
        draft.status, draft.reason, draft.updated = status, reason, now
    _draft_events(EventType.DRAFT_PAYMENT_UPDATED, locked)
    return len(locked)


def _draft_events(type: EventType, drafts: list[DraftPayment]) -> None:
    """For the app that prepared each draft: its connection names the app and the customer."""
    audiences = [
        Audience(account_id=d.monetary_account_id, customer_id=d.created_by_id, connection_id=d.connection_id)
        for d in drafts
    ]
    events_record(type, drafts, audiences)
