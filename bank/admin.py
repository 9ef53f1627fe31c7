"""Staff views of the bank. Money, ledger rows and the audit log are read-only here: staff change
cards and drafts only through actions that call the same services, recorded with their name."""

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from .core.errors import DomainError
from .core.http import signed_in_user
from .models import (
    AuditEvent,
    Card,
    CardStatus,
    CoOwner,
    DraftPayment,
    DraftPaymentEntry,
    MonetaryAccount,
    Movement,
    Payment,
    RequestInquiry,
    RequestResponse,
)
from .services.cards import card_update
from .services.drafts import draft_payment_cancel


class ReadOnlyAdminMixin:
    """Staff read these rows; what they may change, they change through actions that call services."""

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


class CoOwnerInline(ReadOnlyInline):
    model = CoOwner
    fields = ("user", "status", "invited_at", "answered_at")
    readonly_fields = fields


@admin.register(MonetaryAccount)
class MonetaryAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["iban", "description", "owner", "type", "balance", "status", "created"]
    list_filter = ["type", "status"]
    search_fields = ["iban", "description", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    inlines = [CoOwnerInline]


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "amount", "currency", "description", "created"]
    list_filter = ["kind"]
    date_hierarchy = "created"


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "monetary_account",
        "amount",
        "counterparty_name",
        "counterparty_value",
        "balance_after",
        "created",
    ]
    search_fields = ["monetary_account__iban", "counterparty_value", "counterparty_name", "description"]
    list_select_related = ["monetary_account"]
    date_hierarchy = "created"


class DraftEntryInline(ReadOnlyInline):
    model = DraftPaymentEntry
    fields = ("amount", "counterparty_type", "counterparty_value", "counterparty_name", "description", "payment")
    readonly_fields = fields


@admin.register(DraftPayment)
class DraftPaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "monetary_account", "application", "status", "created", "expires_at"]
    list_filter = ["status"]
    search_fields = ["monetary_account__iban", "created_by__username"]
    list_select_related = ["monetary_account", "application"]
    inlines = [DraftEntryInline]
    actions = ["cancel_drafts"]

    @admin.action(description="Cancel the selected pending drafts")
    def cancel_drafts(self, request: HttpRequest, queryset: QuerySet[DraftPayment]) -> None:
        done = 0
        for draft in queryset.select_related("created_by"):
            try:
                draft_payment_cancel(
                    draft_id=draft.pk,
                    customer=draft.created_by,
                    actor=signed_in_user(request),
                    reason="Cancelled by the bank",
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Draft {draft.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"Cancelled {done} draft payment(s).")


@admin.register(Card)
class CardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "owner", "type", "status", "last_four", "primary_account", "daily_limit", "expiry_date"]
    list_filter = ["type", "status"]
    search_fields = ["owner__username", "owner__email", "last_four"]
    list_select_related = ["owner", "primary_account"]
    actions = ["freeze", "unfreeze", "cancel"]

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Card], status: str) -> None:
        done = 0
        for card in queryset.select_related("owner"):
            try:
                card_update(card_id=card.pk, customer=card.owner, actor=signed_in_user(request), status=status)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"Card {card.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{done} card(s) now {status.lower()}.")

    @admin.action(description="Freeze the selected cards")
    def freeze(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._set_status(request, queryset, CardStatus.FROZEN)

    @admin.action(description="Unfreeze the selected cards")
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._set_status(request, queryset, CardStatus.ACTIVE)

    @admin.action(description="Cancel the selected cards")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._set_status(request, queryset, CardStatus.CANCELLED)


@admin.register(RequestInquiry)
class RequestInquiryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "monetary_account", "amount", "counterparty_value", "status", "created"]
    list_filter = ["status"]
    list_select_related = ["monetary_account"]


@admin.register(RequestResponse)
class RequestResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "monetary_account", "inquiry", "status", "created"]
    list_filter = ["status"]
    list_select_related = ["monetary_account", "inquiry"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created", "action", "actor_type", "actor", "customer", "application", "target_type", "target_id"]
    # Staff look a customer or an app up: only those that have events are listed.
    list_filter = [
        ("customer", admin.RelatedOnlyFieldListFilter),
        ("application", admin.RelatedOnlyFieldListFilter),
        "actor_type",
        "action",
    ]
    search_fields = ["action", "customer__username", "customer__email", "actor__username", "target_id"]
    list_select_related = ["actor", "customer", "application"]
    date_hierarchy = "created"
