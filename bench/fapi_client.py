"""An app's side of FAPI 2.0, for benchmarks and tests: its P-256 key, the client assertions it signs
for private_key_jwt (RFC 7523) and the DPoP proofs it sends (RFC 9449). Built on joserfc."""

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Key:
    """A P-256 key pair, as an app holds it."""

    kid: str = field(default_factory=lambda: f"key-{secrets.token_hex(4)}")
    private: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", private=True))

    @property
    def public_jwk(self) -> dict[str, Any]:
        return {**self.private.as_dict(private=False), "kid": self.kid, "use": "sig", "alg": "ES256"}

    @property
    def jwks(self) -> str:
        return json.dumps({"keys": [self.public_jwk]})

    @property
    def thumbprint(self) -> str:
        """RFC 7638, by hand: SHA-256 of the required members, sorted, without whitespace."""
        public = self.private.as_dict(private=False)
        members = {name: public[name] for name in ("crv", "kty", "x", "y")}
        return b64(hashlib.sha256(json.dumps(members, separators=(",", ":"), sort_keys=True).encode()).digest())

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode({"alg": "ES256", **header}, claims, self.private)


def client_assertion(key: Key, *, client_id: str, aud: str, **claims: Any) -> str:
    """A client assertion valid for a minute, unless `claims` say otherwise (None drops a claim)."""
    now = int(time.time())
    body = {"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + 60, "jti": uuid.uuid4().hex}
    body.update(claims)
    return key.sign({k: v for k, v in body.items() if v is not None}, kid=key.kid)


def dpop_proof(key: Key, *, htm: str, htu: str, token: str | None = None, **overrides: Any) -> str:
    """A DPoP proof for one request (with `ath` for an access token), unless `overrides` say otherwise
    (None drops a claim; `jwk` replaces the header's key)."""
    claims: dict[str, Any] = {"htm": htm, "htu": htu, "iat": int(time.time()), "jti": uuid.uuid4().hex}
    if token is not None:
        claims["ath"] = b64(hashlib.sha256(token.encode()).digest())
    jwk = overrides.pop("jwk", key.private.as_dict(private=False))
    claims.update(overrides)
    return key.sign({k: v for k, v in claims.items() if v is not None}, typ="dpop+jwt", jwk=jwk)
