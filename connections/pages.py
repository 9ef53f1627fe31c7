"""The customer's pages for their app connections (Profile → Settings → Security → My app
connections) and the developers' pages for their own OAuth applications.

Every page starts from the logged-in customer: another customer's connection or application is a 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from bank.errors import DomainError
from bank.models import AuditEvent, DraftStatus
from bank.redirects import see_other
from connections import scopes

from .forms import ApplicationForm, SharedAccountsForm
from .models import Application, RevokedBy
from .selectors import (
    active_connections_of,
    application_of_developer,
    applications_of_developer,
    connection_activity,
    connection_of,
    ended_connections_of,
)
from .services import (
    DEVELOPER_FIELDS,
    application_register,
    application_rotate_secret,
    application_update,
    connection_revoke,
    connection_set_accounts,
)


@login_required
@never_cache
def connections_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "connections/list.html",
        {"connections": active_connections_of(request.user), "ended": ended_connections_of(request.user).exists()},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def connection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_of(request.user, pk)
    form = SharedAccountsForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        initial={"accounts": list(connection.accounts.all())},
    )
    if request.method == "POST" and connection.is_active and form.is_valid():
        try:
            connection_set_accounts(connection=connection, user=request.user, accounts=form.cleaned_data["accounts"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{connection.application.name} now sees only the accounts you ticked.")
            return see_other("connection-detail", connection.pk)
    return render(
        request,
        "connections/detail.html",
        {
            "connection": connection,
            "form": form,
            "activity": connection_activity(connection),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def connection_revoke_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_of(request.user, pk)
    if not connection.is_active:
        return see_other("connection-revoked", connection.pk)
    if request.method == "POST":
        connection_revoke(connection=connection, by=RevokedBy.CUSTOMER, actor=request.user)
        return see_other("connection-revoked", connection.pk)
    pending = connection.draft_payments.filter(status=DraftStatus.PENDING).count()
    return render(request, "connections/revoke.html", {"connection": connection, "pending_drafts": pending})


@login_required
@never_cache
def connection_revoked(request: HttpRequest, pk: int) -> HttpResponse:
    connection = connection_of(request.user, pk)
    if connection.is_active:
        return see_other("connection-detail", connection.pk)
    event = AuditEvent.objects.filter(connection=connection, action="connection.revoked").order_by("-id").first()
    return render(request, "connections/revoked.html", {"connection": connection, "event": event})


@login_required
@never_cache
def connections_history(request: HttpRequest) -> HttpResponse:
    return render(request, "connections/history.html", {"connections": ended_connections_of(request.user)})


# --- Developers: a customer's own OAuth applications ------------------------------------------


def _secret_page(request: HttpRequest, application: Application, secret: str, *, new: bool) -> HttpResponse:
    """The raw secret, this once: it is stored hashed and can only be replaced, never shown again."""
    return render(
        request, "connections/developer_secret.html", {"application": application, "secret": secret, "new": new}
    )


@login_required
@never_cache
def developers(request: HttpRequest) -> HttpResponse:
    return render(request, "connections/developers.html", {"applications": applications_of_developer(request.user)})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def developer_new(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(
        request.POST if request.method == "POST" else None, initial={"client_type": Application.CLIENT_CONFIDENTIAL}
    )
    if request.method == "POST" and form.is_valid():
        try:
            application, secret = application_register(developer=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            if application.client_type == Application.CLIENT_PUBLIC:
                messages.success(
                    request, f"{application.name} is registered. Public clients use PKCE without a secret."
                )
                return see_other("developer-edit", application.pk)
            return _secret_page(request, application, secret, new=True)
    return render(request, "connections/developer_form.html", {"form": form, "application": None})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def developer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_of_developer(request.user, pk)
    initial = {name: getattr(application, name) for name in DEVELOPER_FIELDS}
    initial["redirect_uris"] = "\n".join(application.redirect_uris.split())
    form = ApplicationForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application_update(application=application, developer=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your changes are saved.")
            return see_other("developer-edit", application.pk)
    return render(
        request,
        "connections/developer_form.html",
        {"form": form, "application": application, "allowed": scopes.describe(application.allowed_scope_list())},
    )


@login_required
@never_cache
@require_POST
def developer_rotate_secret(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_of_developer(request.user, pk)
    secret = application_rotate_secret(application=application, developer=request.user)
    return _secret_page(request, application, secret, new=False)
