"""Rate limits per connection (not per customer: each app has its own budget). The counters live in
the default cache, which is Redis, shared by every process, when REDIS_URL is set."""

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle


class ConnectionRateThrottle(SimpleRateThrottle):
    scope = "connection"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        connection_id = getattr(request.auth, "connection_id", None)
        if connection_id is None:
            return None  # unauthenticated requests are refused before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": connection_id}


class ConnectionWriteRateThrottle(ConnectionRateThrottle):
    """A tighter budget for requests that change something."""

    scope = "connection_writes"

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD"):
            return True
        return super().allow_request(request, view)
