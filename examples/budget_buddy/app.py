"""Budget Buddy: a small third-party app that connects to the Demo Bank the way an integrator should.

- OAuth 2.0 authorization code with PKCE (S256), built on Authlib's Flask client; the bank's
  endpoints come from its RFC 8414 metadata, and the `iss` of the authorization response is checked
  against it (RFC 9207, against mix-up attacks).
- Tokens are kept on the server, never in the browser's cookie; they are refreshed shortly before
  they expire (the bank rotates refresh tokens, so the new one is stored every time).
- When the customer revokes the connection at the bank, the next API call fails with 401 (or the
  refresh with invalid_grant): the app forgets the token and asks the customer to connect again.

Run it beside the bank: `make run` in one terminal, `make demo-app` in another, then open
http://127.0.0.1:8001/.
"""

import contextlib
import os
import secrets
import threading
from typing import Any

import callbacks
import fapi
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, request, session, url_for
from page import ConnectionEnded, api_answer, check_csrf, render_page

BANK_URL = os.environ.get("BANK_URL", "http://127.0.0.1:8000").rstrip("/")
CLIENT_ID = os.environ.get("BUDGET_BUDDY_CLIENT_ID", "demo-budget-app")
CLIENT_SECRET = os.environ.get("BUDGET_BUDDY_CLIENT_SECRET", "demo-budget-secret")
REDIRECT_URI = os.environ.get("BUDGET_BUDDY_REDIRECT_URI", "http://127.0.0.1:8001/callback")
SCOPES = os.environ.get("BUDGET_BUDDY_SCOPES", "accounts:read payments:read")
# Refresh this many seconds before the access token expires (the bank's tokens live 10 minutes).
REFRESH_LEEWAY = int(os.environ.get("BUDGET_BUDDY_REFRESH_LEEWAY", "60"))

app = Flask(__name__)
app.secret_key = os.environ.get("BUDGET_BUDDY_SECRET_KEY") or secrets.token_hex(32)
app.config.update(
    SESSION_COOKIE_NAME="budget_buddy_session",  # the bank on another port uses "sessionid"
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
)

# Server-side token store, keyed by a random id in the (signed) session cookie. A real app keeps
# this in its database, encrypted; a dict is enough for a demo that runs in one process.
_tokens: dict[str, dict[str, Any]] = {}
_tokens_lock = threading.Lock()


def _session_key() -> str:
    if "sid" not in session:
        session["sid"] = secrets.token_urlsafe(24)
    return session["sid"]


def fetch_token(name: str = "bank") -> dict[str, Any] | None:
    with _tokens_lock:
        return _tokens.get(_session_key())


def update_token(
    name: str, token: dict[str, Any], refresh_token: str | None = None, access_token: str | None = None
) -> None:
    """Authlib calls this after a refresh: keep the rotated token for whoever held the old one.
    The bank rotates refresh tokens and treats a reused one as stolen, so the new one must replace
    the old one everywhere, including Authlib's per-request copy."""
    with _tokens_lock:
        for key, held in _tokens.items():
            if refresh_token and held.get("refresh_token") == refresh_token:
                _tokens[key] = dict(token)
    bank.token = token


def store_token(token: dict[str, Any]) -> None:
    with _tokens_lock:
        _tokens[_session_key()] = dict(token)


def forget_token() -> None:
    with _tokens_lock:
        _tokens.pop(_session_key(), None)


fapi.register(app)  # the FAPI 2.0 mode at /fapi/ (PAR, private_key_jwt, DPoP)
app.register_blueprint(callbacks.callbacks)  # the bank calls us about new payments

oauth = OAuth(app, fetch_token=fetch_token, update_token=update_token)
bank = oauth.register(
    "bank",
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    server_metadata_url=f"{BANK_URL}/.well-known/oauth-authorization-server",
    api_base_url=f"{BANK_URL}/api/v1/",
    client_kwargs={
        "scope": SCOPES,
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": "client_secret_basic",
        "leeway": REFRESH_LEEWAY,
        "timeout": 10,
    },
)


def api_get(path: str) -> Any:
    try:
        response = bank.get(path)
    except AuthlibBaseError as exc:  # the refresh failed: invalid_grant after a revocation
        raise ConnectionEnded(str(exc)) from exc
    return api_answer(response)


@app.get("/")
def home() -> str:
    notice = session.pop("notice", None)
    if fetch_token() is None:
        return render_page(mode="bearer", notice=notice)
    try:
        me = api_get("me/")
        accounts = api_get("monetary-accounts/")["results"] if "accounts:read" in me["scopes"] else []
    except ConnectionEnded:
        forget_token()
        notice = "Your bank ended this connection (it was revoked or has expired). Connect again to continue."
        return render_page(mode="bearer", notice=notice)
    return render_page(mode="bearer", notice=notice, me=me, accounts=accounts, arrived=callbacks.arrived_payments())


@app.get("/connect")
def connect() -> Any:
    return bank.authorize_redirect(REDIRECT_URI)


@app.get("/callback")
def callback() -> Any:
    if "error" in request.args:
        session["notice"] = (
            "You did not connect your bank."
            if request.args["error"] == "access_denied"
            else f"The bank refused the connection: {request.args.get('error_description', request.args['error'])}"
        )
        return redirect(url_for("home"))
    issuer = bank.load_server_metadata().get("issuer")
    if request.args.get("iss") != issuer:  # RFC 9207: the answer must come from the bank we asked
        abort(400, "The authorization response came from an unexpected issuer.")
    try:
        token = bank.authorize_access_token()
    except AuthlibBaseError as exc:
        session["notice"] = f"Connecting failed: {exc}"
        return redirect(url_for("home"))
    store_token(token)
    if "payments:read" in str(token.get("scope", "")).split():
        app_url = REDIRECT_URI.rsplit("/", 1)[0]
        with contextlib.suppress(AuthlibBaseError):  # a convenience: the app still reads the API
            callbacks.filter_register(lambda path, body: bank.post(path, json=body, token=token), app_url)
    session["notice"] = "Your bank is connected."
    return redirect(url_for("home"))


@app.post("/disconnect")
def disconnect() -> Any:
    check_csrf()
    token = fetch_token()
    if token is not None:
        # RFC 7009: revoking the refresh token ends the whole connection at the bank.
        requests.post(
            bank.load_server_metadata()["revocation_endpoint"],
            data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        )
        forget_token()
    session["notice"] = "Disconnected. Budget Buddy no longer has access to your bank."
    return redirect(url_for("home"))
