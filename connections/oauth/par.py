"""What a pushed authorization request (RFC 9126) must be, checked when it is pushed: the same
validation as an authorization request (oauthlib with the bank's validator: client, exact redirect
URI, PKCE with S256, scopes within what the bank allows the app), by the client that authenticated,
plus an optional `dpop_jkt` or DPoP proof that binds the code to a key."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.oauth2.rfc6749.errors import FatalClientError, OAuth2Error

from connections.models import Application

from .dpop import is_thumbprint

# The authorization request's parameters that may be pushed; client authentication is not part of it.
PUSHABLE = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "dpop_jkt",
    "nonce",
)
CLIENT_AUTHENTICATION = ("client_secret", "client_assertion", "client_assertion_type")


class PushRefused(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def pushed_parameters(body: QueryDict, *, client: Application, proof_jkt: str) -> dict[str, str]:
    """The parameters to store for a pushed request, validated; refuses what is not acceptable."""
    parameters: dict[str, str] = {}
    for key in body:
        if key in CLIENT_AUTHENTICATION:
            continue
        values = body.getlist(key)
        if key not in PUSHABLE or len(values) != 1:
            raise PushRefused("invalid_request", f"The parameter {key!r} cannot be pushed (or was sent twice).")
        parameters[key] = values[0]
    parameters.setdefault("client_id", client.client_id)
    if parameters["client_id"] != client.client_id:
        raise PushRefused("invalid_request", "client_id is not the client that authenticated.")
    jkt = parameters.get("dpop_jkt", "")
    if jkt and not is_thumbprint(jkt):
        raise PushRefused("invalid_request", "dpop_jkt is the base64url SHA-256 thumbprint of a JWK.")
    if proof_jkt:
        if jkt and jkt != proof_jkt:
            raise PushRefused("invalid_dpop_proof", "dpop_jkt and the DPoP proof's key differ.")
        parameters["dpop_jkt"] = proof_jkt
    uri = f"{settings.OAUTH2_ISSUER.rstrip('/')}/o/authorize/?{urlencode(parameters)}"
    try:
        get_oauthlib_core().server.validate_authorization_request(uri)
    except FatalClientError as exc:
        raise PushRefused(exc.error, exc.description or "The client or its redirect URI is not valid.") from exc
    except OAuth2Error as exc:
        raise PushRefused(exc.error, exc.description or "The authorization request is not valid.") from exc
    return parameters
