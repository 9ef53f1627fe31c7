"""Django's Redis cache, without its per-call cost: Django builds a new `redis.Redis` (and with it the
client's table of some 170 response callbacks) for every cache call, about 0.1 ms each. One client
is enough: redis-py clients are thread-safe and share their pool's connections. Every rate limit,
guess limit, replay check (DPoP proofs, client assertions) and session read goes through here.

The bank configures one Redis server (REDIS_URL), so reads and writes share one pool and one client."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis import Redis


class ReusingRedisCacheClient(RedisCacheClient):
    _reused: dict[bool, Redis]

    def get_client(self, key: object = None, *, write: bool = False) -> Redis:
        if not hasattr(self, "_reused"):
            self._reused = {}
        client = self._reused.get(write)
        if client is None:
            client = self._reused[write] = super().get_client(None, write=write)
        return client


class BankRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, object]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
