"""Reads of the bank's domain: which accounts belong to a customer, who a Pointer names, and what the
customer's own pages show. What a connected app may see is decided in `connections.selectors`, on
top of these.

Every selector takes keyword-only arguments and starts from the customer it is asked about, so
another customer's row is never in the result.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import NotRequired, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models
from django.db.models import Case, F, Func, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from .core.errors import ErrorCode, ValidationFailed
from .models import (
    AccountStatus,
    AccountType,
    AuditEvent,
    CoOwner,
    CoOwnerStatus,
    CounterpartyType,
    DraftPayment,
    DraftStatus,
    MonetaryAccount,
    Passkey,
    Payment,
    RequestInquiry,
    RequestResponse,
    RequestStatus,
    SandboxCustomer,
)
from .vocabulary import AuditAction


def display_name(user: User) -> str:
    return user.get_full_name() or user.username


KNOWN_ADDRESS_MEMORY = timedelta(days=90)


def logged_in_from_before(*, username: str, address: str) -> bool:
    """Whether the customer with this username logged in from this address in the last 90 days
    (their own address, which a lockout aimed at their username must spare)."""
    return AuditEvent.objects.filter(
        action=AuditAction.LOGIN,
        actor__username=username,
        data__ip=address,
        created__gte=timezone.now() - KNOWN_ADDRESS_MEMORY,
    ).exists()


# --- Accounts ---------------------------------------------------------------------------------


def is_sandbox_customer(*, customer_id: int) -> bool:
    """A customer the sandbox made for a developer (never a real customer)."""
    return SandboxCustomer.objects.filter(customer_id=customer_id).exists()


def sandbox_customer_ids(*, among: set[int]) -> set[int]:
    """Which of these customers the sandbox made (one query)."""
    return set(SandboxCustomer.objects.filter(customer_id__in=among).values_list("customer_id", flat=True))


def sandbox_customers_of(*, developer: User) -> QuerySet[SandboxCustomer]:
    return SandboxCustomer.objects.filter(developer=developer).select_related("customer").order_by("created")


def accounts_of(*, customer: User) -> QuerySet[MonetaryAccount]:
    """Every account the customer owns or co-owns (an accepted joint invitation)."""
    return MonetaryAccount.objects.filter(
        Q(owner=customer) | Q(co_owners__user=customer, co_owners__status=CoOwnerStatus.ACCEPTED)
    ).distinct()


def account_ids_of(*, customer: User) -> QuerySet[MonetaryAccount, int]:
    """The ids of `accounts_of`, as a subquery for "rows under the customer's accounts"."""
    return accounts_of(customer=customer).values_list("pk", flat=True)


def active_accounts_of(*, customer: User) -> QuerySet[MonetaryAccount]:
    """The accounts a customer can pay from or share, in the order they were opened."""
    return accounts_of(customer=customer).filter(status=AccountStatus.ACTIVE).order_by("id")


def is_own_account(*, customer: User, account: MonetaryAccount) -> bool:
    return accounts_of(customer=customer).filter(pk=account.pk).exists()


def main_account_of(*, customer: User) -> MonetaryAccount | None:
    """Where money sent to a customer by email lands: their oldest active bank account."""
    return (
        MonetaryAccount.objects.filter(owner=customer, status=AccountStatus.ACTIVE)
        # BANK before JOINT before SAVINGS, then the oldest.
        .order_by(Case(When(type=AccountType.BANK, then=0), When(type=AccountType.JOINT, then=1), default=2), "id")
        .first()
    )


# --- Counterparties (the API's Pointer) -------------------------------------------------------


def normalise_iban(value: str) -> str:
    try:
        return str(IBAN(value).compact)
    except SchwiftyException as exc:
        raise ValidationFailed(
            f"{value!r} is not a valid IBAN: {exc}", code=ErrorCode.INVALID_IBAN, field="value"
        ) from exc


class Pointer(TypedDict):
    """A counterparty as a client names it: `{"type": "IBAN" | "EMAIL", "value", "name"}`."""

    type: str
    value: str
    name: NotRequired[str]


@dataclass(frozen=True)
class ResolvedCounterparty:
    """A Pointer after resolution: an account of this bank, or an IBAN outside it."""

    type: str
    value: str
    name: str
    account: MonetaryAccount | None

    @classmethod
    def of_account(cls, account: MonetaryAccount) -> "ResolvedCounterparty":
        """An account of the bank as a counterparty: its IBAN and its owner's name."""
        return cls(type=CounterpartyType.IBAN, value=account.iban, name=display_name(account.owner), account=account)

    @property
    def is_internal(self) -> bool:
        return self.account is not None

    @property
    def owner_id(self) -> int | None:
        """The customer who owns the account; None outside the bank."""
        return self.account.owner_id if self.account is not None else None

    def as_fields(self) -> dict[str, str]:
        """The counterparty as payments, draft entries and requests store it (their counterparty_* fields)."""
        return {"counterparty_type": self.type, "counterparty_value": self.value, "counterparty_name": self.name}


def counterparty_resolve(*, type: str, value: str, name: str = "") -> ResolvedCounterparty:
    if type == CounterpartyType.EMAIL:
        user = get_user_model().objects.filter(email__iexact=value.strip(), is_active=True).first()
        account = main_account_of(customer=user) if user else None
        if user is None or account is None:
            raise ValidationFailed(
                "No customer of the bank has this email address.", code=ErrorCode.UNKNOWN_EMAIL, field="value"
            )
        return ResolvedCounterparty(type=type, value=user.email, name=display_name(user), account=account)
    if type == CounterpartyType.IBAN:
        iban = normalise_iban(value)
        account = MonetaryAccount.objects.select_related("owner").filter(iban=iban).first()
        if account is not None:
            return ResolvedCounterparty(type=type, value=iban, name=display_name(account.owner), account=account)
        if not name.strip():
            raise ValidationFailed("A name is required with an IBAN.", code=ErrorCode.NAME_REQUIRED, field="name")
        return ResolvedCounterparty(type=type, value=iban, name=name.strip(), account=None)
    raise ValidationFailed(
        "A counterparty type is IBAN or EMAIL.", code=ErrorCode.INVALID_COUNTERPARTY_TYPE, field="type"
    )


def pointer_resolve(pointer: Pointer, *, field: str = "counterparty_alias") -> ResolvedCounterparty:
    """Resolve an API Pointer (`{"type", "value", "name"}`); errors name the field under `field`."""
    try:
        return counterparty_resolve(
            type=pointer.get("type", ""), value=pointer.get("value", ""), name=pointer.get("name", "")
        )
    except ValidationFailed as exc:
        exc.field = f"{field}.{exc.field or 'value'}"
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


def drafts_of(*, customer: User) -> QuerySet[DraftPayment]:
    """Every draft payment on the customer's accounts, whatever its status."""
    return DraftPayment.objects.filter(monetary_account__in=account_ids_of(customer=customer))


def pending_drafts(*, customer: User) -> QuerySet[DraftPayment]:
    return drafts_of(customer=customer).filter(status=DraftStatus.PENDING, expires_at__gt=timezone.now())


def pending_responses(*, customer: User) -> QuerySet[RequestResponse]:
    return RequestResponse.objects.filter(
        monetary_account__in=account_ids_of(customer=customer), status=RequestStatus.PENDING
    )


def pending_invitations(*, customer: User) -> QuerySet[CoOwner]:
    return CoOwner.objects.filter(user=customer, status=CoOwnerStatus.PENDING).select_related(
        "account", "account__owner"
    )


def _count[M: models.Model](rows: QuerySet[M]) -> "Subquery[models.IntegerField[int, int]]":
    """COUNT(*) of `rows` as a scalar subquery (no GROUP BY: one row, whatever the rows)."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1]
    return Subquery(counted, output_field=models.IntegerField())


def waiting_for(*, customer: User) -> Waiting:
    """What waits for the customer (every page's header): three counts in one query."""
    counts = (
        get_user_model()
        .objects.filter(pk=customer.pk)
        .values(
            drafts=_count(pending_drafts(customer=customer)),
            requests=_count(pending_responses(customer=customer)),
            invitations=_count(CoOwner.objects.filter(user=customer, status=CoOwnerStatus.PENDING)),
        )
        .get()
    )
    return Waiting(**counts)


def recent_payments(*, customer: User, limit: int = 10) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(monetary_account__in=account_ids_of(customer=customer))
        .select_related("monetary_account")
        .order_by("-id")[:limit]
    )


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
    amount: Decimal
    currency: str
    payee: str
    payee_detail: str
    description: str
    new_payee: bool


@dataclass(frozen=True)
class DraftView:
    draft: DraftPayment
    entries: list[DraftEntryView]
    total: Decimal
    balance_after: Decimal


def drafts_for_approval(*, customer: User) -> list[DraftView]:
    """Pending drafts with what the customer needs to decide: each entry, whether the payee is new
    (never paid before from the customer's accounts), the total and the balance after."""
    drafts = (
        pending_drafts(customer=customer)
        .select_related("monetary_account", "application")
        .prefetch_related("entries")
        .order_by("created")
    )
    paid_before = set(
        Payment.objects.filter(monetary_account__in=account_ids_of(customer=customer), amount__lt=0).values_list(
            "counterparty_value", flat=True
        )
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
        total = sum((entry.amount for entry in entries), Decimal(0))
        views.append(
            DraftView(draft=draft, entries=entries, total=total, balance_after=draft.monetary_account.balance - total)
        )
    return views


def answered_drafts(*, customer: User, limit: int = 20) -> QuerySet[DraftPayment]:
    """Drafts no longer waiting: approved, rejected, cancelled, or past their expiry."""
    return (
        drafts_with_status(DraftPayment.objects.filter(monetary_account__in=account_ids_of(customer=customer)))
        .exclude(Q(shown_status=DraftStatus.PENDING))
        .select_related("monetary_account", "application")
        .order_by("-updated")[:limit]
    )


def received_requests(*, customer: User) -> QuerySet[RequestResponse]:
    return RequestResponse.objects.filter(monetary_account__in=account_ids_of(customer=customer)).select_related(
        "monetary_account", "inquiry", "inquiry__monetary_account", "inquiry__created_by"
    )


def waiting_requests(*, customer: User) -> QuerySet[RequestResponse]:
    return received_requests(customer=customer).filter(status=RequestStatus.PENDING).order_by("created")


def answered_requests(*, customer: User, limit: int = 20) -> QuerySet[RequestResponse]:
    return received_requests(customer=customer).exclude(status=RequestStatus.PENDING).order_by("-updated")[:limit]


def sent_requests(*, customer: User, limit: int = 50) -> QuerySet[RequestInquiry]:
    return (
        RequestInquiry.objects.filter(monetary_account__in=account_ids_of(customer=customer))
        .select_related("monetary_account")
        .order_by("-id")[:limit]
    )


# What the home page lists as recent security events: what a customer should notice if it was not them.
SECURITY_ACTIONS = (
    AuditAction.PASSWORD_CHANGED,
    AuditAction.PASSWORD_GUESSES_LOCKED,
    AuditAction.PASSKEY_ADDED,
    AuditAction.PASSKEY_REMOVED,
    AuditAction.PASSKEY_REFUSED,
    AuditAction.CONNECTION_GRANTED,
    AuditAction.CONNECTION_REVOKED,
    AuditAction.CONNECTION_EXPIRED,
    AuditAction.CONNECTION_ACCOUNTS_CHANGED,
)


def security_events_of(*, customer: User, limit: int = 5) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(customer=customer, action__in=SECURITY_ACTIONS)
        .select_related("application")
        .order_by("-id")[:limit]
    )


def passkeys_of(*, customer: User) -> QuerySet[Passkey]:
    return Passkey.objects.filter(customer=customer).order_by("created")
