"""Strict readers for settings that come from environment variables.

A typo in a production variable must stop the server with a clear message,
never silently fall back to a default (``DJANGO_DEBUG=ture`` is not False).
Ours rather than django-environ's: its ``bool()`` reads any unknown word as False.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


def env_bool(name, default=False, environ=None):
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1, 0, true, false, yes, no, on, off."
    )


def env_list(name, default=(), environ=None):
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name, default, environ=None):
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None


CACHE_SCHEMES = ("redis://", "rediss://", "unix://")
# Pages of an older data version are never read again: let them expire within the hour.
CACHE_DEFAULTS = {"TIMEOUT": 3600}


def cache_from_url(url):
    """Django's CACHES entry for DJANGO_CACHE_URL.

    A Redis URL gives Django's built-in RedisCache (its clients reused: redis_cache.py), shared
    by every app server; no URL gives a per-process memory cache (enough for one server, and
    what the tests use by default).
    """
    url = (url or "").strip()
    if not url:
        return {
            **CACHE_DEFAULTS,
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Redis evicts by its own maxmemory policy; this cache needs a bound of its own.
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    if url == "dummy://":
        # Stores nothing: every page is rendered. For benchmarks that time the pages themselves.
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    if not url.startswith(CACHE_SCHEMES):
        raise ImproperlyConfigured(
            f"DJANGO_CACHE_URL={url!r} is not a Redis URL: use e.g. redis://127.0.0.1:6379/0."
        )
    return {
        **CACHE_DEFAULTS,
        "BACKEND": "casualty_tracker.redis_cache.SharedRedisCache",
        "LOCATION": url,
        # A Redis that does not answer must not hold readers: after these many seconds the
        # operation fails, and the page is rendered without the cache (redis_cache.py).
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }


RATE = re.compile(r"[1-9][0-9]*/(second|minute|hour|day)")


def env_rate(name, default, environ=None):
    """A request rate such as ``120/minute``: a whole number, then second, minute, hour or day."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    if not RATE.fullmatch(raw.strip()):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: write a whole number, a slash and second, minute, hour or day "
            "(e.g. 120/minute)."
        )
    return raw.strip()


# The map tiles (README, "Map"): OpenStreetMap's standard tiles, credited as Leaflet documents.
OSM_TILES_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
# What Leaflet puts for {s} when it is not told otherwise (its tileLayer's ``subdomains``).
TILE_SUBDOMAINS = "abc"
# scheme://host[:port] and a path: nothing that could end a Content-Security-Policy source or
# add one (a space, a comma, a semicolon, a quote), no user name or password.
TILES_URL = re.compile(
    r"(?P<origin>https?://(?P<subdomain>\{s\}\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?)"
    r"/[^\s;,'\"]*"
)
SAME_ORIGIN_TILES_URL = re.compile(r"/[^/\s;,'\"][^\s;,'\"]*")


def env_tiles_url(name, default, environ=None):
    """A tile URL template for Leaflet (``https://tile.openstreetmap.org/{z}/{x}/{y}.png``), or
    a path on this site (``/tiles/{z}/{x}/{y}.png``). Its origin goes into the CSP: anything that
    is not plainly a URL with {z}, {x} and {y} stops the server."""
    environ = os.environ if environ is None else environ
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    url = raw.strip()
    shaped = TILES_URL.fullmatch(url) or SAME_ORIGIN_TILES_URL.fullmatch(url)
    if not shaped or not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a tile URL: write http(s)://host/…/{{z}}/{{x}}/{{y}}.png "
            "(or a path on this site starting with /), with {z}, {x} and {y}."
        )
    return url


def tile_origins(url):
    """The origins ``url`` loads tiles from, for the CSP's img-src: one, or one per subdomain
    when the host starts with {s} (``TILE_SUBDOMAINS``, as the map's script is told); none for a
    path on this site, which 'self' already allows."""
    shaped = TILES_URL.fullmatch(url)
    if not shaped:
        return []
    origin = shaped["origin"]
    if shaped["subdomain"]:
        return [origin.replace("{s}", letter, 1) for letter in TILE_SUBDOMAINS]
    return [origin]
