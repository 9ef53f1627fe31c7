"""Reads: which accounts belong to a customer, and who a Pointer names."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from .errors import ValidationFailed
from .models import (
    AccountStatus,
    AccountType,
    CoOwner,
    CoOwnerStatus,
    CounterpartyType,
    DraftPayment,
    DraftStatus,
    MonetaryAccount,
    Payment,
    RequestInquiry,
    RequestResponse,
    RequestStatus,
)


def display_name(user: Any) -> str:
    return user.get_full_name() or user.username


def accounts_of(user: Any) -> QuerySet[MonetaryAccount]:
    """Every account the customer owns or co-owns (an accepted joint invitation)."""
    return MonetaryAccount.objects.filter(
        Q(owner=user) | Q(co_owners__user=user, co_owners__status=CoOwnerStatus.ACCEPTED)
    ).distinct()


def is_own_account(user: Any, account: MonetaryAccount) -> bool:
    return accounts_of(user).filter(pk=account.pk).exists()


def normalise_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise ValidationFailed(f"{value!r} is not a valid IBAN: {exc}", code="invalid_iban", field="value") from exc


@dataclass(frozen=True)
class ResolvedCounterparty:
    """A Pointer after resolution: an account of this bank, or an IBAN outside it."""

    type: str
    value: str
    name: str
    account: MonetaryAccount | None

    @property
    def is_internal(self) -> bool:
        return self.account is not None


def main_account_of(user: Any) -> MonetaryAccount | None:
    """Where money sent to a customer by email lands: their oldest active bank account."""
    return (
        MonetaryAccount.objects.filter(owner=user, status=AccountStatus.ACTIVE)
        # BANK before JOINT before SAVINGS, then the oldest.
        .order_by(Case(When(type=AccountType.BANK, then=0), When(type=AccountType.JOINT, then=1), default=2), "id")
        .first()
    )


def counterparty_resolve(*, type: str, value: str, name: str = "") -> ResolvedCounterparty:
    if type == CounterpartyType.EMAIL:
        user = get_user_model().objects.filter(email__iexact=value.strip(), is_active=True).first()
        account = main_account_of(user) if user else None
        if user is None or account is None:
            raise ValidationFailed(
                "No customer of the bank has this email address.", code="unknown_email", field="value"
            )
        return ResolvedCounterparty(type=type, value=user.email, name=display_name(user), account=account)
    if type == CounterpartyType.IBAN:
        iban = normalise_iban(value)
        account = MonetaryAccount.objects.select_related("owner").filter(iban=iban).first()
        if account is not None:
            return ResolvedCounterparty(type=type, value=iban, name=display_name(account.owner), account=account)
        if not name.strip():
            raise ValidationFailed("A name is required with an IBAN.", code="name_required", field="name")
        return ResolvedCounterparty(type=type, value=iban, name=name.strip(), account=None)
    raise ValidationFailed("A counterparty type is IBAN or EMAIL.", code="invalid_counterparty_type", field="type")


def pointer_resolve(pointer: dict[str, str], *, field: str = "counterparty_alias") -> ResolvedCounterparty:
    """Resolve an API Pointer (`{"type", "value", "name"}`); errors name the field under `field`."""
    try:
        return counterparty_resolve(
            type=pointer.get("type", ""), value=pointer.get("value", ""), name=pointer.get("name", "")
        )
    except ValidationFailed as exc:
        exc.details["field"] = f"{field}.{exc.details.get('field', 'value')}"
        raise


# --- The customer's own pages ---------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    drafts: int
    requests: int
    invitations: int

    @property
    def total(self) -> int:
        return self.drafts + self.requests + self.invitations


def pending_drafts(user: Any) -> QuerySet[DraftPayment]:
    return DraftPayment.objects.filter(
        monetary_account__in=accounts_of(user).values("pk"), status=DraftStatus.PENDING, expires_at__gt=timezone.now()
    )


def pending_responses(user: Any) -> QuerySet[RequestResponse]:
    return RequestResponse.objects.filter(
        monetary_account__in=accounts_of(user).values("pk"), status=RequestStatus.PENDING
    )


def pending_invitations(user: Any) -> QuerySet[CoOwner]:
    return CoOwner.objects.filter(user=user, status=CoOwnerStatus.PENDING).select_related("account", "account__owner")


def waiting_for(user: Any) -> Waiting:
    return Waiting(
        drafts=pending_drafts(user).count(),
        requests=pending_responses(user).count(),
        invitations=pending_invitations(user).count(),
    )


def recent_payments(user: Any, limit: int = 10) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(monetary_account__in=accounts_of(user).values("pk"))
        .select_related("monetary_account")
        .order_by("-id")[:limit]
    )


# --- What a connected app may see -----------------------------------------------------------


def shared_accounts(*, user: Any, connection: Any) -> QuerySet[MonetaryAccount]:
    """The accounts an app sees: shared with its connection and still the customer's own."""
    return accounts_of(user).filter(connections=connection)


def drafts_with_status(queryset: QuerySet[DraftPayment]) -> QuerySet[DraftPayment]:
    """Drafts with `shown_status`: a pending draft past its expiry is EXPIRED even before the
    periodic expiry job has written it."""
    return queryset.annotate(
        shown_status=Case(
            When(status=DraftStatus.PENDING, expires_at__lte=timezone.now(), then=Value(DraftStatus.EXPIRED.value)),
            default=F("status"),
        )
    )


# --- Approvals and payment requests in the customer's pages --------------------------------------


@dataclass(frozen=True)
class DraftEntryView:
    amount: Any
    currency: str
    payee: str
    payee_detail: str
    description: str
    new_payee: bool


@dataclass(frozen=True)
class DraftView:
    draft: DraftPayment
    entries: list[DraftEntryView]
    total: Any
    balance_after: Any


def drafts_for_approval(user: Any) -> list[DraftView]:
    """Pending drafts with what the customer needs to decide: each entry, whether the payee is new
    (never paid before from the customer's accounts), the total and the balance after."""
    own = accounts_of(user).values("pk")
    drafts = (
        pending_drafts(user)
        .select_related("monetary_account", "application")
        .prefetch_related("entries")
        .order_by("created")
    )
    paid_before = set(
        Payment.objects.filter(monetary_account__in=own, amount__lt=0).values_list("counterparty_value", flat=True)
    )
    views = []
    for draft in drafts:
        entries = [
            DraftEntryView(
                amount=entry.amount,
                currency=entry.currency,
                payee=entry.counterparty_name or entry.counterparty_value,
                payee_detail=entry.counterparty_value,
                description=entry.description,
                new_payee=entry.counterparty_value not in paid_before,
            )
            for entry in draft.entries.all()
        ]
        total = sum((entry.amount for entry in entries), 0)
        views.append(
            DraftView(draft=draft, entries=entries, total=total, balance_after=draft.monetary_account.balance - total)
        )
    return views


def answered_drafts(user: Any, limit: int = 20) -> QuerySet[DraftPayment]:
    """Drafts no longer waiting: approved, rejected, cancelled, or past their expiry."""
    return (
        drafts_with_status(DraftPayment.objects.filter(monetary_account__in=accounts_of(user).values("pk")))
        .exclude(shown_status=DraftStatus.PENDING)  # type: ignore[misc]  # an annotation
        .select_related("monetary_account", "application")
        .order_by("-updated")[:limit]
    )


def received_requests(user: Any) -> QuerySet[RequestResponse]:
    return RequestResponse.objects.filter(monetary_account__in=accounts_of(user).values("pk")).select_related(
        "monetary_account", "inquiry", "inquiry__monetary_account", "inquiry__created_by"
    )


def sent_requests(user: Any, limit: int = 50) -> QuerySet[RequestInquiry]:
    return (
        RequestInquiry.objects.filter(monetary_account__in=accounts_of(user).values("pk"))
        .select_related("monetary_account")
        .order_by("-id")[:limit]
    )
