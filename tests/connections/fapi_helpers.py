"""A FAPI 2.0 app, played through Django's test client: its keys, its signed client assertions, its
DPoP proofs (good ones through joserfc, and the forged ones an attacker would try), pushed requests,
consent and the token requests."""

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.fapi_client import ASSERTION_TYPE, Key, b64, client_assertion, dpop_proof
from connections.models import Application, TokenEndpointAuthMethod
from tests.connections.oauth_helpers import REDIRECT_URI, make_application, pkce_pair

FAPI_CLIENT_ID = "fapi-client"
ISSUER = "http://127.0.0.1:8000"  # the test settings' OAUTH2_ISSUER
SERVER = "http://testserver"  # where Django's test client sends requests
TOKEN_URL = f"{SERVER}/o/token/"


def b64json(value: dict[str, Any]) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def assertion(key: Key, client_id: str = FAPI_CLIENT_ID, **claims: Any) -> str:
    """A client assertion for the test server, valid unless `claims` say otherwise."""
    return client_assertion(key, client_id=client_id, **{"aud": ISSUER, **claims})


def forged(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{b64json(header)}.{b64json(claims)}.{b64(signature)}"


def hs256_with_public_key(key: Key, claims: dict[str, Any]) -> str:
    """The classic confusion attack: HMAC keyed with the (public) key the server would verify with."""
    signing_input = f"{b64json({'alg': 'HS256', 'kid': key.kid})}.{b64json(claims)}"
    secret = json.dumps(key.public_jwk).encode()
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def proof(key: Key, *, htm: str = "POST", htu: str = TOKEN_URL, token: str | None = None, **overrides: Any) -> str:
    """A DPoP proof for the test server (by default, for its token endpoint)."""
    return dpop_proof(key, htm=htm, htu=htu, token=token, **overrides)


def make_fapi_application(key: Key, **overrides: Any) -> Application:
    fields: dict[str, Any] = {
        "client_id": FAPI_CLIENT_ID,
        "name": "Budget Buddy (FAPI)",
        "token_endpoint_auth_method": TokenEndpointAuthMethod.PRIVATE_KEY_JWT,
        "jwks": key.jwks,
        "dpop_bound_access_tokens": True,
        "require_pushed_authorization_requests": True,
    }
    fields.update(overrides)
    return make_application(**fields)


def form(client: Any, path: str, data: dict[str, str], **headers: str) -> Any:
    return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded", headers=headers)


def authenticated(key: Key, data: dict[str, str], client_id: str = FAPI_CLIENT_ID) -> dict[str, str]:
    return {**data, "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(key, client_id)}


@dataclass
class Pushed:
    verifier: str
    response: Any

    @property
    def request_uri(self) -> str:
        return str(self.response.json()["request_uri"])


def push(
    client: Any, key: Key, *, client_id: str = FAPI_CLIENT_ID, dpop_key: Key | None = None, **params: str
) -> Pushed:
    """POST /o/par/ with a valid authorization request, authenticated with `key`."""
    verifier, challenge = pkce_pair()
    data = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "accounts:read payments:read",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **params,
    }
    headers = {"DPoP": proof(dpop_key, htu=f"{SERVER}/o/par/")} if dpop_key else {}
    return Pushed(verifier, form(client, "/o/par/", authenticated(key, data, client_id), **headers))


def consent_pushed(client: Any, user: Any, pushed: Pushed, client_id: str = FAPI_CLIENT_ID) -> str:
    """The customer opens the pushed request and allows it; returns the code."""
    client.force_login(user)
    page = client.get("/o/authorize/?" + urlencode({"client_id": client_id, "request_uri": pushed.request_uri}))
    assert page.status_code == 200, (page.status_code, page.get("Location"), page.content[:500])
    initial = page.context["form"].initial
    data = {name: value for name, value in initial.items() if value not in (None, "")}
    data["allow"] = "true"
    answer = client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)
    assert answer.status_code == 303, answer.content[:500]
    location = answer["Location"]
    assert location.startswith(REDIRECT_URI), location
    return parse_qs(urlsplit(location).query)["code"][0]


def redeem(client: Any, key: Key, code: str, verifier: str, dpop_key: Key | None) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier}
    headers = {"DPoP": proof(dpop_key)} if dpop_key else {}
    return form(client, "/o/token/", authenticated(key, data), **headers)


def refresh_with(client: Any, key: Key, refresh_token: str, dpop_key: Key | None) -> Any:
    headers = {"DPoP": proof(dpop_key)} if dpop_key else {}
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return form(client, "/o/token/", authenticated(key, data), **headers)
