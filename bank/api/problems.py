"""The API's exception handler: domain errors, DRF errors, 404s and permission errors become RFC 9457
problem details (`application/problem+json`) with a stable `code`. Never a stack trace. The body is
built by `bank.core.http.problem`, which the 404 and 500 handlers outside DRF share."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from bank.core.errors import DomainError, ErrorCode
from bank.core.http import FieldErrors, problem

logger = logging.getLogger(__name__)


def _field_errors(data: object, prefix: str = "") -> FieldErrors:
    """Flatten DRF's nested error structure into [{field, code, detail}]."""
    if isinstance(data, dict):
        return [
            e for key, value in data.items() for e in _field_errors(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(data, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in data):
            return [
                {"field": prefix or "non_field_errors", "code": str(getattr(i, "code", "invalid")), "detail": str(i)}
                for i in data
            ]
        return [e for index, item in enumerate(data) for e in _field_errors(item, f"{prefix}.{index}")]
    return [{"field": prefix or "non_field_errors", "code": str(getattr(data, "code", "invalid")), "detail": str(data)}]


def problem_exception_handler(exc: Exception, context: dict[str, object]) -> Response | None:
    if isinstance(exc, DomainError):
        errors = [{"field": exc.field, "code": exc.code, "detail": exc.message}] if exc.field else None
        body = problem(status_code=exc.status, code=exc.code, detail=exc.message, title=exc.title, errors=errors)
        return Response(body, status=exc.status, content_type="application/problem+json")
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away mid-request (a failover, a killed connection). The transaction
        # was rolled back, so nothing happened: say so and invite a retry.
        request = context["request"]
        logger.warning(
            "Database unavailable during %s %s: %s", getattr(request, "method", ""), getattr(request, "path", ""), exc
        )
        body = problem(
            status_code=503,
            code=ErrorCode.SERVICE_UNAVAILABLE,
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
            code=ErrorCode.INVALID,
            detail="The request has invalid fields.",
            errors=_field_errors(exc.detail),
        )
    else:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        codes = exc.get_codes()
        code = str(codes if isinstance(codes, str) else exc.default_code)
        if code not in ErrorCode:  # one of DRF's own codes that the bank does not name
            logger.error("Problem code %r is not an ErrorCode; answering %s", code, ErrorCode.INVALID)
            code = ErrorCode.INVALID
        body = problem(status_code=response.status_code, code=code, detail=str(detail))
    response.data = body
    response.content_type = "application/problem+json"
    return response
