"""Django's RedisCache, with one Redis client per connection pool instead of one per operation.

Django's ``RedisCacheClient.get_client()`` makes a new ``redis.Redis`` for every cache
operation, and redis-py's constructor fills a case-insensitive table of about eighty response
callbacks each time: measured through the WSGI handler, that was about 190 µs of the 440 µs of
CPU a page served from the cache cost, more than the page's own database query. A client only
holds its connection pool and those callbacks, and is safe to share between threads, so one per
pool is kept.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClients(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class SharedRedisCache(RedisCache):
    """``DJANGO_CACHE_URL=redis://…``: the page cache shared by every app server."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClients
