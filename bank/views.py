"""The customer's pages that belong to the bank itself: home, profile, settings, security, the public
help page, and the health check."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from connections import scopes
from connections.selectors import active_connections_of

from .errors import DomainError, NotFound
from .redirects import see_other
from .selectors import accounts_of, pending_invitations, recent_payments
from .services.accounts import co_owner_answer


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bank/home.html",
        {
            "accounts": accounts_of(request.user).order_by("id"),
            "payments": recent_payments(request.user),
            "invitations": pending_invitations(request.user),
            "connected_apps": active_connections_of(request.user).count(),
        },
    )


@login_required
@require_POST
def invitation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    accept = request.POST.get("answer") == "accept"
    try:
        invitation = co_owner_answer(invitation_id=pk, user=request.user, accept=accept)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        name = invitation.account.description
        messages.success(request, f"You now co-own “{name}”." if accept else f"You declined “{name}”.")
    return see_other("home")


@login_required
@never_cache
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "bank/profile.html")


@login_required
@never_cache
def profile_settings(request: HttpRequest) -> HttpResponse:
    return render(request, "bank/settings.html")


@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    return render(request, "bank/security.html", {"connected_apps": active_connections_of(request.user).count()})


@require_GET
def help_oauth(request: HttpRequest) -> HttpResponse:
    """Public: what connections are and every permission an app can get, from the scope table."""
    return render(request, "bank/help_oauth.html", {"scopes": scopes.SCOPES})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer and the container: answers 200 only when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
