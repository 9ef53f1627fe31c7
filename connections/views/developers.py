"""The developers' pages: a customer's own OAuth applications (another customer's application is a
404), and the guides for integrators."""

import functools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Concatenate

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from markdown_it import MarkdownIt

from bank.core.errors import EXPLANATIONS, DomainError, ErrorCode
from bank.core.http import AuthenticatedHttpRequest, act_and_see_other, customer_page, see_other
from bank.selectors import accounts_of, sandbox_customers_of
from bank.services.customers import SANDBOX_CUSTOMERS_MAX, sandbox_customer_create
from connections import scopes
from connections.call_log import api_calls_of
from connections.forms import ApplicationForm, ScopeRequestForm
from connections.models import Application, Logo
from connections.selectors import applications_of, deliveries_of, live_connections_of, scope_requests_of
from connections.services.applications import (
    DEVELOPER_FIELDS,
    ClientMetadata,
    application_delete,
    application_previous_secret_end,
    application_register,
    application_rotate_secret,
    application_update,
)
from connections.services.callbacks import delivery_resend, signing_secret_rotate
from connections.services.vetting import scope_request_create
from connections.tasks import callback_deliver

type AppPage[**P] = Callable[Concatenate[AuthenticatedHttpRequest, Application, P], HttpResponse]
type UrlView[**P] = Callable[Concatenate[AuthenticatedHttpRequest, int, P], HttpResponse]


def own_app_page[**P](*methods: str) -> Callable[[AppPage[P]], UrlView[P]]:
    """A page about one of the developer's own apps: logged in, never cached, only these methods, and
    the app of the URL's `pk` looked up among the developer's own. Another developer's app is a 404,
    as absent as one that does not exist. The view gets the app in place of the `pk`."""

    def decorate(view: AppPage[P]) -> UrlView[P]:
        @functools.wraps(view)
        def page(request: AuthenticatedHttpRequest, pk: int, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            application = get_object_or_404(applications_of(developer=request.user), pk=pk)
            return view(request, application, *args, **kwargs)

        return customer_page(*methods)(page)

    return decorate


def _secret_page(
    request: AuthenticatedHttpRequest, application: Application, secret: str, *, new: bool
) -> HttpResponse:
    """The raw secret, this once: it is stored hashed and can only be replaced, never shown again."""
    return render(
        request, "connections/developer_secret.html", {"application": application, "secret": secret, "new": new}
    )


@customer_page("GET")
def developers(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {
        "applications": applications_of(developer=request.user),
        "sandbox": settings.BANK_SANDBOX,
        "test_customers": sandbox_customers_of(developer=request.user) if settings.BANK_SANDBOX else [],
        "test_customers_max": SANDBOX_CUSTOMERS_MAX,
    }
    return render(request, "connections/developers.html", context)


@customer_page("POST")
def developer_test_customer_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A test customer with demo money (sandbox only); its password is shown on this page only."""
    if not settings.BANK_SANDBOX:
        raise Http404("The sandbox is not on in this deployment.")
    try:
        customer, password = sandbox_customer_create(developer=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return see_other("developers")
    accounts = accounts_of(customer=customer).order_by("id")
    context = {"customer": customer, "password": password, "accounts": accounts}
    return render(request, "connections/developer_test_customer.html", context)


@customer_page("GET", "POST")
def developer_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial={"client_type": Application.CLIENT_CONFIDENTIAL},
    )
    if request.method == "POST" and form.is_valid():
        try:
            application, secret = application_register(developer=request.user, details=form.details())
        except DomainError as exc:
            form.refused(exc)
        else:
            if application.client_type == Application.CLIENT_PUBLIC:
                messages.success(
                    request, f"{application.name} is registered. Public clients use PKCE without a secret."
                )
                return see_other("developer-edit", application.pk)
            return _secret_page(request, application, secret, new=True)
    return render(request, "connections/developer_form.html", {"form": form, "application": None})


@own_app_page("GET", "POST")
def developer_edit(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    initial: dict[str, object] = {name: getattr(application, name) for name in DEVELOPER_FIELDS}
    initial.update(ClientMetadata.of(application).__dict__)
    initial["redirect_uris"] = "\n".join(application.redirect_uris.split())
    form = ApplicationForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            application_update(
                application=application, developer=request.user, details=form.details(), logo_clear=form.logo_cleared()
            )
        except DomainError as exc:
            form.refused(exc)
        else:
            messages.success(request, "Your changes are saved.")
            return see_other("developer-edit", application.pk)
    return render(
        request,
        "connections/developer_form.html",
        {
            "form": form,
            "application": application,
            "allowed": scopes.describe(application.allowed_scope_list()),
            "scope_request_form": ScopeRequestForm(application=application),
            "scope_requests": scope_requests_of(application=application),
            "now": timezone.now(),
        },
    )


@own_app_page("POST")
def developer_scope_request(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    """Ask staff for more permissions, with a reason; the outcome shows on the app's page."""
    form = ScopeRequestForm(request.POST, application=application)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return see_other("developer-edit", application.pk)

    def ask() -> str:
        scope_request_create(
            application=application,
            requested_by=request.user,
            scopes=form.cleaned_data["scopes"],
            reason=form.cleaned_data["reason"],
        )
        return "Asked. The bank's staff review it; the decision shows here."

    return act_and_see_other(request, ask, "developer-edit", application.pk)


@own_app_page("POST")
def developer_rotate_secret(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    days = request.POST.get("overlap_days", "0")
    try:
        overlap = timedelta(days=int(days)) if days.isdigit() else timedelta(-1)
        secret = application_rotate_secret(application=application, developer=request.user, overlap=overlap)
    except DomainError as exc:
        messages.error(request, exc.message)
        return see_other("developer-edit", application.pk)
    application.refresh_from_db()
    return _secret_page(request, application, secret, new=False)


@own_app_page("GET", "POST")
def developer_delete(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    """Delete an app, after the developer types its name: its connections end at once."""
    error = ""
    if request.method == "POST":
        if request.POST.get("name", "").strip() == application.name:
            ended = application_delete(application=application, developer=request.user)
            messages.success(request, f"{application.name} is deleted; {ended} connection(s) ended.")
            return see_other("developers")
        error = "Type the app's name exactly to delete it."
    live = live_connections_of(application=application).count()
    context = {"application": application, "live": live, "error": error}
    return render(request, "connections/developer_delete.html", context, status=400 if error else 200)


@own_app_page("POST")
def developer_previous_secret_end(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    application_previous_secret_end(application=application, developer=request.user)
    messages.success(request, "The previous client secret has stopped working.")
    return see_other("developer-edit", application.pk)


@own_app_page("POST")
def developer_signing_secret(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    """A new signing secret for the app's callbacks, shown this once."""
    secret = signing_secret_rotate(application=application, developer=request.user)
    return render(request, "connections/developer_signing_secret.html", {"application": application, "secret": secret})


@own_app_page("GET")
def developer_deliveries(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    """The app's recent callbacks: event, target, answer, attempts, next try; each can be sent again."""
    return render(
        request,
        "connections/developer_deliveries.html",
        {"application": application, "deliveries": deliveries_of(application=application)},
    )


@own_app_page("GET")
def developer_calls(request: AuthenticatedHttpRequest, application: Application) -> HttpResponse:
    """The app's recent API calls (time, method, path, status, request id), or those of one request id."""
    request_id = request.GET.get("request_id", "").strip()[:128]
    return render(
        request,
        "connections/developer_calls.html",
        {
            "application": application,
            "request_id": request_id,
            "calls": api_calls_of(application_id=application.pk, request_id=request_id),
            "days": settings.API_CALL_LOG_DAYS,
        },
    )


@own_app_page("POST")
def developer_delivery_resend(
    request: AuthenticatedHttpRequest, application: Application, delivery_id: uuid.UUID
) -> HttpResponse:
    try:
        delivery = delivery_resend(application=application, developer=request.user, delivery_id=str(delivery_id))
    except DomainError as exc:
        raise Http404(exc.message) from exc
    transaction.on_commit(lambda: callback_deliver.enqueue(str(delivery.pk)))
    messages.success(request, "The callback is on its way again, with the same webhook-id.")
    return see_other("developer-deliveries", application.pk)


@require_GET
def application_logo(request: HttpRequest, sha256: str) -> HttpResponse:
    """An app's logo, from the bank's own store: its address is its content, so it never changes."""
    logo = get_object_or_404(Logo, sha256=sha256)
    response = HttpResponse(bytes(logo.png), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response


# Guides for integrators: Markdown in docs/guides/ (the same files the repository shows), rendered
# without raw HTML.
GUIDES = {
    "first-token": settings.BASE_DIR / "docs" / "guides" / "first-token.md",
    "fapi": settings.BASE_DIR / "docs" / "guides" / "fapi.md",
    "versioning": settings.BASE_DIR / "docs" / "guides" / "versioning.md",
}
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML off


@functools.cache
def _guide(slug: str) -> tuple[str, SafeString]:
    text = GUIDES[slug].read_text(encoding="utf-8")
    title = text.splitlines()[0].removeprefix("# ").strip()
    html = MARKDOWN.render(text)
    html = html.replace("<pre>", '<pre tabindex="0">')  # a code block that scrolls is reachable by keyboard
    return title, mark_safe(html)  # noqa: S308  (Markdown from the repository, with raw HTML disabled)


def _inline(text: str) -> SafeString:
    return mark_safe(MARKDOWN.renderInline(text))  # noqa: S308  (our own text)


@require_GET
def problem_types(request: HttpRequest) -> HttpResponse:
    """Every `code` a problem of the API can carry, with what it means; public, like the API docs."""
    problems = [{"code": code, "explanation": _inline(text)} for code, text in EXPLANATIONS.items()]
    return render(request, "connections/problems.html", {"problems": problems})


@require_GET
def problem_type(request: HttpRequest, code: str) -> HttpResponse:
    """The page that a problem's `type` URI opens."""
    if code not in ErrorCode:
        raise Http404("No such problem type.")
    explanation = _inline(EXPLANATIONS[ErrorCode(code)])
    return render(request, "connections/problem.html", {"code": code, "explanation": explanation})


@require_GET
def developer_guide(request: HttpRequest, slug: str) -> HttpResponse:
    """A guide for integrators; public, like the API documentation."""
    if slug not in GUIDES:
        raise Http404("No such guide.")
    title, body = _guide(slug)
    return render(request, "connections/guide.html", {"title": title, "body": body})
