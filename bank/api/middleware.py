"""What holds for every response under /api/, whichever view (or none) answers it: a body larger
than the bank accepts is refused before anything reads it (413 problem details), and nothing may
be cached by a browser or a proxy."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from bank.core.errors import ErrorCode
from bank.core.http import problem_response

API_PREFIX = "/api/"


class ApiBoundaryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and (not length.isdigit() or int(length) > limit):
            response: HttpResponse = problem_response(
                413, ErrorCode.REQUEST_TOO_LARGE, f"A request body may have at most {limit} bytes."
            )
        else:
            response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        return response
