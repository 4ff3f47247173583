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

    A Redis URL gives Django's built-in RedisCache, shared by every app server; no URL gives a
    per-process memory cache (enough for one server, and what the tests use by default).
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
    return {**CACHE_DEFAULTS, "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}


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
