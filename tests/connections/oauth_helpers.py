"""Drive the OAuth flow through Django's test client: consent, code, token."""

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from connections import scopes
from connections.models import Application

CLIENT_ID = "test-client"
CLIENT_SECRET = "s" * 64
REDIRECT_URI = "https://app.example/callback"


def register_by_form(client: Any, **fields: str) -> Any:
    """A developer registers "Piggy Bank" at /developers/new/ (`fields` change or add to the form)."""
    data = {
        "name": "Piggy Bank",
        "website": "https://piggy.example",
        "redirect_uris": "https://piggy.example/callback",
        "client_type": "confidential",
        **fields,
    }
    return client.post("/developers/new/", data)


def make_application(**overrides: Any) -> Application:
    fields: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "name": "Budget Buddy",
        "client_type": Application.CLIENT_CONFIDENTIAL,
        "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
        "redirect_uris": REDIRECT_URI,
        "allowed_scopes": " ".join(scopes.ALL),
        "developer_name": "Budget Buddy Ltd",
        "website": "https://app.example",
        "verified": True,
    }
    fields.update(overrides)
    return Application.objects.create(**fields)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@dataclass
class Authorization:
    verifier: str
    response: Any

    @property
    def location(self) -> str:
        return self.response["Location"]

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}

    @property
    def code(self) -> str:
        return self.params["code"]


def authorize_url(
    client_id: str = CLIENT_ID, redirect_uri: str = REDIRECT_URI, challenge: str | None = None, **extra: str | None
) -> str:
    query: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": "xyz",
    }
    if challenge is not None:
        query.update(code_challenge=challenge, code_challenge_method="S256")
    query.update(extra)
    return "/o/authorize/?" + urlencode({k: v for k, v in query.items() if v is not None})


def consent(
    client: Any,
    user: Any,
    *,
    scope: str | None = "accounts:read payments:read",
    tick_scopes: list[str] | None = None,
    tick_accounts: list[int] | None = None,
    allow: bool = True,
    extra_post: dict[str, Any] | None = None,
    client_id: str = CLIENT_ID,
    **query: str,
) -> Authorization:
    """Log in, open the consent screen, tick what is asked and post it. Returns the redirect."""
    client.force_login(user)
    verifier, challenge = pkce_pair()
    page = client.get(authorize_url(client_id=client_id, challenge=challenge, scope=scope, **query))
    return Authorization(verifier, answer_consent(client, page, tick_scopes, tick_accounts, allow, extra_post))


def answer_consent(
    client: Any,
    page: Any,
    tick_scopes: list[str] | None = None,
    tick_accounts: list[int] | None = None,
    allow: bool = True,
    extra_post: dict[str, Any] | None = None,
) -> Any:
    """Post the consent screen `page` as shown (or with other ticks); returns the bank's answer."""
    assert page.status_code == 200, page.content[:500]
    form = page.context["form"]
    data = {
        name: value
        for name, value in form.initial.items()
        if value not in (None, "") and name not in ("scope", "accounts")
    }
    data["scope"] = tick_scopes if tick_scopes is not None else form.initial["scope"]
    data["accounts"] = tick_accounts if tick_accounts is not None else form.initial["accounts"]
    if allow:
        data["allow"] = "true"
    data.update(extra_post or {})
    return client.post(page.request["PATH_INFO"] + "?" + page.request["QUERY_STRING"], data)


def token_request(client: Any, data: dict[str, str], client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> Any:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/o/token/",
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def exchange(client: Any, auth: Authorization, **overrides: str) -> Any:
    data = {
        "grant_type": "authorization_code",
        "code": auth.code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": auth.verifier,
    }
    data.update(overrides)
    client_id = data.pop("client_id", CLIENT_ID)
    secret = data.pop("client_secret", CLIENT_SECRET)
    return token_request(client, data, client_id=client_id, secret=secret)


def refresh(client: Any, refresh_token: str, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> Any:
    return token_request(client, {"grant_type": "refresh_token", "refresh_token": refresh_token}, client_id, secret)


def api_get(client: Any, path: str, token: str) -> Any:
    client.logout()
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
