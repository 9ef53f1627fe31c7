"""The bank's domain: monetary accounts, the ledger (movements and payments), draft payments,
cards, payment requests, the audit log and the outbox of events for callbacks.

Invariants live here and in the database: amounts are positive, a balance never goes below its
overdraft limit, payments and audit events are append-only (database triggers, see migrations).
Every write goes through `bank.services` (the admin's actions too).
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .money import MoneyField, currency_field
from .vocabulary import (
    ACCOUNT_DESCRIPTION_MAX,
    COUNTERPARTY_NAME_MAX,
    COUNTERPARTY_VALUE_MAX,
    NAME_ON_CARD_MAX,
    PAYMENT_DESCRIPTION_MAX,
    REASON_MAX,
    ActorType,
    AuditAction,
    EventType,
)


class AccountType(models.TextChoices):
    BANK = "BANK", "Bank account"
    SAVINGS = "SAVINGS", "Savings account"
    JOINT = "JOINT", "Joint account"


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    CANCELLED = "CANCELLED"


class Customer(User):
    """A customer of the bank, as staff look one up (the same rows as Django's users)."""

    class Meta:
        proxy = True
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class SandboxCustomer(models.Model):
    """A test customer that a developer made in the sandbox (settings.BANK_SANDBOX), with demo money. Any app
    may ask a test customer for any scope; real customers only grant what staff allowed the app."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="sandbox_customer"
    )
    # PROTECT: the mark must not vanish with the developer, or the demo money would turn real.
    developer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sandbox_customers")
    created = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"test customer {self.customer_id} of {self.developer_id}"


class MonetaryAccount(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_accounts")
    type = models.CharField(max_length=8, choices=AccountType.choices, default=AccountType.BANK)
    description = models.CharField(max_length=ACCOUNT_DESCRIPTION_MAX)
    iban = models.CharField(max_length=34, unique=True)
    currency = currency_field()
    balance = MoneyField(default=0)
    overdraft_limit = MoneyField(default=0, help_text="How far below zero the balance may go.")
    savings_goal = MoneyField(null=True, blank=True)
    status = models.CharField(max_length=9, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=-F("overdraft_limit")), name="account_balance_above_overdraft_limit"
            ),
            models.CheckConstraint(condition=Q(overdraft_limit__gte=0), name="account_overdraft_limit_not_negative"),
            models.CheckConstraint(
                condition=Q(savings_goal__isnull=True) | Q(savings_goal__gt=0), name="account_savings_goal_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} ({self.iban})"


class CoOwnerStatus(models.TextChoices):
    """An invitation to co-own a joint account: pending until the invited customer answers it."""

    PENDING = "PENDING", "Invited"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    REVOKED = "REVOKED"


class CoOwner(models.Model):
    """A second owner of a joint account, who accepts or rejects the invitation in their own pages."""

    account = models.ForeignKey(MonetaryAccount, on_delete=models.CASCADE, related_name="co_owners")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="co_ownerships")
    status = models.CharField(max_length=8, choices=CoOwnerStatus.choices, default=CoOwnerStatus.PENDING)
    invited_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="co_owner_once_per_account")]

    def __str__(self) -> str:
        return f"{self.user} on {self.account} ({self.status})"


class CounterpartyType(models.TextChoices):
    IBAN = "IBAN", "IBAN"
    EMAIL = "EMAIL"


class Counterparty(models.Model):
    """The Pointer of the API: who is on the other side of a payment or request."""

    counterparty_type = models.CharField(max_length=5, choices=CounterpartyType.choices)
    counterparty_value = models.CharField(max_length=COUNTERPARTY_VALUE_MAX)
    counterparty_name = models.CharField(max_length=COUNTERPARTY_NAME_MAX, blank=True)

    class Meta:
        abstract = True


class MovementKind(models.TextChoices):
    INTERNAL = "INTERNAL", "Between two accounts of the bank"
    EXTERNAL = "EXTERNAL", "To an IBAN outside the bank"
    DEPOSIT = "DEPOSIT", "Deposit into the bank"


class Movement(models.Model):
    """One movement of money: the ledger row that its payments (legs) balance against.

    INTERNAL has two payments that sum to zero; EXTERNAL has one payment of -amount; DEPOSIT has one
    payment of +amount. `check_ledger` verifies exactly this.
    """

    kind = models.CharField(max_length=8, choices=MovementKind.choices)
    amount = MoneyField()
    currency = currency_field()
    description = models.CharField(max_length=PAYMENT_DESCRIPTION_MAX, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="movement_amount_positive")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"


class Payment(Counterparty):
    """One leg of a movement, on one account. Signed from the account's side. Never edited or deleted."""

    movement = models.ForeignKey(Movement, on_delete=models.PROTECT, related_name="payments")
    monetary_account = models.ForeignKey(MonetaryAccount, on_delete=models.PROTECT, related_name="payments")
    amount = MoneyField()
    currency = currency_field()
    description = models.CharField(max_length=PAYMENT_DESCRIPTION_MAX, blank=True)
    counterparty_account = models.ForeignKey(
        MonetaryAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    balance_after = MoneyField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="payment_amount_not_zero")]
        indexes = [
            models.Index(fields=["monetary_account", "-id"], name="payment_account_newest"),
            models.Index(fields=["monetary_account", "created"], name="payment_account_created"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} on {self.monetary_account_id}"


class DraftStatus(models.TextChoices):
    """Pending until the customer approves (and it is paid) or rejects it; the app or staff may cancel
    it first, and after 7 days unanswered it expires."""

    PENDING = "PENDING", "Waiting for approval"
    ACCEPTED = "ACCEPTED", "Approved and paid"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class DraftPayment(models.Model):
    """Payments that an app prepared and that only the customer can approve."""

    monetary_account = models.ForeignKey(MonetaryAccount, on_delete=models.PROTECT, related_name="draft_payments")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, null=True, blank=True, related_name="draft_payments"
    )
    status = models.CharField(max_length=9, choices=DraftStatus.choices, default=DraftStatus.PENDING)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=REASON_MAX, blank=True, help_text="Why it was rejected or cancelled.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["monetary_account", "status", "-id"], name="draft_account_status")]

    def __str__(self) -> str:
        return f"Draft {self.pk} ({self.status})"


class DraftPaymentEntry(Counterparty):
    draft = models.ForeignKey(DraftPayment, on_delete=models.CASCADE, related_name="entries")
    amount = MoneyField()
    currency = currency_field()
    description = models.CharField(max_length=PAYMENT_DESCRIPTION_MAX, blank=True)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "draft payment entries"
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="draft_entry_amount_positive")]

    def __str__(self) -> str:
        return f"{self.amount} to {self.counterparty_value}"


class CardType(models.TextChoices):
    DEBIT = "DEBIT", "Debit card"
    VIRTUAL = "VIRTUAL", "Virtual card"


class CardStatus(models.TextChoices):
    ORDERED = "ORDERED"
    ACTIVE = "ACTIVE"
    FROZEN = "FROZEN"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class Card(models.Model):
    """A payment card. The bank's card processor holds the number; we keep only its last four digits."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cards")
    type = models.CharField(max_length=7, choices=CardType.choices)
    status = models.CharField(max_length=9, choices=CardStatus.choices, default=CardStatus.ORDERED)
    name_on_card = models.CharField(max_length=NAME_ON_CARD_MAX)
    last_four = models.CharField(max_length=4)
    expiry_date = models.DateField()
    primary_account = models.ForeignKey(MonetaryAccount, on_delete=models.PROTECT, related_name="cards")
    secondary_account = models.ForeignKey(
        MonetaryAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="backup_cards"
    )
    daily_limit = MoneyField()
    currency = currency_field()
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(daily_limit__gte=0), name="card_daily_limit_not_negative"),
            models.CheckConstraint(
                condition=~Q(secondary_account=F("primary_account")), name="card_secondary_differs_from_primary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} •••• {self.last_four}"


class RequestStatus(models.TextChoices):
    """Pending until the payer pays or rejects it, or its sender withdraws it (revoked)."""

    PENDING = "PENDING", "Waiting for an answer"
    ACCEPTED = "ACCEPTED", "Paid"
    REJECTED = "REJECTED"
    REVOKED = "REVOKED"


class RequestInquiry(Counterparty):
    """A payment request that a customer sent (to another customer, by email or by IBAN)."""

    monetary_account = models.ForeignKey(MonetaryAccount, on_delete=models.PROTECT, related_name="request_inquiries")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = MoneyField()
    currency = currency_field()
    description = models.CharField(max_length=PAYMENT_DESCRIPTION_MAX, blank=True)
    status = models.CharField(max_length=8, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "request inquiries"
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="request_amount_positive")]

    def __str__(self) -> str:
        return f"Request {self.pk}: {self.amount} from {self.counterparty_value}"


class RequestResponse(models.Model):
    """The same request as its payer sees it, on the payer's account. The payer answers it."""

    inquiry = models.OneToOneField(RequestInquiry, on_delete=models.PROTECT, related_name="response")
    monetary_account = models.ForeignKey(MonetaryAccount, on_delete=models.PROTECT, related_name="request_responses")
    status = models.CharField(max_length=8, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Response {self.pk} to request {self.inquiry_id}"


class AuditEvent(models.Model):
    """Append-only record of every act that changes money, a card, an account or a connection,
    and of security events. Never holds a token, code, secret or card number."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices, db_index=True)
    actor_type = models.CharField(max_length=8, choices=ActorType.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["connection", "-id"], name="audit_connection_newest")]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {self.action}"


class IdempotencyKey(models.Model):
    """An API client's `Idempotency-Key`, scoped to its connection, with the first response it got.

    The row is claimed (IN_PROGRESS) in its own short transaction; the request's work and the switch
    to DONE commit together, so a DONE row always matches what was done, and an IN_PROGRESS row that
    outlived its lease belongs to a request that died before committing anything.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        DONE = "DONE", "Done"

    connection = models.ForeignKey("connections.Connection", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    state = models.CharField(max_length=11, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The JSON body exactly as first sent.")
    created = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "key"], name="idempotency_key_per_connection")]
        indexes = [models.Index(fields=["created"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.key} ({self.state})"


class Event(models.Model):
    """The outbox: what changed, written in the same transaction as the change (by the service that
    made it), so a committed change always has its event and a rolled-back one never does. The worker
    turns each event into callbacks for the apps that asked (connections.services.callbacks)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EventType.choices)
    created = models.DateTimeField(default=timezone.now)
    subject_type = models.CharField(max_length=60, help_text="The changed object's model (app_label.model).")
    subject_id = models.BigIntegerField()
    data = models.JSONField(
        encoder=DjangoJSONEncoder,
        null=True,
        blank=True,
        help_text="The object as the API returns it: at the change, or (immutable objects) when first sent.",
    )
    # Who may hear of it: the account it happened on, the customer, the connection it concerns.
    monetary_account = models.ForeignKey(
        MonetaryAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    connection = models.ForeignKey(
        "connections.Connection", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its callbacks were prepared; empty until the worker has."
    )

    class Meta:
        ordering = ["created"]
        indexes = [
            models.Index(fields=["created"], condition=models.Q(dispatched_at__isnull=True), name="event_undispatched")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class PeriodicJob(models.Model):
    """When each periodic job was last started: however many schedulers run, one claims each run."""

    name = models.CharField(max_length=100, primary_key=True)
    last_started_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class Passkey(models.Model):
    """A customer's passkey (a WebAuthn credential): the second factor for money, and a way to log in.
    Only the public key is kept; the private key never leaves the customer's authenticator."""

    customer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    name = models.CharField(max_length=60)
    credential_id = models.BinaryField(unique=True, max_length=1023)
    public_key = models.BinaryField(help_text="COSE public key, as the authenticator gave it.")
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer})"


class PasskeyChallenge(models.Model):
    """One WebAuthn challenge, issued for one operation of one customer in one session, single use and
    short-lived. For an approval it carries the digest of exactly what the page showed; the challenge
    the authenticator signs ends with that digest (dynamic linking)."""

    nonce = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the challenge's random part.")
    operation = models.CharField(max_length=120, help_text="What it may be used for, e.g. draft_payment:17.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of what the page showed, hex.")
    customer = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    session = models.CharField(max_length=64, help_text="SHA-256 of the session key it was issued in.")
    created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.operation} ({self.created:%Y-%m-%d %H:%M:%S})"
