"""Calling apps' servers: callbacks signed as Standard Webhooks say, sent so that an app's URL cannot
turn the bank against its own network (SSRF).

- A target is `https`, or `http` only to 127.0.0.1 or localhost with a port where loopback targets
  are allowed (never in production); no credentials in it.
- Before each call the host is resolved, and every address must be public: private, loopback (unless
  allowed), link-local, multicast, reserved and unspecified addresses are refused, IPv4 inside IPv6
  too. The call then goes to the checked address (TLS still verifies the host name), so a DNS answer
  that changes between check and call cannot redirect it.
- Redirects are not followed; each phase of the call times out; at most a few KB of the answer are
  read.

Signing secrets are kept encrypted with a key derived from the bank's SECRET_KEY (and its fallbacks,
so a rotated SECRET_KEY still opens them).
"""

import base64
import functools
import hashlib
import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105  (the prefix of every signing secret, not a secret)
ANSWER_BYTES = 4096
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """A target the bank will not call, and why (for the developer)."""


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no HTTP answer (refused, unreachable, timed out)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- signing secrets ---------------------------------------------------------------------------


def signing_secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"callbacks:{key}".encode()).digest())) for key in keys]
    )


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("The signing secret cannot be opened with this SECRET_KEY.") from exc


def signature_headers(*, secret: str, message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one message."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }


# --- targets -----------------------------------------------------------------------------------


def target_checked(url: str, *, allow_loopback: bool) -> str:
    """A target as it will be stored, or why it is refused."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise TargetRefused("A notification target is an https URL.")
    if parts.username or parts.password:
        raise TargetRefused("A notification target carries no credentials.")
    if parts.fragment:
        raise TargetRefused("A notification target has no fragment.")
    if parts.scheme == "http" and not (allow_loopback and host in LOOPBACK_HOSTS and parts.port):
        raise TargetRefused(
            "A notification target is https; http only to 127.0.0.1 or localhost with a port, outside production."
            if allow_loopback
            else "A notification target is https."
        )
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal, allow_loopback=allow_loopback):
        raise TargetRefused("A notification target cannot be a private, loopback or reserved address.")
    return urlunsplit(parts)


def address_allowed(address: Address, *, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_loopback
    return not (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _checked_address(host: str, port: int, *, allow_loopback: bool) -> Address:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"The target's host does not resolve: {exc.strerror}.") from exc
    addresses = [ipaddress.ip_address(answer[4][0]) for answer in answers]
    if not addresses or not all(address_allowed(a, allow_loopback=allow_loopback) for a in addresses):
        raise TargetRefused("The target's host resolves to a private, loopback or reserved address.")
    return addresses[0]


@functools.cache
def _client() -> httpx.Client:
    """One client per process: building one loads the CA bundle (~20 ms). No connection is kept: one
    to an address verified for one host name must never carry another host's callback. It never
    follows redirects and ignores the environment's proxy settings."""
    return httpx.Client(follow_redirects=False, trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


def post(url: str, *, body: str, headers: dict[str, str], timeout: float, allow_loopback: bool) -> Answer:
    """POST `body` to `url` through the guard; never raises for the target's failures."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        target_checked(url, allow_loopback=allow_loopback)
        address = _checked_address(host, port, allow_loopback=allow_loopback)
    except TargetRefused as exc:
        return Answer(None, str(exc))
    literal = f"[{address}]" if address.version == 6 else str(address)
    pinned = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
    request_headers = {
        **headers,
        "Host": parts.netloc.rpartition("@")[2],
        "Content-Type": "application/json",
        "User-Agent": "DemoBank-Callbacks/1",
    }
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    try:
        with _client().stream(
            "POST", pinned, content=body, headers=request_headers, timeout=timeout, extensions=extensions
        ) as answer:
            received = 0
            for chunk in answer.iter_bytes():
                received += len(chunk)
                if received >= ANSWER_BYTES:
                    break
            return Answer(answer.status_code, "" if answer.is_success else f"HTTP {answer.status_code}")
    except httpx.TimeoutException:
        return Answer(None, f"No answer within {timeout:g} s.")
    except httpx.HTTPError as exc:
        return Answer(None, f"Could not connect: {type(exc).__name__}.")
