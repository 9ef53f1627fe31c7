"""The developers' pages: a customer's own OAuth applications. Another customer's application is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bank.core.errors import DomainError
from bank.core.http import AuthenticatedHttpRequest, see_other
from connections import scopes
from connections.forms import ApplicationForm
from connections.models import Application, Logo
from connections.selectors import applications_of
from connections.services.applications import (
    DEVELOPER_FIELDS,
    application_register,
    application_rotate_secret,
    application_update,
)


def _secret_page(
    request: AuthenticatedHttpRequest, application: Application, secret: str, *, new: bool
) -> HttpResponse:
    """The raw secret, this once: it is stored hashed and can only be replaced, never shown again."""
    return render(
        request, "connections/developer_secret.html", {"application": application, "secret": secret, "new": new}
    )


@login_required
@never_cache
def developers(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "connections/developers.html", {"applications": applications_of(developer=request.user)})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def developer_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"client_type": Application.CLIENT_CONFIDENTIAL},
    )
    if request.method == "POST" and form.is_valid():
        try:
            application, secret = application_register(
                developer=request.user, **form.details(), logo_upload=form.logo_upload()
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
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
def developer_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(applications_of(developer=request.user), pk=pk)
    initial = {name: getattr(application, name) for name in DEVELOPER_FIELDS}
    initial["redirect_uris"] = "\n".join(application.redirect_uris.split())
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            application_update(
                application=application,
                developer=request.user,
                **form.details(),
                logo_upload=form.logo_upload(),
                logo_clear=form.logo_cleared(),
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
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
def developer_rotate_secret(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    application = get_object_or_404(applications_of(developer=request.user), pk=pk)
    secret = application_rotate_secret(application=application, developer=request.user)
    return _secret_page(request, application, secret, new=False)


@require_GET
def application_logo(request: HttpRequest, sha256: str) -> HttpResponse:
    """An app's logo, from the bank's own store: its address is its content, so it never changes."""
    logo = get_object_or_404(Logo, sha256=sha256)
    response = HttpResponse(bytes(logo.png), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
