"""API authentication: the toolkit's bearer-token check, plus the connection behind the token.

The validator already refuses tokens of revoked or expired connections and suspended apps (one
query: token, app, user and connection together). This class exposes the connection to the views
and records "last used" without a write on every request.
"""

from django.contrib.auth.models import User
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.request import Request

from bank.core.errors import ErrorCode
from connections.models import AccessToken, Connection
from connections.services.connections import connection_touch


def request_connection(request: Request) -> Connection:
    """The connection behind the request's bearer token (always set once authenticated)."""
    token = request.auth
    assert isinstance(token, AccessToken) and token.connection is not None
    return token.connection


def request_customer(request: Request) -> User:
    """The customer whose token it is: the API never names a user in a path."""
    return request_connection(request).user


class ConnectionAuthentication(OAuth2Authentication):
    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        result = super().authenticate(request)
        if result is None:
            if request.headers.get("Authorization", "").lower().startswith("bearer "):
                error = getattr(request, "oauth2_error", {}) or {}
                raise exceptions.AuthenticationFailed(
                    error.get("error_description") or "The access token is invalid, expired or revoked.",
                    code=ErrorCode.INVALID_TOKEN,
                )
            return None
        user, token = result
        assert isinstance(token, AccessToken) and token.connection is not None
        # The connection's customer is the token's: no second load of the same user.
        token.connection.user = user
        connection_touch(token.connection)
        return user, token

    def authenticate_header(self, request: Request) -> str:
        error = getattr(request, "oauth2_error", {}) or {"error": "invalid_token"}
        error.setdefault("error", "invalid_token")
        setattr(request, "oauth2_error", error)  # noqa: B010  (DRF Request proxies unknown attributes)
        header: str = super().authenticate_header(request)
        return header
