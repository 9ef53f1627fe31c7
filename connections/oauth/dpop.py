"""DPoP (RFC 9449): an app proves, with every token request and every API call, that it holds the
private key its tokens are bound to. A proof is a JWT signed by that key, carrying the public key
(`jwk`, never a private member), the method and URL of the request, a fresh `iat`, a `jti` that no
process has seen, and at the API the hash of the access token (`ath`)."""

import base64
import hashlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bank.core.limits import first_use
from connections.keys import ALGORITHMS, key_thumbprint, public_key, unverified_header, verified_claims

PROOF_TYPE = "dpop+jwt"
IAT_WINDOW = 60  # seconds a proof's iat may be off
JKT_LENGTH = 43  # a base64url SHA-256


class ProofRefused(Exception):
    """A DPoP proof the bank refuses, with the RFC 9449 error code to answer."""

    def __init__(self, description: str, *, error: str = "invalid_dpop_proof") -> None:
        super().__init__(description)
        self.description = description
        self.error = error


@dataclass(frozen=True)
class Proof:
    jkt: str  # the thumbprint of the key that signed it


def token_hash(access_token: str) -> str:
    """`ath`: the base64url SHA-256 of the access token."""
    return base64.urlsafe_b64encode(hashlib.sha256(access_token.encode("ascii")).digest()).rstrip(b"=").decode()


def _same_target(claimed: str, actual: str) -> bool:
    """The htu claim against the request's URL: scheme, host, port and path, no query or fragment."""
    mine, theirs = urlsplit(actual), urlsplit(claimed)
    default = {"http": 80, "https": 443}
    return (
        theirs.scheme.lower() == mine.scheme.lower()
        and (theirs.hostname or "").lower() == (mine.hostname or "").lower()
        and (theirs.port or default.get(theirs.scheme.lower())) == (mine.port or default.get(mine.scheme.lower()))
        and theirs.path == mine.path
        and not theirs.query
        and not theirs.fragment
    )


def proof_verify(proof: str, *, method: str, url: str, access_token: str | None = None) -> Proof:
    try:
        header = unverified_header(proof)
    except ValueError as exc:
        raise ProofRefused("The DPoP proof is not a signed JWT.") from exc
    if header.get("typ") != PROOF_TYPE:
        raise ProofRefused('A DPoP proof has "typ": "dpop+jwt".')
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise ProofRefused(f"A DPoP proof is signed with {', '.join(ALGORITHMS)}.")
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise ProofRefused('A DPoP proof carries its public key in "jwk".')
    try:
        key = public_key(jwk)
        claims = verified_claims(proof, key, str(alg))
    except Exception as exc:  # a private member, a key of another kind, a bad signature
        message = getattr(exc, "message", None) or "The DPoP proof's signature does not verify with its jwk."
        raise ProofRefused(str(message)) from exc
    if claims.get("htm") != method:
        raise ProofRefused(f"The DPoP proof's htm must be {method}.")
    htu = claims.get("htu")
    if not isinstance(htu, str) or not _same_target(htu, url):
        raise ProofRefused(f"The DPoP proof's htu must be {url.split('?')[0]}.")
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or abs(time.time() - issued) > IAT_WINDOW:
        raise ProofRefused(f"The DPoP proof's iat must be within {IAT_WINDOW} seconds of now.")
    if access_token is not None and claims.get("ath") != token_hash(access_token):
        raise ProofRefused("The DPoP proof's ath must be the hash of this access token.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 255:
        raise ProofRefused("A DPoP proof needs a jti.")
    jkt = key_thumbprint(jwk)
    if not first_use(f"dpop:{jkt}:{jti}", ttl=2 * IAT_WINDOW + 10):
        raise ProofRefused("This DPoP proof was used before: every request needs a new one.")
    return Proof(jkt=jkt)


def is_thumbprint(value: str) -> bool:
    """Whether `dpop_jkt` has the shape of a JWK SHA-256 thumbprint."""
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    return len(value) == JKT_LENGTH and set(value) <= alphabet
