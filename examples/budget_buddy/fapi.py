"""Budget Buddy's FAPI 2.0 mode, at /fapi/: how an app that may move money connects to the bank.

It uses requests-oauth2client, which speaks the three things the bank asks of such apps:

- **Pushed authorization requests** (RFC 9126): the request (PKCE S256, scopes, state, the DPoP key's
  thumbprint) goes to the bank server to server; the browser only carries a one-time `request_uri`.
- **private_key_jwt** (RFC 7523): the app proves who it is with a JWT signed by its private key; the
  bank holds only the public half (the app's registered JWKS). There is no client secret.
- **DPoP** (RFC 9449): the tokens are bound to a key the app generates per connection; every API
  call and every refresh carries a fresh proof signed with it, so a stolen token is useless.

THE PRIVATE KEY BELOW IS FOR LOCAL DEMOS ONLY. It is published in the bank's SPEC, so anyone can
sign as `demo-fapi-app` with it. A real app generates its own key pair, keeps the private key in a
secrets store, and registers only the public key at the bank's /developers/ page.
"""

import json
import os
import secrets
import threading
from typing import Any

from flask import Blueprint, Flask, abort, redirect, request, session, url_for
from page import ConnectionEnded, api_answer, check_csrf, render_page
from requests import Session
from requests_oauth2client import AuthorizationRequest, DPoPKey, DPoPToken, OAuth2Client, OAuth2Error, PrivateKeyJwt
from requests_oauth2client.authorization_request import AuthorizationResponseError, MismatchingState
from requests_oauth2client.dpop import InvalidUseDPoPNonceResponse
from requests_oauth2client.exceptions import EndpointError, InvalidTokenResponse

# DEMO ONLY: the private key of `demo-fapi-app` from the bank's SPEC §8 (see the module docstring).
DEMO_ONLY_PRIVATE_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "kid": "demo-fapi-key-1",
    "use": "sig",
    "alg": "ES256",
    "x": "KOxgMzKBTRV8GiHZJ47f30q99jLpZfXVrpjx0toTl7Q",
    "y": "JgJz21Ug9tXHIzp3_Iev9zxA5DormmBW1j5NcUVruew",
    "d": "MfbqvYcJixDZdUbkKT050tpFbqy6OfbymKTcJexJx-w",
}

BANK_URL = os.environ.get("BANK_URL", "http://127.0.0.1:8000").rstrip("/")
CLIENT_ID = os.environ.get("BUDGET_BUDDY_FAPI_CLIENT_ID", "demo-fapi-app")
REDIRECT_URI = os.environ.get("BUDGET_BUDDY_FAPI_REDIRECT_URI", "http://127.0.0.1:8001/fapi/callback")
SCOPES = os.environ.get("BUDGET_BUDDY_FAPI_SCOPES", "accounts:read payments:read")
PRIVATE_JWK = json.loads(os.environ.get("BUDGET_BUDDY_FAPI_PRIVATE_JWK") or json.dumps(DEMO_ONLY_PRIVATE_JWK))
REFRESH_LEEWAY = int(os.environ.get("BUDGET_BUDDY_REFRESH_LEEWAY", "60"))

fapi = Blueprint("fapi", __name__, url_prefix="/fapi")

# Server-side state, keyed by a random id in the signed session cookie: the pending authorization
# request (with its PKCE verifier and DPoP key) and the DPoP-bound token. A real app keeps these in
# its database, the private key of the DPoP key encrypted.
_pending: dict[str, AuthorizationRequest] = {}
_tokens: dict[str, DPoPToken] = {}
_lock = threading.Lock()
_client: OAuth2Client | None = None


def http() -> Session:
    return Session()  # TLS verified against the system's CAs (or REQUESTS_CA_BUNDLE's)


def client() -> OAuth2Client:
    """The bank's endpoints from its metadata (RFC 8414), and private_key_jwt for every call."""
    global _client
    if _client is None:
        metadata_url = f"{BANK_URL}/.well-known/oauth-authorization-server"
        _client = OAuth2Client.from_discovery_endpoint(
            metadata_url,
            auth=PrivateKeyJwt(CLIENT_ID, PRIVATE_JWK, alg="ES256"),
            redirect_uri=REDIRECT_URI,
            session=http(),
            dpop_bound_access_tokens=True,
            testing=not BANK_URL.startswith("https://"),  # the local demo bank speaks plain http
        )
    return _client


def _key() -> str:
    if "fapi_sid" not in session:
        session["fapi_sid"] = secrets.token_urlsafe(24)
    return str(session["fapi_sid"])


def current_token() -> DPoPToken | None:
    """The connection's token, refreshed (with a proof of the same DPoP key) when it is about to expire."""
    with _lock:
        token = _tokens.get(_key())
    if token is None:
        return None
    if token.is_expired(REFRESH_LEEWAY):
        renewed = client().refresh_token(token)  # the bank rotates refresh tokens: keep the new one
        assert isinstance(renewed, DPoPToken)
        with _lock:
            _tokens[_key()] = token = renewed
    return token


def forget() -> None:
    with _lock:
        _tokens.pop(_key(), None)


def api_get(token: DPoPToken, path: str) -> Any:
    """An API call: the token rides as `Authorization: DPoP …` with a fresh proof for this request."""
    return api_answer(http().get(f"{BANK_URL}/api/v1/{path}", auth=token, timeout=10))


@fapi.get("/")
def home() -> str:
    notice = session.pop("notice", None)
    try:
        token = current_token()
        if token is None:
            return render_page(mode="fapi", notice=notice)
        me = api_get(token, "me/")
        accounts = api_get(token, "monetary-accounts/")["results"] if "accounts:read" in me["scopes"] else []
    except (ConnectionEnded, OAuth2Error, EndpointError, InvalidUseDPoPNonceResponse):
        # (requests-oauth2client takes the bank's 401 `DPoP error="invalid_token"` for a nonce request
        # and raises InvalidUseDPoPNonceResponse: for us, too, it means the token no longer works.)
        forget()
        notice = "Your bank ended this connection (it was revoked or has expired). Connect again to continue."
        return render_page(mode="fapi", notice=notice)
    return render_page(mode="fapi", notice=notice, me=me, accounts=accounts, token_type=token.token_type)


@fapi.get("/connect")
def connect() -> Any:
    """Push the authorization request to the bank, then send the customer there with its request_uri."""
    authorization = client().authorization_request(scope=SCOPES, dpop_key=DPoPKey.generate(alg="ES256"))
    pushed = client().pushed_authorization_request(authorization)
    with _lock:
        _pending[_key()] = authorization
    return redirect(str(pushed.uri))


@fapi.get("/callback")
def callback() -> Any:
    with _lock:
        authorization = _pending.pop(_key(), None)
    if authorization is None:
        abort(400, "No authorization request of yours is pending: start again from Budget Buddy.")
    try:
        # Checks state, and iss against the bank's metadata (RFC 9207), before anything else.
        response = authorization.validate_callback(request.url)
        token = client().authorization_code(response)  # private_key_jwt, and a DPoP proof of our key
    except AuthorizationResponseError as exc:
        session["notice"] = (
            "You did not connect your bank." if exc.error == "access_denied" else f"The bank refused: {exc.error}"
        )
        return redirect(url_for("fapi.home"))
    except (MismatchingState, InvalidTokenResponse, OAuth2Error, EndpointError) as exc:
        session["notice"] = f"Connecting failed: {exc}"
        return redirect(url_for("fapi.home"))
    assert isinstance(token, DPoPToken), "the bank must bind our tokens to our DPoP key"
    with _lock:
        _tokens[_key()] = token
    session["notice"] = "Your bank is connected, with DPoP-bound tokens."
    return redirect(url_for("fapi.home"))


@fapi.post("/disconnect")
def disconnect() -> Any:
    check_csrf()
    with _lock:
        token = _tokens.pop(_key(), None)
    if token is not None and token.refresh_token:
        client().revoke_refresh_token(token.refresh_token)  # RFC 7009: ends the connection at the bank
    session["notice"] = "Disconnected. Budget Buddy no longer has access to your bank."
    return redirect(url_for("fapi.home"))


def register(app: Flask) -> None:
    app.register_blueprint(fapi)
