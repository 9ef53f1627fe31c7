"""The signing keys and algorithms the bank accepts from apps (FAPI 2.0): ES256 on P-256, PS256 on RSA
of 2048 bits or more, EdDSA on Ed25519. Never `none`, never HS* (a shared secret), never RS256
(PKCS#1 v1.5). A client's JSON Web Key Set is checked before it is stored: public keys only, one
of the allowed kinds, a unique `kid` each. Built on joserfc; the bank writes no cryptography."""

import functools
import json
import warnings
from collections.abc import Mapping

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey
from joserfc.jws import extract_compact

from bank.core.errors import ErrorCode, ValidationFailed

ALGORITHMS = ("ES256", "PS256", "EdDSA")
MAX_KEYS = 10
MIN_RSA_BITS = 2048

# What each algorithm signs with: its key type, and the curve where there is one.
KEY_OF_ALGORITHM = {"ES256": ("EC", "P-256"), "PS256": ("RSA", None), "EdDSA": ("OKP", "Ed25519")}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

type Jwk = ECKey | RSAKey | OKPKey
type JsonObject = dict[str, object]


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, code=ErrorCode.INVALID_JWKS, field="jwks")


def public_key(jwk: Mapping[str, object]) -> Jwk:
    """A public key of an allowed kind, from its JWK; anything else is refused. The same JWK comes
    with every DPoP proof of a key: its checked import is remembered (a bounded cache)."""
    return _imported(_canonical(jwk))


def _canonical(jwk: Mapping[str, object]) -> str:
    try:
        return json.dumps(dict(jwk), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise _refused("A key is a JSON object of strings.") from exc


@functools.lru_cache(maxsize=1024)
def _imported(canonical: str) -> Jwk:
    jwk: dict[str, object] = json.loads(canonical)
    if PRIVATE_MEMBERS & set(jwk):
        raise _refused(
            'This is a private key: paste only your public keys (no "d" or other private member). '
            "Nothing was stored; keep the private key on your server."
        )
    kind = (jwk.get("kty"), jwk.get("crv"))
    if kind not in {("EC", "P-256"), ("OKP", "Ed25519")} and jwk.get("kty") != "RSA":
        raise _refused("Keys are EC P-256 (ES256), RSA (PS256) or OKP Ed25519 (EdDSA).")
    alg = jwk.get("alg")
    if alg is not None and (alg not in ALGORITHMS or KEY_OF_ALGORITHM[str(alg)][0] != jwk.get("kty")):
        raise _refused(f"A key's alg is one of {', '.join(ALGORITHMS)}, matching its type.")
    if jwk.get("use", "sig") != "sig":
        raise _refused('Keys are for signatures ("use": "sig").')
    members: dict[str, str | list[str]] = {}
    for name, value in jwk.items():
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            members[name] = value
        else:
            raise _refused(f"The key member {name!r} is not a string.")
    try:
        key: Jwk
        match jwk.get("kty"):
            case "EC":
                key = ECKey.import_key(members)
            case "OKP":
                key = OKPKey.import_key(members)
            case _:
                key = RSAKey.import_key(members)
    except (JoseError, ValueError, TypeError) as exc:
        raise _refused(f"A key could not be read: {exc}.") from exc
    if isinstance(key, RSAKey) and key.raw_value.key_size < MIN_RSA_BITS:
        raise _refused(f"RSA keys have at least {MIN_RSA_BITS} bits.")
    return key


def checked_jwks(text: str) -> str:
    """A client's key set as it will be stored (compact JSON), or a clear refusal."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise _refused('The key set is JSON: {"keys": [{...}]}.') from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS or not all(isinstance(k, dict) for k in keys):
        raise _refused(f'The key set is {{"keys": [...]}} with 1 to {MAX_KEYS} keys.')
    kids = [key.get("kid") for key in keys]
    if not all(isinstance(kid, str) and kid for kid in kids) or len(set(kids)) != len(kids):
        raise _refused('Every key has its own "kid".')
    for key in keys:
        public_key(key)
    return json.dumps({"keys": keys}, separators=(",", ":"))


def signing_key(jwks: str, kid: str | None, alg: str) -> Jwk:
    """The key of a client's set that signed a JWT with `kid` and `alg`: it must exist and fit."""
    if alg not in ALGORITHMS:
        raise ValueError(f"the algorithm {alg!r} is not accepted; use one of {', '.join(ALGORITHMS)}")
    keys = json.loads(jwks).get("keys", []) if jwks.strip() else []
    matching = [key for key in keys if key.get("kid") == kid] if kid else keys if len(keys) == 1 else []
    if not matching:
        raise ValueError(f"no key with kid {kid!r} in the client's registered key set")
    key = public_key(matching[0])
    kty, crv = KEY_OF_ALGORITHM[alg]
    if matching[0].get("kty") != kty or (crv and matching[0].get("crv") != crv):
        raise ValueError(f"the key {kid!r} cannot sign with {alg}")
    return key


def verified_claims(token: str, key: Jwk, alg: str) -> JsonObject:
    """The claims of a JWT whose signature `key` verifies with `alg` (and only `alg`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns that RFC 9864 prefers "Ed25519" to "EdDSA"
        decoded = jwt.decode(token, key, algorithms=[alg])
    return dict(decoded.claims)


def key_thumbprint(jwk: Mapping[str, object]) -> str:
    """The JWK SHA-256 thumbprint (RFC 7638), base64url, of a public key: how a DPoP key is named.
    Only the key's required members count (joserfc's `thumbprint()` of a dict would hash any other
    member too, such as `alg`, and name the same key differently than every client does)."""
    return _thumbprint(_canonical(jwk))


@functools.lru_cache(maxsize=1024)
def _thumbprint(canonical: str) -> str:
    return _imported(canonical).thumbprint()


def unverified_header(token: str) -> JsonObject:
    """A JWS header, read before its signature can be checked (to know which key to check it with)."""
    try:
        return dict(extract_compact(token.encode("ascii")).protected)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise ValueError("not a compact JWS") from exc


def unverified_claims(token: str) -> JsonObject:
    """A JWS's claims, read before its signature can be checked (to know whose key to check it with)."""
    try:
        payload = json.loads(extract_compact(token.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError) as exc:
        raise ValueError("not a compact JWS with JSON claims") from exc
    if not isinstance(payload, dict):
        raise ValueError("the claims are not a JSON object")
    return payload
