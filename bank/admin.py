"""The staff console for the bank's side: one view of a customer, accounts, the ledger, drafts, cards,
payment requests and the audit log. Money, the ledger and the audit log are read-only; staff change
a customer's email or access, cards and drafts only through services, with a reason where it
matters, and every change lands in the audit log with their name."""

import csv
from collections.abc import Iterator
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from connections.models import Connection

from .core.admin import (
    AutocompleteListFilter,
    ReadOnlyAdminMixin,
    admin_link,
    autocomplete_filter_media,
    changelist_link,
    confirmed_action,
    stamp,
)
from .core.audit import audit_record, by_staff
from .core.http import signed_in_user
from .models import (
    AuditEvent,
    Card,
    CardStatus,
    CoOwner,
    Customer,
    DraftPayment,
    DraftPaymentEntry,
    MonetaryAccount,
    Movement,
    Payment,
    RequestInquiry,
    RequestResponse,
)
from .money import format_amount
from .selectors import passkeys_of
from .services.cards import card_update
from .services.customers import customer_update
from .services.drafts import draft_payment_cancel
from .vocabulary import AuditAction

RECENT = 20  # rows of each kind on a customer's page

admin.site.site_header = "Demo Bank · staff console"
admin.site.site_title = "Demo Bank staff"
admin.site.index_title = "What do you need to do?"


def money(amount: Decimal | None, currency: str) -> str:
    return f"{format_amount(amount)} {currency}" if amount is not None else "—"


def table(headers: list[str], rows: list[list[object]]) -> SafeString:
    """A small read-only table for a detail page."""
    if not rows:
        return format_html("<p>{}</p>", "None.")
    head = format_html_join("", "<th scope='col'>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0


# --- Customers ---------------------------------------------------------------------------------


class CustomerForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["email", "is_active"]


def _save_customer(request: HttpRequest, customer: User, form: forms.ModelForm) -> None:
    """Email and access change through the service (audited), whichever admin page staff use."""
    customer_update(
        customer=customer,
        staff=signed_in_user(request),
        email=form.cleaned_data.get("email", customer.email),
        is_active=form.cleaned_data.get("is_active", customer.is_active),
    )


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    """One view of a customer: their accounts, connections, cards, recent payments and audit events,
    each linked. Identity fields are read-only; changing the email (a payment alias) or blocking
    access is audited."""

    form = CustomerForm
    list_display = ["__str__", "username", "email", "is_active", "accounts", "live_connections"]
    list_filter = ["is_active"]
    search_fields = ["username", "first_name", "last_name", "email", "owned_accounts__iban"]
    readonly_fields = [
        "username",
        "first_name",
        "last_name",
        "date_joined",
        "last_login",
        "accounts_table",
        "connections_table",
        "cards_table",
        "passkeys_table",
        "payments_table",
        "events_table",
    ]
    fieldsets = [
        ("Identity", {"fields": ["username", "first_name", "last_name", "date_joined", "last_login"]}),
        ("Contact and access", {"fields": ["email", "is_active"]}),
        ("Accounts", {"fields": ["accounts_table"]}),
        ("App connections", {"fields": ["connections_table"]}),
        ("Cards", {"fields": ["cards_table"]}),
        ("Passkeys", {"fields": ["passkeys_table"]}),
        ("Recent payments", {"fields": ["payments_table"]}),
        ("Recent audit events", {"fields": ["events_table"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return (
            super()
            .get_queryset(request)
            .filter(is_staff=False)
            .annotate(
                account_count=Count("owned_accounts", distinct=True),
                live_connection_count=Count(
                    "connections", filter=Q(connections__revoked_at__isnull=True), distinct=True
                ),
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Customer | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Customer, form: forms.ModelForm, change: bool) -> None:
        _save_customer(request, Customer.objects.get(pk=obj.pk), form)

    @admin.display(description="Accounts", ordering="account_count")
    def accounts(self, customer: Customer) -> int:
        return int(getattr(customer, "account_count", 0))

    @admin.display(description="Live connections", ordering="live_connection_count")
    def live_connections(self, customer: Customer) -> int:
        return int(getattr(customer, "live_connection_count", 0))

    @admin.display(description="Accounts")
    def accounts_table(self, customer: Customer) -> SafeString:
        rows = MonetaryAccount.objects.filter(Q(owner=customer) | Q(co_owners__user=customer)).distinct()
        return table(
            ["Account", "IBAN", "Type", "Balance", "Status", "Records"],
            [
                [
                    admin_link(account, account.description),
                    account.iban,
                    account.get_type_display(),
                    money(account.balance, account.currency),
                    account.get_status_display(),
                    changelist_link(Payment, "payments", monetary_account__id__exact=account.pk),
                ]
                for account in rows.order_by("id")
            ],
        )

    @admin.display(description="Connections")
    def connections_table(self, customer: Customer) -> SafeString:
        rows = Connection.objects.filter(user=customer).select_related("application").order_by("-created")
        return format_html(
            "{}<p>{}</p>",
            table(
                ["App", "Status", "Connected", "Expires", "Ended"],
                [
                    [
                        admin_link(connection, connection.application.name),
                        connection.status_label,
                        stamp(connection.created),
                        stamp(connection.expires_at),
                        stamp(connection.revoked_at),
                    ]
                    for connection in rows[:RECENT]
                ],
            ),
            changelist_link(
                Connection, "All of this customer's connections, with filters", user__id__exact=customer.pk
            ),
        )

    @admin.display(description="Cards")
    def cards_table(self, customer: Customer) -> SafeString:
        rows = Card.objects.filter(owner=customer).select_related("primary_account")
        return table(
            ["Card", "Status", "Primary account", "Daily limit"],
            [
                [
                    admin_link(card),
                    card.get_status_display(),
                    card.primary_account.iban,
                    money(card.daily_limit, card.currency),
                ]
                for card in rows
            ],
        )

    @admin.display(description="Passkeys")
    def passkeys_table(self, customer: Customer) -> SafeString:
        """Names and dates only; a customer removes their own passkeys (with their password)."""
        return table(
            ["Name", "Added", "Last used"],
            [
                [passkey.name, stamp(passkey.created), stamp(passkey.last_used_at) if passkey.last_used_at else "Never"]
                for passkey in passkeys_of(customer=customer)
            ],
        )

    @admin.display(description="Payments")
    def payments_table(self, customer: Customer) -> SafeString:
        rows = Payment.objects.filter(monetary_account__owner=customer).select_related("monetary_account")
        return table(
            ["When", "Account", "Amount", "Counterparty", "Description"],
            [
                [
                    admin_link(payment, stamp(payment.created)),
                    payment.monetary_account.iban,
                    money(payment.amount, payment.currency),
                    payment.counterparty_name or payment.counterparty_value,
                    payment.description or "—",
                ]
                for payment in rows.order_by("-id")[:RECENT]
            ],
        )

    @admin.display(description="Audit events")
    def events_table(self, customer: Customer) -> SafeString:
        rows = AuditEvent.objects.filter(customer=customer).select_related("actor", "application")
        return format_html(
            "{}<p>{}</p>",
            table(
                ["When", "What", "By", "App"],
                [
                    [
                        admin_link(event, stamp(event.created)),
                        event.get_action_display(),
                        event.get_actor_type_display(),
                        event.application or "—",
                    ]
                    for event in rows.order_by("-id")[:RECENT]
                ],
            ),
            changelist_link(AuditEvent, "All of this customer's audit events", customer__id__exact=customer.pk),
        )


class BankUserAdmin(UserAdmin):
    """Django's user admin, except that a change of email or of Active goes through the same audited
    service as the customer's page (blocking a customer stops their apps at once)."""

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        watched = {"email", "is_active"}
        others = [name for name in form.changed_data if name not in watched]
        if others:
            stored = User.objects.get(pk=obj.pk)
            obj.email, obj.is_active = stored.email, stored.is_active
            super().save_model(request, obj, form, change)
        if watched & set(form.changed_data):
            _save_customer(request, obj, form)


admin.site.unregister(User)
admin.site.register(User, BankUserAdmin)


# --- Accounts and the ledger --------------------------------------------------------------------


class CoOwnerInline(ReadOnlyInline):
    model = CoOwner
    fields = ("user", "status", "invited_at", "answered_at")
    readonly_fields = fields


@admin.register(MonetaryAccount)
class MonetaryAccountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["iban", "description", "owner_link", "type", "balance_with_currency", "status", "created"]
    list_filter = ["type", "status"]
    search_fields = ["iban", "description", "owner__username", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["related"]
    inlines = [CoOwnerInline]

    @admin.display(description="Owner", ordering="owner__username")
    def owner_link(self, account: MonetaryAccount) -> str:
        return admin_link(Customer.objects.filter(pk=account.owner_id).first())

    @admin.display(description="Balance", ordering="balance")
    def balance_with_currency(self, account: MonetaryAccount) -> str:
        return money(account.balance, account.currency)

    @admin.display(description="Records")
    def related(self, account: MonetaryAccount) -> SafeString:
        return format_html(
            "{} · {} · {}",
            changelist_link(Payment, "Payments", monetary_account__id__exact=account.pk),
            changelist_link(Connection, "Connections that see it", accounts__id__exact=account.pk),
            changelist_link(Card, "Cards", primary_account__id__exact=account.pk),
        )


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = ("monetary_account", "amount", "currency", "counterparty_name", "balance_after")
    readonly_fields = fields


@admin.register(Movement)
class MovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "kind", "amount", "currency", "accounts", "description", "created"]
    list_filter = ["kind"]
    date_hierarchy = "created"
    inlines = [PaymentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Movement]:
        return super().get_queryset(request).prefetch_related("payments__monetary_account")

    @admin.display(description="Accounts")
    def accounts(self, movement: Movement) -> str:
        return ", ".join(payment.monetary_account.iban for payment in movement.payments.all())


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "account_link",
        "amount",
        "counterparty_name",
        "counterparty_value",
        "balance_after",
        "created",
    ]
    search_fields = ["monetary_account__iban", "counterparty_value", "counterparty_name", "description"]
    list_select_related = ["monetary_account"]
    date_hierarchy = "created"
    readonly_fields = ["movement_link", "made_by"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup == "monetary_account__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Account", ordering="monetary_account__iban")
    def account_link(self, payment: Payment) -> str:
        return admin_link(payment.monetary_account, payment.monetary_account.iban)

    @admin.display(description="Movement")
    def movement_link(self, payment: Payment) -> str:
        return admin_link(payment.movement)

    @admin.display(description="Made by")
    def made_by(self, payment: Payment) -> str:
        """The app and connection (or the customer) whose act produced this movement."""
        legs = [str(pk) for pk in payment.movement.payments.values_list("pk", flat=True)]
        event = (
            # A payment's audit event names its movement (until 2026-11-30 it named the first leg).
            AuditEvent.objects.filter(
                Q(target_type="movement", target_id=str(payment.movement_id))
                | Q(target_type="payment", target_id__in=legs)
            )
            .select_related("connection__application", "actor")
            .first()
        )
        if event is None:
            return "—"
        if event.connection is not None:
            return format_html(
                "{} (connection {})",
                admin_link(event.connection.application),
                admin_link(event.connection, f"#{event.connection.pk}"),
            )
        return format_html("{} ({})", event.actor or "the bank", event.get_actor_type_display())


# --- Drafts, cards, requests ------------------------------------------------------------------


class DraftEntryInline(ReadOnlyInline):
    model = DraftPaymentEntry
    fields = ("amount", "counterparty_type", "counterparty_value", "counterparty_name", "description", "payment")
    readonly_fields = fields


@admin.register(DraftPayment)
class DraftPaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "customer", "monetary_account", "total", "application", "status", "created", "expires_at"]
    list_filter = ["status"]
    search_fields = ["monetary_account__iban", "created_by__username"]
    list_select_related = ["monetary_account", "monetary_account__owner", "application"]
    inlines = [DraftEntryInline]
    actions = ["cancel_drafts"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[DraftPayment]:
        return super().get_queryset(request).annotate(entries_total=Sum("entries__amount"))

    @admin.display(description="Customer", ordering="monetary_account__owner__username")
    def customer(self, draft: DraftPayment) -> str:
        return admin_link(Customer.objects.filter(pk=draft.monetary_account.owner_id).first())

    @admin.display(description="Amount", ordering="entries_total")
    def total(self, draft: DraftPayment) -> str:
        return money(getattr(draft, "entries_total", None), draft.monetary_account.currency)

    @admin.action(description="Cancel the selected pending drafts…")
    def cancel_drafts(self, request: HttpRequest, queryset: QuerySet[DraftPayment]) -> object:
        staff = signed_in_user(request)

        def cancel(draft: DraftPayment, reason: str) -> str:
            draft_payment_cancel(draft_id=draft.pk, customer=draft.created_by, actor=staff, reason=reason)
            return f"Draft {draft.pk} cancelled: nothing will be paid."

        return confirmed_action(
            self,
            request,
            queryset.select_related("created_by"),
            title="Cancel draft payments",
            consequences=[
                "Nothing of these drafts will be paid.",
                "The app that prepared each sees it cancelled, with your reason.",
            ],
            perform=cancel,
            action="cancel_drafts",
        )


@admin.register(Card)
class CardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "owner", "type", "status", "last_four", "primary_account", "daily_limit", "expiry_date"]
    list_filter = ["type", "status"]
    search_fields = ["owner__username", "owner__email", "last_four"]
    list_select_related = ["owner", "primary_account"]
    actions = ["freeze", "unfreeze", "cancel"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup == "primary_account__id__exact" or super().lookup_allowed(lookup, value, request)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Card], status: str, reason: str = "") -> None:
        staff = signed_in_user(request)
        for card in queryset.select_related("owner"):
            card_update(card_id=card.pk, customer=card.owner, actor=staff, status=status, reason=reason)
        self.message_user(request, f"{queryset.count()} card(s) now {status.lower()}.")

    @admin.action(description="Freeze the selected cards")
    def freeze(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._set_status(request, queryset, CardStatus.FROZEN)

    @admin.action(description="Unfreeze the selected cards")
    def unfreeze(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        self._set_status(request, queryset, CardStatus.ACTIVE)

    @admin.action(description="Cancel the selected cards…")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Card]) -> object:
        staff = signed_in_user(request)

        def cancel_card(card: Card, reason: str) -> str:
            card_update(card_id=card.pk, customer=card.owner, actor=staff, status=CardStatus.CANCELLED, reason=reason)
            return f"{card} cancelled."

        return confirmed_action(
            self,
            request,
            queryset.select_related("owner"),
            title="Cancel cards",
            consequences=[
                "Each card stops working for good: cancelling cannot be undone.",
                "Its owner sees it cancelled.",
            ],
            perform=cancel_card,
            action="cancel",
        )


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


# --- The audit log --------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every event, readable: when (to the second, in the bank's time zone), what, who, for which
    customer and app, with its data as a table. Filter by customer or app by typing their name;
    search by app name, IBAN or connection; export what is filtered as CSV."""

    list_display = ["when", "summary", "actor_type", "actor", "customer_link", "application_link", "connection_link"]
    list_filter = [
        ("customer", AutocompleteListFilter),
        ("application", AutocompleteListFilter),
        "action",
        "actor_type",
    ]
    search_fields = ["application__name", "=connection__id", "customer__owned_accounts__iban", "target_id", "action"]
    list_select_related = ["actor", "customer", "application", "connection"]
    autocomplete_fields = ["customer", "application"]
    date_hierarchy = "created"
    readonly_fields = (
        "when",
        "action",
        "actor_type",
        "actor",
        "customer_link",
        "application_link",
        "connection_link",
        "target",
        "details",
    )
    fields = readonly_fields
    change_list_template = "admin/bank/auditevent/change_list.html"

    @property
    def media(self) -> forms.Media:
        return super().media + autocomplete_filter_media(AuditEvent, "customer", self.admin_site)

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # A connection is found by its number; any other search would compare text with an id.
        if request.GET.get("q", "").strip().isdigit():
            return self.search_fields
        return [field for field in self.search_fields if field != "=connection__id"]

    @admin.display(description="When", ordering="created")
    def when(self, event: AuditEvent) -> str:
        return stamp(event.created)

    @admin.display(description="What")
    def summary(self, event: AuditEvent) -> str:
        facts = ", ".join(
            f"{key}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
            for key, value in event.data.items()
            if key in ("amount", "total", "reason", "by", "scopes", "to")
        )
        return f"{event.get_action_display()}{' (' + facts + ')' if facts else ''}"

    @admin.display(description="Customer", ordering="customer__username")
    def customer_link(self, event: AuditEvent) -> str:
        return admin_link(Customer.objects.filter(pk=event.customer_id).first()) if event.customer_id else "—"

    @admin.display(description="App", ordering="application__name")
    def application_link(self, event: AuditEvent) -> str:
        return admin_link(event.application)

    @admin.display(description="Connection")
    def connection_link(self, event: AuditEvent) -> str:
        return admin_link(event.connection, f"#{event.connection_id}") if event.connection_id else "—"

    @admin.display(description="Target")
    def target(self, event: AuditEvent) -> str:
        return f"{event.target_type} {event.target_id}" if event.target_type else "—"

    @admin.display(description="Data")
    def details(self, event: AuditEvent) -> SafeString:
        return table(["Field", "Value"], [[key, value] for key, value in sorted(event.data.items())])

    def get_urls(self) -> list[URLPattern]:
        export = path("export/", self.admin_site.admin_view(self.export_csv), name="bank_auditevent_export")
        return [export, *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> StreamingHttpResponse:
        """The events the list shows (its filters, search and dates), as CSV, streamed. The export is
        itself an audit event."""
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request).select_related("actor", "customer", "application")
        staff = signed_in_user(request)
        audit_record(
            AuditAction.AUDIT_EXPORTED,
            by_staff(staff),
            data={"filters": request.GET.urlencode(), "events": events.count()},
        )

        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(
                ["time", "action", "actor_type", "actor", "customer", "application", "connection", "target", "data"]
            )
            for event in events.iterator(chunk_size=500):
                yield writer.writerow(
                    [
                        self.when(event),
                        event.action,
                        event.actor_type,
                        event.actor.username if event.actor else "",
                        event.customer.username if event.customer else "",
                        event.application.name if event.application else "",
                        event.connection_id or "",
                        self.target(event),
                        event.data,
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        return response
