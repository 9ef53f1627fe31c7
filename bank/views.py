"""The customer's pages that belong to the bank itself, and the health check."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import accounts_of, pending_invitations, recent_payments


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
        },
    )


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
