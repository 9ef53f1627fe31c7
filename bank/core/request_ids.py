"""Request ids: every response carries `X-Request-ID`, and every log line written while answering it
names the same id, so a developer who quotes it to support can be found in the logs.

A client may send its own id (one that is short and plain: letters, digits and `._:-`, at most 128);
anything else is replaced by a fresh one, so nobody can write into the logs through the header."""

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def request_id_of(request: HttpRequest) -> str:
    return str(getattr(request, "request_id", "-"))


class RequestIdMiddleware:
    """First in the chain: the id exists before anything else can log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sent = request.headers.get(HEADER, "")
        request_id = sent if SANE.match(sent) else uuid.uuid4().hex
        setattr(request, "request_id", request_id)  # noqa: B010  (HttpRequest has no such attribute)
        # Kept until the response is finished (request_finished, below): Django logs a 4xx or 5xx
        # after the middleware has returned, and that line must carry the id too.
        current_request_id.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget(**kwargs: object) -> None:
    current_request_id.set("-")


request_finished.connect(_forget, dispatch_uid="bank.core.request_ids.forget")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (a dash outside a request), for the log formats."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True
