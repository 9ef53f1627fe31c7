"""`private_key_jwt` (RFC 7523, OpenID Connect Core §9): a client proves who it is with a JWT signed by
one of the keys it registered. The assertion's `iss` and `sub` are its client id, its `aud` the
bank's issuer (or the endpoint's URL), it expires at most 5 minutes ahead, and its `jti` is never
accepted twice, by any process."""

import time
from dataclasses import dataclass

from bank.core.limits import first_use
from connections.keys import signing_key, unverified_claims, unverified_header, verified_claims
from connections.models import Application, TokenEndpointAuthMethod

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_LIFETIME = 300  # seconds an assertion may live
CLOCK_SKEW = 60


class AssertionRefused(Exception):
    """Why a client assertion is refused (`invalid_client`), for the error description and the audit."""


@dataclass(frozen=True)
class AssertionCheck:
    client_id: str
    audiences: frozenset[str]  # the issuer, the token endpoint, the endpoint called


def assertion_client_id(assertion: str) -> str:
    """Whose assertion it claims to be (not yet verified)."""
    try:
        issuer = unverified_claims(assertion).get("iss")
    except ValueError as exc:
        raise AssertionRefused("The client_assertion is not a signed JWT.") from exc
    if not isinstance(issuer, str) or not issuer:
        raise AssertionRefused("The client_assertion has no iss.")
    return issuer


def assertion_verify(assertion: str, *, application: Application, check: AssertionCheck) -> None:
    if application.token_endpoint_auth_method != TokenEndpointAuthMethod.PRIVATE_KEY_JWT:
        raise AssertionRefused("This client is registered to authenticate with its secret, not a JWT.")
    try:
        header = unverified_header(assertion)
        alg, kid = header.get("alg"), header.get("kid")
        key = signing_key(application.jwks, kid if isinstance(kid, str) else None, str(alg))
        claims = verified_claims(assertion, key, str(alg))
    except ValueError as exc:
        raise AssertionRefused(f"The client_assertion is refused: {exc}.") from exc
    except Exception as exc:  # joserfc's signature and format errors
        raise AssertionRefused("The client_assertion's signature does not verify with the registered keys.") from exc
    if claims.get("iss") != application.client_id or claims.get("sub") != application.client_id:
        raise AssertionRefused("The client_assertion's iss and sub must both be the client id.")
    audience = claims.get("aud")
    audiences = {audience} if isinstance(audience, str) else set(audience) if isinstance(audience, list) else set()
    if not audiences & check.audiences:
        raise AssertionRefused(f"The client_assertion's aud must be the issuer, {min(check.audiences)}.")
    now = time.time()
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= now:
        raise AssertionRefused("The client_assertion has expired (or has no exp).")
    if expires > now + MAX_LIFETIME + CLOCK_SKEW:
        raise AssertionRefused(f"The client_assertion's exp is more than {MAX_LIFETIME} seconds ahead.")
    for claim in ("nbf", "iat"):
        value = claims.get(claim)
        if value is not None and (not isinstance(value, int | float) or value > now + CLOCK_SKEW):
            raise AssertionRefused(f"The client_assertion's {claim} is in the future.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 255:
        raise AssertionRefused("The client_assertion needs a jti.")
    if not first_use(f"assertion:{application.client_id}:{jti}", ttl=int(expires - now) + CLOCK_SKEW):
        raise AssertionRefused("This client_assertion was used before: every one needs a new jti.")
