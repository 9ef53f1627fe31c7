"""HTTP helpers that the customer's pages, the OAuth pages and the API share: the decorator and the
request type of a logged-in page, the 303 redirect after a form (with the outcome of what it asked as
a message), RFC 9457 problem details, and the 404 and 500 handlers (problem details under /api/, the
bank's HTML pages elsewhere)."""

import functools
from collections.abc import Callable
from typing import Concatenate

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.http import require_http_methods

from .errors import DomainError, ErrorCode, NotFound


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a page behind `login_required`: its user is a real, logged-in one."""

    user: User


type View[Q: HttpRequest, **P] = Callable[Concatenate[Q, P], HttpResponse]
type Page[**P] = View[AuthenticatedHttpRequest, P]


def never_cached[Q: HttpRequest, **P](view: View[Q, P]) -> View[Q, P]:
    """Django's `never_cache`, except where the view already said how its answer may be kept (the
    JSON step of a passkey form says `no-store` itself)."""

    @functools.wraps(view)
    def answer(request: Q, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

    return answer


def customer_page[**P](*methods: str) -> Callable[[Page[P]], Page[P]]:
    """A page of the logged-in customer: a login first, never cached (it shows their money, and the
    back button of a shared computer must not show it after logout), and only these methods (405
    otherwise; a page that takes GET takes HEAD, its headers-only twin, too)."""
    allowed = [*methods, "HEAD"] if "GET" in methods else list(methods)

    def decorate(view: Page[P]) -> Page[P]:
        return login_required(never_cached(require_http_methods(allowed)(view)))

    return decorate


def signed_in_user(request: HttpRequest) -> User:
    """The logged-in user of a request that the admin site or `login_required` already let in."""
    user = request.user
    assert isinstance(user, User), "only for requests of a logged-in user"
    return user


def no_store_json(data: dict[str, object], status: int = 200) -> JsonResponse:
    """A JSON answer that no browser or proxy keeps (one-time challenges, refusals of them)."""
    return JsonResponse(data, status=status, headers={"Cache-Control": "no-store"})


def session_key_of(request: HttpRequest) -> str:
    """The session's key, creating the session if there is none yet (the login page)."""
    if request.session.session_key is None:
        request.session.save()
    return str(request.session.session_key)


def client_address(request: HttpRequest) -> str:
    """The address of the client, as the proxies the bank trusts saw it.

    Behind `TRUSTED_PROXY_COUNT` proxies (a load balancer is one), each appends the address it
    received the request from to X-Forwarded-For, so the client's is the one that many entries from
    the right: what a client writes into the header itself sits further left and is ignored. With
    no trusted proxy, the header is ignored altogether and the socket's peer is the client.
    """
    trusted = settings.TRUSTED_PROXY_COUNT
    peer = request.META.get("REMOTE_ADDR", "")
    if trusted <= 0:
        return peer
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if not forwarded:
        return peer
    return forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0]


def see_other(to: str, *args: int | str) -> HttpResponse:
    """After a form is posted, answer 303 See Other: the browser follows with a GET, so a reload
    never posts the form again."""
    response = redirect(to, *args)
    response.status_code = 303
    return response


def act_and_see_other(request: HttpRequest, act: Callable[[], str], to: str, *args: int | str) -> HttpResponse:
    """Carry out what a posted form asks and go back to a page (303), with the outcome as a message:
    the sentence `act` returns, or the refusal's own message. Something the user may not see (a
    `NotFound`: another customer's draft, passkey, invitation) is a 404, as if it did not exist."""
    try:
        done = act()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return see_other(to, *args)


def problem_type(code: str) -> str:
    """The `type` URI of a problem: the bank's page that explains its code (RFC 9457 §3.1.1)."""
    return settings.OAUTH2_ISSUER.rstrip("/") + reverse("problem-type", args=[code])


TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}

type FieldErrors = list[dict[str, str]]
type Problem = dict[str, str | int | FieldErrors]


def problem(
    *, status_code: int, code: str, detail: str, title: str | None = None, errors: FieldErrors | None = None
) -> Problem:
    """An RFC 9457 problem-details body with the bank's stable `code` (and field errors, if any)."""
    body: Problem = {
        "type": problem_type(code),
        "title": title or TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(status_code: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status_code=status_code, code=code, detail=detail),
        status=status_code,
        content_type="application/problem+json",
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """What Django refuses before any view runs (a malformed or oversized request)."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            return problem_response(
                413, ErrorCode.REQUEST_TOO_LARGE, "The request body is larger than the bank accepts."
            )
        return problem_response(400, ErrorCode.INVALID, "The request could not be read.")
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(404, ErrorCode.NOT_FOUND, "No such resource.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem_response(
            500,
            ErrorCode.SERVER_ERROR,
            "Something went wrong on our side. Retrying with the same Idempotency-Key is safe; if it goes on, "
            "tell us the response's X-Request-ID.",
        )
    return defaults.server_error(request)
