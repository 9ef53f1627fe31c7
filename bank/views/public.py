"""Pages anyone may open: the help page about connected apps, and the health check."""

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from connections import scopes


@require_GET
def help_oauth(request: HttpRequest) -> HttpResponse:
    """What connections are and every permission an app can get, from the scope table."""
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
