"""One exception handler: domain errors, DRF errors, 404s and permission errors become RFC 9457
problem details (`application/problem+json`) with a stable `code`. Never a stack trace."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from bank.errors import DomainError

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://bank.example/problems/"

TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    503: "Service unavailable",
}


def problem(
    *, status_code: int, code: str, detail: str, title: str | None = None, errors: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def _field_errors(data: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error structure into [{field, code, detail}]."""
    if isinstance(data, dict):
        return [
            e for key, value in data.items() for e in _field_errors(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(data, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in data):
            return [
                {"field": prefix or "non_field_errors", "code": getattr(i, "code", "invalid"), "detail": str(i)}
                for i in data
            ]
        return [e for index, item in enumerate(data) for e in _field_errors(item, f"{prefix}.{index}")]
    return [{"field": prefix or "non_field_errors", "code": getattr(data, "code", "invalid"), "detail": str(data)}]


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        errors = (
            [{"field": exc.details["field"], "code": exc.code, "detail": exc.message}]
            if "field" in exc.details
            else None
        )
        body = problem(status_code=exc.status, code=exc.code, detail=exc.message, title=exc.title, errors=errors)
        return Response(body, status=exc.status, content_type="application/problem+json")
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (a failover, a killed connection). The transaction
        # was rolled back, so nothing happened: say so and invite a retry.
        logger.warning("Database unavailable during %s %s: %s", context["request"].method, context["request"].path, exc)
        body = problem(
            status_code=503,
            code="service_unavailable",
            detail="The bank could not complete this request and changed nothing. Retry it; with the same "
            "Idempotency-Key a retry is safe.",
        )
        return Response(body, status=503, content_type="application/problem+json", headers={"Retry-After": "1"})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handler answers, without detail
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        body = problem(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid",
            detail="The request has invalid fields.",
            errors=_field_errors(exc.detail),
        )
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        code = getattr(exc, "problem_code", None) or (
            exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        )
        body = problem(status_code=response.status_code, code=str(code), detail=str(detail))
    response.data = body
    response.content_type = "application/problem+json"
    return response


# --- URLs that no view answers, and errors outside DRF: problem details under /api/ too --------


def _problem_response(status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status_code=status_code, code=code, detail=detail),
        status=status_code,
        content_type="application/problem+json",
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _problem_response(404, "not_found", "No such resource.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _problem_response(
            500,
            "server_error",
            "Something went wrong on our side. Retrying with the same Idempotency-Key is safe.",
        )
    return defaults.server_error(request)
