"""Django's RedisCache, with one Redis client per connection pool instead of one per operation,
and a Redis that cannot be reached read as an empty cache rather than an error.

Django's ``RedisCacheClient.get_client()`` makes a new ``redis.Redis`` for every cache
operation, and redis-py's constructor fills a case-insensitive table of about eighty response
callbacks each time: measured through the WSGI handler, that was about 190 µs of the 440 µs of
CPU a page served from the cache cost, more than the page's own database query. A client only
holds its connection pool and those callbacks, and is safe to share between threads, so one per
pool is kept.

The cache only saves work: when Redis is down (restarted, out of memory, unreachable), pages
are rendered afresh (each server still keeps its own, ``public_cache.PageMemory``) and the API's
throttle forgets, rather than every reader getting an error. After a failed operation Redis is
not asked again for ``RETRY_AFTER_SECONDS``, so an outage costs each request nothing, not a
connection attempt; the outage is logged once, when it starts.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def _now():
    """The clock of the pause after a failure (a function, for the tests)."""
    return time.monotonic()


class ReusedClients(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._down_until = 0.0

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def _unless_down(self, operation, when_down):
        """``operation()``, or ``when_down`` (what an empty cache answers) while Redis is down."""
        if _now() < self._down_until:
            return when_down
        try:
            return operation()
        except (RedisError, OSError) as error:
            self._down_until = _now() + RETRY_AFTER_SECONDS
            logger.warning(
                "The shared cache (Redis) cannot be reached: pages are rendered afresh until it "
                "answers again (asked again every %s s). %s",
                RETRY_AFTER_SECONDS,
                error,
            )
            return when_down

    # What an empty cache that stores nothing answers. ``clear`` and ``incr`` still raise: one
    # is asked for by a person (or a test) who must know, the other has no empty answer.
    def add(self, key, value, timeout):
        return self._unless_down(lambda: super(ReusedClients, self).add(key, value, timeout), False)

    def get(self, key, default):
        return self._unless_down(lambda: super(ReusedClients, self).get(key, default), default)

    def set(self, key, value, timeout):
        return self._unless_down(lambda: super(ReusedClients, self).set(key, value, timeout), None)

    def touch(self, key, timeout):
        return self._unless_down(lambda: super(ReusedClients, self).touch(key, timeout), False)

    def delete(self, key):
        return self._unless_down(lambda: super(ReusedClients, self).delete(key), False)

    def get_many(self, keys):
        return self._unless_down(lambda: super(ReusedClients, self).get_many(keys), {})

    def has_key(self, key):
        return self._unless_down(lambda: super(ReusedClients, self).has_key(key), False)

    def set_many(self, data, timeout):
        return self._unless_down(lambda: super(ReusedClients, self).set_many(data, timeout), [])

    def delete_many(self, keys):
        return self._unless_down(lambda: super(ReusedClients, self).delete_many(keys), None)


class SharedRedisCache(RedisCache):
    """``DJANGO_CACHE_URL=redis://…``: the page cache shared by every app server."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients
