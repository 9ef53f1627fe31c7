"""Counting attempts in a shared window: password guesses, login failures, token requests.

Each attempt is counted atomically *before* the thing it limits is tried (an `INCR` in the default
cache, which is Redis, shared by every process, in production), so no number of parallel requests
gets more tries than the limit. The window starts at the first attempt and lasts `window`.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache

UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
RATE = re.compile(r"^([0-9]+)/([0-9]*)(s|sec|min|m|h|hour|d|day)$")


@dataclass(frozen=True)
class Limit:
    name: str
    attempts: int
    window: timedelta

    @classmethod
    def parse(cls, name: str, rate: str) -> "Limit":
        """A limit from a rate such as "60/min" or "50/15min" (per `s`, `min`, `h` or `day`)."""
        match = RATE.match(rate.strip())
        if match is None:
            raise ValueError(f"{rate!r} is not a rate such as 60/min or 50/15min")
        count, multiple, unit = match.groups()
        return cls(name=name, attempts=int(count), window=timedelta(seconds=int(multiple or 1) * UNITS[unit]))

    def _key(self, who: str) -> str:
        return f"limit:{self.name}:{who}"

    def hit(self, who: str) -> int:
        """Count one attempt by `who` and return how many there have been in the window, this one
        included. Callers refuse when it is over `attempts`."""
        key = self._key(who)
        cache.add(key, 0, timeout=int(self.window.total_seconds()))
        try:
            return cache.incr(key)
        except ValueError:  # the window ended between add and incr: this is the first of a new one
            cache.add(key, 0, timeout=int(self.window.total_seconds()))
            return cache.incr(key)

    def exceeded(self, who: str) -> bool:
        """Whether `who` has used up the window, without counting an attempt."""
        return int(cache.get(self._key(who)) or 0) >= self.attempts

    def remaining(self, who: str) -> int:
        return max(0, self.attempts - int(cache.get(self._key(who)) or 0))

    def reset(self, who: str) -> None:
        cache.delete(self._key(who))

    @property
    def retry_after(self) -> int:
        """What to tell a refused client to wait: the whole window (the cache keeps no start time)."""
        return int(self.window.total_seconds())


def first_use(key: str, *, ttl: int) -> bool:
    """Whether this is the first time `key` is seen (kept for `ttl` seconds, across processes): how a
    JWT's `jti` is made single-use."""
    return bool(cache.add(f"once:{key}", True, timeout=ttl))
