"""What holds for every response under /api/, whichever view (or none) answers it: a body larger
than the bank accepts is refused before anything reads it (413 problem details), nothing may be
cached by a browser or a proxy, timestamps are UTC (written with `Z`), the rate limits the request
was counted against are stated (RateLimit-Policy and RateLimit, bank.api.throttling), and an
authenticated call is written to its app's call log (connections.call_log), which its developer
reads at /developers/."""

from collections.abc import Callable
from datetime import UTC

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve
from django.utils import timezone

from bank.core.errors import ErrorCode
from bank.core.http import problem_response
from bank.core.request_ids import request_id_of
from connections.call_log import api_call_record
from connections.models import AccessToken

from .throttling import rate_limit_headers, standings_of

API_PREFIX = "/api/"


def _resolves(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


class ApiBoundaryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if not request.path.endswith("/") and _resolves(request.path + "/"):
            # A missing trailing slash: 308 keeps the method and the body (Django's 301 would turn a
            # POST into a GET, or fail under DEBUG).
            moved = HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
            moved.status_code = 308
            moved["Cache-Control"] = "no-store"
            return moved
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and (not length.isdigit() or int(length) > limit):
            response: HttpResponse = problem_response(
                413, ErrorCode.REQUEST_TOO_LARGE, f"A request body may have at most {limit} bytes."
            )
        else:
            with timezone.override(UTC):  # every timestamp in the API is UTC, written with Z
                response = self.get_response(request)
            if response.status_code == 404 and not response.get("Content-Type", "").startswith("application/"):
                # Under DEBUG, Django answers an unknown URL with its HTML page, not handler404.
                response = problem_response(404, ErrorCode.NOT_FOUND, "No such resource.")
        response["Cache-Control"] = "no-store"
        for name, value in rate_limit_headers(standings_of(request)).items():
            response[name] = value
        token = getattr(request, "auth", None)  # set by DRF on the request it wraps, once authenticated
        if isinstance(token, AccessToken) and token.connection_id is not None:
            api_call_record(
                application_id=token.application_id,
                method=request.method or "",
                path=request.path,
                status=response.status_code,
                request_id=request_id_of(request),
            )
        return response
