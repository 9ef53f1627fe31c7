"""Staff see customers' connections, with their status, and end them through a confirmation page
with a reason; scope requests are listed here and decided on the review page (`review`)."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from bank.core.admin import ReadOnlyAdminMixin, admin_link, changelist_link, confirmed_action
from bank.core.http import signed_in_user
from bank.models import AuditEvent, Customer
from connections import scopes as scope_table
from connections.models import AccessToken, Connection, RefreshToken, RevokedBy, ScopeRequest
from connections.services.connections import connection_revoke


class ConnectionStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Connection]) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Connection]) -> QuerySet[Connection]:
        now = timezone.now()
        match self.value():
            case "active":
                return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
            case "expired":
                return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
            case "revoked":
                return queryset.filter(revoked_at__isnull=False)
        return queryset


def revoke_connections(
    modeladmin: admin.ModelAdmin[Connection], request: HttpRequest, queryset: QuerySet[Connection], action: str | None
) -> HttpResponse | None:
    staff = signed_in_user(request)
    live = queryset.filter(revoked_at__isnull=True).select_related("user", "application")
    drafts = sum(connection.draft_payments.filter(status="PENDING").count() for connection in live)

    def revoke(connection: Connection, reason: str) -> str:
        connection_revoke(connection=connection, by=RevokedBy.STAFF, actor=staff, reason=reason)
        return f"Revoked: {connection}."

    return confirmed_action(
        modeladmin,
        request,
        live,
        title="Revoke connections",
        consequences=[
            "Each app loses access at once: every access token, refresh token and code of the connection stops.",
            f"Pending draft payments these apps prepared are cancelled ({drafts} in all).",
            "The customer sees the connection ended by the bank's staff, and can connect the app again.",
        ],
        perform=revoke,
        action=action,
    )


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Connection]):
    list_display = [
        "__str__",
        "customer",
        "app",
        "status",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "events",
    ]
    list_filter = [ConnectionStatusFilter, "application", "revoked_by"]
    search_fields = ["user__username", "user__email", "user__last_name", "application__name", "application__client_id"]
    list_select_related = ["user", "application"]
    readonly_fields = (
        "customer",
        "app",
        "status",
        "granted_scopes",
        "accounts",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoked_by_user",
        "tokens",
        "events",
    )
    fields = readonly_fields
    actions = ["revoke"]
    change_form_template = "admin/connections/connection/change_form.html"

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup in ("user__id__exact", "accounts__id__exact") or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Customer", ordering="user__username")
    def customer(self, connection: Connection) -> str:
        return admin_link(Customer.objects.filter(pk=connection.user_id).first())

    @admin.display(description="App", ordering="application__name")
    def app(self, connection: Connection) -> str:
        return admin_link(connection.application)

    @admin.display(description="Status")
    def status(self, connection: Connection) -> str:
        return connection.status_label

    @admin.display(description="Scopes granted")
    def granted_scopes(self, connection: Connection) -> SafeString:
        return format_html_join(
            ", ", "{}{}", ((scope.name, " (moves money)" if scope.money_moving else "") for scope in connection.granted)
        )

    @admin.display(description="Live tokens")
    def tokens(self, connection: Connection) -> str:
        access = AccessToken.objects.filter(connection=connection, expires__gt=timezone.now()).count()
        refresh = RefreshToken.objects.filter(connection=connection, revoked__isnull=True).count()
        return f"{access} access token(s), {refresh} refresh token(s) (never shown; revoke the connection to end them)"

    @admin.display(description="Audit log")
    def events(self, connection: Connection) -> str:
        return changelist_link(AuditEvent, "Events", connection__id__exact=connection.pk)

    @admin.action(description="Revoke the selected connections…")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Connection]) -> HttpResponse | None:
        return revoke_connections(self, request, queryset, "revoke")

    def get_urls(self) -> list[URLPattern]:
        revoke_one = path(
            "<int:pk>/revoke/",
            self.admin_site.admin_view(self.revoke_one),
            name="connections_connection_revoke",
        )
        return [revoke_one, *super().get_urls()]

    def revoke_one(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = revoke_connections(self, request, Connection.objects.filter(pk=pk), None)
        assert response is not None
        return response


@admin.register(ScopeRequest)
class ScopeRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ScopeRequest]):
    """Scopes asked for apps: by developers, or proposed by staff. Decided on the app's review page."""

    list_display = [
        "application",
        "wanted",
        "status",
        "requested_by",
        "requested_at",
        "endorsed_by",
        "decided_by",
        "review",
    ]
    list_filter = ["status"]
    search_fields = ["application__name"]
    list_select_related = ["application", "requested_by", "endorsed_by", "decided_by"]

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup == "application__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="Scopes")
    def wanted(self, request: ScopeRequest) -> str:
        return ", ".join(
            f"{scope.name}{' (moves money)' if scope.money_moving else ''}"
            for scope in scope_table.describe(request.scope_list)
        )

    @admin.display(description="Review")
    def review(self, request: ScopeRequest) -> str:
        url = reverse("admin:connections_awaitingreview_change", args=[request.application_id])
        return format_html('<a href="{}">Review {}</a>', url, request.application.name)
