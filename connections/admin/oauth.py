"""The toolkit registers the admin of its own models itself, with the classes named in
OAUTH2_PROVIDER["*_ADMIN_CLASS"]: these, which add the bank's policy and suspension. (Their own
module, because the toolkit's admin module imports it while still loading.)"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from oauth2_provider.admin import ApplicationAdmin

from bank.core.http import signed_in_user
from connections.models import Application
from connections.services.applications import application_suspend, application_unsuspend


class BankApplicationAdmin(ApplicationAdmin):
    list_display = ["name", "client_id", "developer_name", "verified", "suspended_at", "created"]
    list_filter = ["verified", "client_type", "suspended_at"]
    search_fields = ["name", "client_id", "developer_name"]
    exclude = ["skip_authorization", "algorithm", "post_logout_redirect_uris", "allowed_origins"]
    readonly_fields = ["suspended_at", "suspended_reason"]
    actions = ["suspend", "unsuspend"]

    @admin.action(description="Suspend: end every connection and refuse new authorizations")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        ended = sum(
            application_suspend(application=app, actor=signed_in_user(request), reason="Suspended by staff")
            for app in queryset
        )
        self.message_user(request, f"Suspended {queryset.count()} application(s); {ended} connection(s) revoked.")

    @admin.action(description="Lift the suspension")
    def unsuspend(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        for app in queryset:
            application_unsuspend(application=app, actor=signed_in_user(request))
        self.message_user(request, f"Lifted the suspension of {queryset.count()} application(s).")
