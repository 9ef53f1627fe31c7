"""Staff see customers' connections and revoke them. The toolkit's own models (applications, tokens,
codes) have their admin classes in `oauth`, which the toolkit registers itself."""

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from bank.core.http import signed_in_user
from connections.models import Connection, RevokedBy
from connections.services.connections import connection_revoke


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "application",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "audit_log",
    ]
    list_filter = ["application", "revoked_by"]
    search_fields = ["user__username", "user__email", "application__name", "application__client_id"]
    list_select_related = ["user", "application"]
    readonly_fields = [
        "user",
        "application",
        "scope",
        "accounts",
        "created",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoked_by_user",
    ]
    actions = ["revoke"]

    @admin.display(description="Audit log")
    def audit_log(self, connection: Connection) -> str:
        url = reverse("admin:bank_auditevent_changelist")
        query = urlencode(
            {"customer__id__exact": connection.user_id, "application__id__exact": connection.application_id}
        )
        return format_html('<a href="{}?{}">Events</a>', url, query)

    def has_add_permission(self, request: HttpRequest, obj: Connection | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Connection | None = None) -> bool:
        return False

    @admin.action(description="Revoke the selected connections now")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        live = queryset.filter(revoked_at__isnull=True)
        count = 0
        for connection in live:
            connection_revoke(connection=connection, by=RevokedBy.STAFF, actor=signed_in_user(request))
            count += 1
        self.message_user(request, f"Revoked {count} connection(s).", messages.SUCCESS)
