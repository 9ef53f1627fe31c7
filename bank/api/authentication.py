"""API authentication: the toolkit's bearer-token check, DPoP-bound tokens (RFC 9449), and the
connection behind the token.

The validator refuses tokens of revoked or expired connections, blocked customers and suspended
apps (one query: token, app, user and connection together). A token bound to a DPoP key is accepted
only as `Authorization: DPoP <token>` with a fresh proof of that key for this very request; sent as
`Bearer` it is refused. Refusals answer 401 with the RFC's `WWW-Authenticate` challenge.
"""

from typing import NoReturn

from django.contrib.auth.models import User
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.common import Request as OAuthRequest
from rest_framework import exceptions
from rest_framework.request import Request

from bank.core.errors import ErrorCode
from connections.keys import ALGORITHMS
from connections.models import AccessToken, Connection
from connections.oauth.dpop import ProofRefused, proof_verify
from connections.services.authorization import oauth_refusal_record
from connections.services.connections import connection_touch

DPOP_ALGORITHMS = " ".join(ALGORITHMS)


def request_connection(request: Request) -> Connection:
    """The connection behind the request's token (always set once authenticated)."""
    token = request.auth
    assert isinstance(token, AccessToken) and token.connection is not None
    return token.connection


def request_customer(request: Request) -> User:
    """The customer whose token it is: the API never names a user in a path."""
    return request_connection(request).user


class ConnectionAuthentication(OAuth2Authentication):
    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "dpop":
            token = self._dpop_token(request, credentials.strip())
        else:
            result = super().authenticate(request)
            if result is None:
                if scheme.lower() == "bearer":
                    error = getattr(request, "oauth2_error", {}) or {}
                    raise exceptions.AuthenticationFailed(
                        error.get("error_description") or "The access token is invalid, expired or revoked.",
                        code=ErrorCode.INVALID_TOKEN,
                    )
                return None
            _, token = result
            assert isinstance(token, AccessToken)
            if token.dpop_jkt:
                self._refuse(
                    request, token, "invalid_token", "This token is DPoP-bound: send it as DPoP, with a proof."
                )
        assert token.connection is not None and token.user is not None
        # The connection's customer is the token's: no second load of the same user.
        token.connection.user = token.user
        connection_touch(token.connection)
        return token.user, token

    def _dpop_token(self, request: Request, credentials: str) -> AccessToken:
        """A DPoP-bound token and a proof, for this method and URL, of the key it is bound to."""
        checked = OAuthRequest(request.build_absolute_uri(), request.method or "GET", None, {})
        if not credentials or not get_oauthlib_core().server.request_validator.validate_bearer_token(
            credentials, [], checked
        ):
            why = (getattr(checked, "oauth2_error", None) or {}).get("error_description")
            self._refuse(request, None, "invalid_token", why or "The access token is invalid, expired or revoked.")
        token: AccessToken = checked.access_token
        if not token.dpop_jkt:
            self._refuse(request, token, "invalid_token", "This token is not DPoP-bound: send it as Bearer.")
        proof = request.headers.get("DPoP")
        try:
            if not proof or "," in proof:
                raise ProofRefused("Send exactly one DPoP proof with a DPoP-bound token.")
            verified = proof_verify(
                proof,
                method=request.method or "GET",
                url=request.build_absolute_uri(request.path),
                access_token=credentials,
            )
        except ProofRefused as exc:
            self._refuse(request, token, exc.error, exc.description)
        if verified.jkt != token.dpop_jkt:
            self._refuse(request, token, "invalid_token", "The DPoP proof is signed with another key than the token's.")
        return token

    @staticmethod
    def _refuse(request: Request, token: AccessToken | None, error: str, description: str) -> NoReturn:
        if token is not None:
            oauth_refusal_record(token.application, endpoint="api", error=error, connection=token.connection)
        challenge = {"scheme": "DPoP", "error": error, "error_description": description}
        setattr(request, "oauth2_error", challenge)  # noqa: B010  (read by authenticate_header)
        raise exceptions.AuthenticationFailed(description, code=error)

    def authenticate_header(self, request: Request) -> str:
        error = getattr(request, "oauth2_error", {}) or {"error": "invalid_token"}
        if error.get("scheme") == "DPoP":
            description = str(error.get("error_description", "")).replace('"', "'")
            return f'DPoP error="{error["error"]}", error_description="{description}", algs="{DPOP_ALGORITHMS}"'
        error.setdefault("error", "invalid_token")
        setattr(request, "oauth2_error", error)  # noqa: B010  (DRF Request proxies unknown attributes)
        header: str = super().authenticate_header(request)
        return header
