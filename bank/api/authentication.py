"""API authentication: the toolkit's bearer-token check, DPoP-bound tokens (RFC 9449), and the
connection behind the token.

A token of a revoked or expired connection, or of a blocked customer, is refused (one query: token,
app, customer, connection and the connection's shared account ids together). A token bound to a
DPoP key is accepted only as `Authorization: DPoP <token>` with a fresh proof of that key for this
very request; sent as `Bearer` it is refused. Refusals answer 401 with the RFC's `WWW-Authenticate` challenge.
"""

from typing import NoReturn

from django.contrib.auth.models import User
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.request import Request

from bank.core.errors import ErrorCode
from connections.keys import ALGORITHMS
from connections.models import AccessToken, Connection
from connections.oauth.access import access_token_load, access_token_refusal
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
    """The toolkit's authentication class (drf-spectacular documents the scheme from it), with the
    token read and checked in one query of its own (`connections.oauth.access`): no oauthlib request
    is built for an API call."""

    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if scheme not in ("bearer", "dpop"):
            return None  # no credentials: the permission answers 401 not_authenticated
        token = access_token_load(credentials) if credentials else None
        refusal = access_token_refusal(token, url=request.build_absolute_uri(request.path))
        if scheme == "dpop":
            if refusal:
                self._refuse(request, None, "invalid_token", refusal)
            assert token is not None
            self._check_dpop_proof(request, token, credentials)
        else:
            if refusal:
                setattr(request, "oauth2_error", {"error": "invalid_token", "error_description": refusal})  # noqa: B010
                raise exceptions.AuthenticationFailed(refusal, code=ErrorCode.INVALID_TOKEN)
            assert token is not None
            if token.dpop_jkt:
                self._refuse(
                    request, token, "invalid_token", "This token is DPoP-bound: send it as DPoP, with a proof."
                )
        assert token.connection is not None and token.user is not None
        connection_touch(token.connection)
        return token.user, token

    def _check_dpop_proof(self, request: Request, token: AccessToken, credentials: str) -> None:
        """A proof, for this method and URL, of the key the token is bound to."""
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
