"""Each app's recent API calls, for its developer (/developers/<app>/calls/): when, the method and
path, the status and the request id to quote to support. Never a body, a query string or a token.

Kept in the shared cache, not the database: recording a call is one round trip to Redis (a capped
list per app that expires API_CALL_LOG_DAYS after its last call), so the API's reads stay without a
database write. Without Redis (local development, tests) the log lives in the process."""

import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.utils import timezone
from redis import Redis

KEEP = 1000  # calls per app
PATH_MAX = 200

_local: defaultdict[str, deque[str]] = defaultdict(lambda: deque(maxlen=KEEP))
_local_lock = threading.Lock()


@dataclass(frozen=True)
class ApiCall:
    created: datetime
    method: str
    path: str
    status: int
    request_id: str


def _key(application_id: int) -> str:
    return cache.make_key(f"api-calls:{application_id}")


def _redis() -> Redis | None:
    """The shared cache's Redis client, when the cache is Redis (production)."""
    return cache._cache.get_client(write=True) if isinstance(cache, RedisCache) else None


def api_call_record(*, application_id: int, method: str, path: str, status: int, request_id: str) -> None:
    entry = json.dumps(
        {"at": timezone.now().isoformat(), "m": method[:8], "p": path[:PATH_MAX], "s": status, "id": request_id[:128]}
    )
    key, ttl = _key(application_id), int(timedelta(days=settings.API_CALL_LOG_DAYS).total_seconds())
    client = _redis()
    if client is None:
        with _local_lock:
            _local[key].appendleft(entry)
        return
    pipe = client.pipeline(transaction=False)
    pipe.lpush(key, entry)
    pipe.ltrim(key, 0, KEEP - 1)
    pipe.expire(key, ttl)
    pipe.execute()


def api_calls_of(*, application_id: int, request_id: str = "") -> list[ApiCall]:
    """The app's calls of the last API_CALL_LOG_DAYS, newest first; or those with `request_id`."""
    key = _key(application_id)
    client = _redis()
    entries: list[str | bytes]
    if client is None:
        with _local_lock:
            entries = list(_local.get(key, ()))
    else:
        entries = list(client.lrange(key, 0, KEEP - 1))
    since = timezone.now() - timedelta(days=settings.API_CALL_LOG_DAYS)
    calls = []
    for raw in entries:
        item = json.loads(raw)
        call = ApiCall(datetime.fromisoformat(item["at"]), item["m"], item["p"], int(item["s"]), item["id"])
        if call.created >= since and (not request_id or call.request_id == request_id):
            calls.append(call)
    return calls
