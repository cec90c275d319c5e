"""DRF's sliding-window rate throttle in one Redis round trip.

`SimpleRateThrottle` reads the caller's history with one GET and writes it back with a
SET: two round trips per throttled request, and two requests of one caller at once can
both read the same history and both be let through. With django-redis as the cache the
same window is a sorted set of request times that a small Lua script trims, counts and
adds to atomically (one EVALSHA). The rule is DRF's, unchanged: times at or before
`now - duration` leave the window; a caller with `num_requests` left in it is refused,
and `wait()` is DRF's own, from the history the script returns on a refusal. Any other
cache (the database cache without Redis, locmem in tests) takes DRF's GET and SET.
"""

import secrets

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

try:
    from django_redis.cache import RedisCache
except ImportError:  # pragma: no cover - django-redis is a dependency
    RedisCache = None

# KEYS[1] the window; ARGV: now, the cutoff (now - duration), the limit, the TTL in
# seconds, a member unique to this request. Times travel as strings: Lua's own number
# formatting keeps 14 digits, too few for an epoch time with its fraction.
_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return false
"""


_registered = []


def _script(client):
    """The window script (redis-py sends it by its SHA, loading it again if Redis lost it)."""
    if not _registered:
        _registered.append(client.register_script(_WINDOW))
    return _registered[0]


class OneTripRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle with its check-and-count in one atomic Redis call."""

    cache_alias = "default"  # SimpleRateThrottle.cache is this alias' cache

    def allow_request(self, request, view):
        backend = caches[self.cache_alias]
        if RedisCache is None or not isinstance(backend, RedisCache):
            return super().allow_request(request, view)
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        client = backend.client.get_client(write=True)
        refused = _script(client)(
            keys=[backend.make_key(f"{self.key}:window")],
            args=[
                repr(self.now),
                repr(self.now - self.duration),
                self.num_requests,
                max(1, int(self.duration)),
                f"{self.now!r}:{secrets.token_hex(6)}",
            ],
            client=client,
        )
        if not refused:
            return True
        # The window as DRF keeps it (newest first), for DRF's wait().
        scores = refused[1::2]
        self.history = sorted((float(score) for score in scores), reverse=True)
        return self.throttle_failure()


class OneTripScopedRateThrottle(ScopedRateThrottle, OneTripRateThrottle):
    """DRF's ScopedRateThrottle (the view's `throttle_scope` picks the rate) counted in
    one atomic Redis call: ScopedRateThrottle.allow_request finds the rate, then hands
    over to OneTripRateThrottle's."""
