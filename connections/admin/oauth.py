"""The toolkit registers the admin of its own models itself, with the classes named in
OAUTH2_PROVIDER["*_ADMIN_CLASS"]: these. (Their own module, because the toolkit's admin module
imports it while still loading.)

Applications: every credential and identity field is read-only (the toolkit's own read-only list is
kept); the bank's policy changes only on the review page, and suspension only through a
confirmation page with a reason. Tokens, refresh tokens, codes and ID tokens are read-only and never
show a credential: staff end them by revoking their connection.
"""

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from oauth2_provider.admin import ApplicationAdmin

from bank.core.admin import ReadOnlyAdminMixin, admin_link, changelist_link, confirmed_action
from bank.core.http import signed_in_user
from bank.models import AuditEvent
from connections.models import AccessToken, Application, Connection, Grant, IDToken, RefreshToken
from connections.services.vetting import application_suspend, application_unsuspend


class ApplicationStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Application]) -> list[tuple[str, str]]:
        return [("waiting", "Waiting for review"), ("suspended", "Suspended"), ("live", "Live"), ("deleted", "Deleted")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Application]) -> QuerySet[Application]:
        match self.value():
            case "waiting":
                return queryset.filter(review_requested_at__isnull=False)
            case "suspended":
                return queryset.filter(suspended_at__isnull=False)
            case "live":
                return queryset.filter(review_requested_at__isnull=True, suspended_at__isnull=True, deleted_at=None)
            case "deleted":
                return queryset.filter(deleted_at__isnull=False)
        return queryset


def suspension(
    modeladmin: admin.ModelAdmin[Application],
    request: HttpRequest,
    queryset: QuerySet[Application],
    *,
    lift: bool,
    action: str | None,
) -> HttpResponse | None:
    staff = signed_in_user(request)
    if lift:

        def lift_one(application: Application, reason: str) -> str:
            application_unsuspend(application=application, actor=staff, reason=reason)
            return f"{application.name} may ask customers again."

        return confirmed_action(
            modeladmin,
            request,
            queryset,
            title="Lift the suspension",
            consequences=[
                "Each app may send customers to the consent screen again.",
                "The connections it lost stay ended: customers must connect it again.",
            ],
            perform=lift_one,
            action=action,
        )
    live = Connection.objects.filter(application__in=queryset, revoked_at__isnull=True).count()

    def suspend_one(application: Application, reason: str) -> str:
        ended = application_suspend(application=application, actor=staff, reason=reason)
        return f"{application.name} suspended; {ended} connection(s) ended."

    return confirmed_action(
        modeladmin,
        request,
        queryset,
        title="Suspend applications",
        consequences=[
            f"Every connection to these apps ends at once ({live} live now): all their tokens stop.",
            "Pending draft payments they prepared are cancelled.",
            "They cannot ask any customer for access until the suspension is lifted.",
        ],
        perform=suspend_one,
        action=action,
    )


class BankApplicationAdmin(ReadOnlyAdminMixin, ApplicationAdmin):
    list_display = ["name", "owner", "developer_name", "verified", "state", "live_connections", "created"]
    list_filter = [ApplicationStateFilter, "verified", "client_type"]
    search_fields = ["name", "client_id", "developer_name", "user__username"]
    list_select_related = ["user"]
    # The toolkit's own read-only fields, and the bank's: everything is shown, nothing edited here.
    readonly_fields = (
        *ApplicationAdmin.readonly_fields,
        "client_id",
        "owner",
        "client_type",
        "authorization_grant_type",
        "hash_client_secret",
        "redirect_uris",
        "website",
        "developer_name",
        "verified",
        "verified_by",
        "verified_at",
        "review_requested_at",
        "allowed_scopes",
        "suspended_at",
        "suspended_reason",
        "deleted_at",
        "connections",
        "created",
        "updated",
    )
    fields = ("name", *readonly_fields)
    exclude = None
    view_on_site = False  # the toolkit's own page for it is not mounted
    actions = ["suspend", "unsuspend"]
    change_form_template = "admin/connections/application/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Application]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_count=Count(
                    "connections",
                    filter=Q(connections__revoked_at__isnull=True, connections__expires_at__gt=timezone.now()),
                )
            )
        )

    @admin.display(description="Owner", ordering="user__username")
    def owner(self, application: Application) -> str:
        return admin_link(application.user) if application.user_id else "—"

    @admin.display(description="State")
    def state(self, application: Application) -> str:
        if application.deleted_at:
            return "Deleted by its developer"
        if application.suspended_at:
            return "Suspended"
        return "Waiting for review" if application.review_requested_at else "Live"

    @admin.display(description="Live connections", ordering="live_count")
    def live_connections(self, application: Application) -> int:
        return int(getattr(application, "live_count", 0))

    @admin.display(description="Connections")
    def connections(self, application: Application) -> str:
        return changelist_link(Connection, "Connections to this app", application__id__exact=application.pk)

    @admin.action(description="Suspend: end every connection and refuse new ones…")
    def suspend(self, request: HttpRequest, queryset: QuerySet[Application]) -> HttpResponse | None:
        return suspension(self, request, queryset, lift=False, action="suspend")

    @admin.action(description="Lift the suspension…")
    def unsuspend(self, request: HttpRequest, queryset: QuerySet[Application]) -> HttpResponse | None:
        return suspension(self, request, queryset, lift=True, action="unsuspend")

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/suspend/",
                self.admin_site.admin_view(self.suspend_one),
                name="connections_application_suspend",
            ),
            path(
                "<int:pk>/unsuspend/",
                self.admin_site.admin_view(self.unsuspend_one),
                name="connections_application_unsuspend",
            ),
            *super().get_urls(),
        ]

    def suspend_one(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = suspension(self, request, Application.objects.filter(pk=pk), lift=False, action=None)
        assert response is not None
        return response

    def unsuspend_one(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = suspension(self, request, Application.objects.filter(pk=pk), lift=True, action=None)
        assert response is not None
        return response


class CredentialAdmin[M: (AccessToken, RefreshToken, Grant, IDToken)](ReadOnlyAdminMixin, admin.ModelAdmin[M]):
    """A token-like row, read-only and without its credential: staff see whose, which app, which
    connection, and until when; they end it by revoking the connection."""

    list_select_related = ["user", "application"]
    search_fields = ["application__name", "application__client_id", "user__username", "user__email"]
    list_filter = ["application"]
    shown: tuple[str, ...] = ("user", "application", "created")

    def get_fields(self, request: HttpRequest, obj: M | None = None) -> tuple[str, ...]:
        return (*self.shown, "connection_link", "events")

    def get_readonly_fields(self, request: HttpRequest, obj: M | None = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    @admin.display(description="Connection")
    def connection_link(self, row: M) -> str:
        connection = getattr(row, "connection", None)
        return admin_link(connection, f"{connection} (revoke it there)") if connection is not None else "—"

    @admin.display(description="Audit log")
    def events(self, row: M) -> str:
        return changelist_link(AuditEvent, "Events of this app", application__id__exact=row.application_id)


class BankAccessTokenAdmin(CredentialAdmin[AccessToken]):
    list_display = ["pk", "user", "application", "scope", "expires", "created"]
    shown = ("user", "application", "scope", "expires", "created")


class BankRefreshTokenAdmin(CredentialAdmin[RefreshToken]):
    list_display = ["pk", "user", "application", "token_family", "revoked", "created"]
    shown = ("user", "application", "token_family", "revoked", "created")


class BankGrantAdmin(CredentialAdmin[Grant]):
    list_display = ["pk", "user", "application", "scope", "expires", "redeemed_at", "created"]
    shown = ("user", "application", "scope", "redirect_uri", "expires", "redeemed_at", "created")


class BankIDTokenAdmin(CredentialAdmin[IDToken]):
    list_display = ["pk", "user", "application", "expires", "created"]
    shown = ("user", "application", "expires", "created")
