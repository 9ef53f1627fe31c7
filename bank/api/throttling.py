"""Rate limits per connection (not per customer: each app has its own budget). The counters live in
the default cache, which is Redis, shared by every process, when REDIS_URL is set.

DRF's SimpleRateThrottle keeps every request's timestamp in one cache value (read, rewritten and
re-pickled on each request: 600 of them at 600/min). These count in fixed windows instead: one
atomic increment per request, whatever the rate; DRF still answers 429 with Retry-After.

Each response says where the app stands, in the IETF httpapi RateLimit header fields (draft 09):
`RateLimit-Policy: "connection";q=600;w=60` (the quota and its window in seconds) and
`RateLimit: "connection";r=599;t=42` (requests left, seconds until the window resets); a write also
names the `connection_writes` policy. ApiBoundaryMiddleware writes them from what the throttles
counted."""

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # DRF imports this module from its settings, before its views exist
    from rest_framework.views import APIView


@dataclass(frozen=True)
class Standing:
    """Where one connection stands against one policy, after this request."""

    policy: str
    quota: int
    window: int
    remaining: int
    reset: int


def standings_of(request: HttpRequest) -> list[Standing]:
    return list(getattr(request, "rate_limits", []))


def rate_limit_headers(standings: list[Standing]) -> dict[str, str]:
    if not standings:
        return {}
    return {
        "RateLimit-Policy": ", ".join(f'"{s.policy}";q={s.quota};w={s.window}' for s in standings),
        "RateLimit": ", ".join(f'"{s.policy}";r={s.remaining};t={s.reset}' for s in standings),
    }


class ConnectionRateThrottle(SimpleRateThrottle):
    scope = "connection"

    def get_cache_key(self, request: Request, view: "APIView") -> str | None:
        connection_id = getattr(request.auth, "connection_id", None)
        if connection_id is None:
            return None  # unauthenticated requests are refused before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": connection_id}

    def allow_request(self, request: Request, view: "APIView") -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, duration = self.parse_rate(self.rate)
        assert allowed is not None and duration is not None
        now = time.time()
        self.wait_seconds = duration - (now % duration)
        counter = f"{key}:{int(now // duration)}"
        try:
            count = cache.incr(counter)
        except ValueError:  # the window's first request
            count = 1 if cache.add(counter, 1, timeout=duration + 1) else cache.incr(counter)
        standing = Standing(self.scope, allowed, duration, max(0, allowed - count), max(1, round(self.wait_seconds)))
        django_request = request._request
        django_request.rate_limits = [*standings_of(django_request), standing]  # type: ignore[attr-defined]
        return count <= allowed

    def wait(self) -> float | None:
        return getattr(self, "wait_seconds", None)


class ConnectionWriteRateThrottle(ConnectionRateThrottle):
    """A tighter budget for requests that change something."""

    scope = "connection_writes"

    def allow_request(self, request: Request, view: "APIView") -> bool:
        if request.method in ("GET", "HEAD"):
            return True
        return super().allow_request(request, view)
