"""Passkeys in the bank's pages: Profile → Settings → Security → Passkeys, logging in with one, and the
answers the approval forms give static/passkeys.js (`approval_options`).

A form that needs a passkey carries `data-passkey`. On submit the script posts the same form with
`passkey_step=options` and gets the WebAuthn options (bound to exactly what the form approves) and a
sentence saying what the passkey approves; it asks the authenticator, puts the answer in
`passkey_credential` and submits the form for real (bank.services.passkeys checks it)."""

from collections.abc import Callable
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from bank.core.errors import DomainError, NotFound
from bank.core.http import (
    AuthenticatedHttpRequest,
    act_and_see_other,
    client_address,
    customer_page,
    never_cached,
    no_store_json,
    see_other,
    session_key_of,
)
from bank.core.limits import Limit
from bank.selectors import passkeys_of
from bank.services.passkeys import (
    CREDENTIAL_FIELD,
    LOGIN,
    STEP_FIELD,
    Approval,
    PasskeyRefused,
    challenge_answer,
    has_passkey,
    passkey_add,
    passkey_remove,
    passkey_rename,
    passkey_verify,
    registration_answer,
)
from bank.services.security import login_failure_count, login_failures_per_address


def wants_options(request: HttpRequest) -> bool:
    return request.POST.get(STEP_FIELD) == "options"


def approval_options(request: AuthenticatedHttpRequest, approval: Callable[[], Approval]) -> HttpResponse:
    """The `passkey_step=options` answer of an approval form: the challenge for exactly this approval."""
    try:
        answer = challenge_answer(customer=request.user, session_key=session_key_of(request), approval=approval())
    except DomainError as exc:
        return no_store_json(
            {"code": exc.code, "detail": exc.message}, status=404 if isinstance(exc, NotFound) else 400
        )
    return no_store_json(answer)


# --- Profile → Settings → Security → Passkeys ------------------------------------------------------


@customer_page("GET")
def passkeys(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "bank/passkeys.html", {"passkeys": passkeys_of(customer=request.user)})


@customer_page("POST")
def passkey_add_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    if wants_options(request):
        return no_store_json(registration_answer(customer=request.user, session_key=session_key_of(request)))

    def add() -> str:
        passkey = passkey_add(
            customer=request.user,
            session_key=session_key_of(request),
            name=request.POST.get("name", ""),
            credential=request.POST.get(CREDENTIAL_FIELD, ""),
        )
        return f"Passkey “{passkey.name}” added. Payments now ask for it."

    return act_and_see_other(request, add, "passkeys")


@customer_page("POST")
def passkey_rename_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def rename() -> str:
        passkey = passkey_rename(customer=request.user, passkey_id=pk, name=request.POST.get("name", ""))
        return f"Renamed to “{passkey.name}”."

    return act_and_see_other(request, rename, "passkeys")


@customer_page("POST")
def passkey_remove_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def remove() -> str:
        passkey_remove(customer=request.user, passkey_id=pk, password=request.POST.get("password", ""))
        if has_passkey(customer=request.user):
            return "Passkey removed."
        return "Passkey removed. You have none left: payments ask for your password again, and you log in with it."

    return act_and_see_other(request, remove, "passkeys")


# --- Logging in with a passkey ------------------------------------------------------------------


# Anyone may ask for a login challenge (a row each): a few a minute per address is plenty.
LOGIN_CHALLENGES = Limit(name="passkey-login-challenges", attempts=20, window=timedelta(minutes=1))


@never_cached  # as Django's LoginView
@require_POST
def passkey_login(request: HttpRequest) -> HttpResponse:
    """Log in with a discoverable passkey (the password form stays beside it). A refused passkey
    counts as a failed login from its address, under the same lockout as the password form."""
    approval = Approval(LOGIN, summary="log you in to Demo Bank")
    address = client_address(request)
    if login_failures_per_address().exceeded(address):
        messages.error(request, "Too many failed logins from your address. Try again later.")
        return see_other("login")
    if wants_options(request):
        if LOGIN_CHALLENGES.hit(address) > LOGIN_CHALLENGES.attempts:
            return no_store_json({"code": "rate_limited", "detail": "Too many attempts; wait a minute."}, status=429)
        return no_store_json(challenge_answer(customer=None, session_key=session_key_of(request), approval=approval))
    try:
        passkey = passkey_verify(
            customer=None,
            session_key=session_key_of(request),
            approval=approval,
            credential=request.POST.get(CREDENTIAL_FIELD, ""),
        )
    except PasskeyRefused:
        login_failure_count(request=request, username="")
        messages.error(request, "That passkey could not log you in. Try again, or use your password.")
        return see_other("login")
    customer = passkey.customer
    if not customer.is_active or customer.is_staff:
        # A blocked customer stays out; staff log in with their password (their console records it).
        messages.error(request, "This passkey cannot log in here. Use your username and password.")
        return see_other("login")
    login(request, customer, backend="django.contrib.auth.backends.ModelBackend")
    return see_other("home")
