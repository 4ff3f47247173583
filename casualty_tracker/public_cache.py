"""Public responses cached per URL, language and data version, so that no figure is ever stale.

An anonymous reader's GET is answered from the cache when a response for the same URL, language,
day and data version is there, and rendered (then stored) otherwise. The data version
(incidents/dataversion.py) grows in the same transaction as every write to the public data, so
an edit is visible on the very next request: its new version finds nothing cached yet.

Every anonymous response carries an ETag (the version and the URL) and a Last-Modified (the time
of the last change), so a client that asks again gets 304 without a page being rendered or read
from the cache, streamed downloads included (they are never stored whole). Shared proxies may
keep an anonymous page for DJANGO_PROXY_CACHE_SECONDS; staff always get live pages that nobody
keeps, and so do the admin and the exports.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from incidents import dataversion

# Never served from the cache, whoever asks: staff tools, private downloads, the health check.
LIVE_PATHS = ("/admin/", "/export/", "/healthz/")
STORED_STATUSES = (200, 404)


class PublicCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Staff see drafts and must see what they have just saved; the admin and the exports are
        # theirs. All live, and kept by nobody. (The user is asked before the view runs: the API's
        # views set the request's user aside.)
        if (
            request.path.startswith(LIVE_PATHS)
            or request.method not in ("GET", "HEAD")
            or request.user.is_authenticated
        ):
            return self._private(self.get_response(request))
        version, changed_at = dataversion.current()
        key = self._key(request, version)
        validators = {
            "etag": f'"{key[-24:]}"',
            "last_modified": int(changed_at.timestamp()) if changed_at else None,
        }
        not_modified = get_conditional_response(request, **validators)
        if not_modified is not None:
            return self._public(not_modified, validators, "not-modified")
        stored = cache.get(key)
        if stored is not None:
            status, headers, content = stored
            return self._public(HttpResponse(content, status=status, headers=headers), validators, "hit")
        response = self.get_response(request)
        if self._storable(request, response):
            cache.set(key, (response.status_code, dict(response.items()), response.content))
        return self._public(response, validators, "miss")

    @staticmethod
    def _private(response):
        patch_cache_control(response, private=True, no_store=True)
        return response

    @staticmethod
    def _key(request, version):
        # The day is part of the key: a page may say "today" (a citation's date accessed).
        day = timezone.now().date().isoformat()
        parts = "\n".join((str(version), day, translation.get_language() or "", request.get_full_path()))
        return "page:" + hashlib.sha256(parts.encode()).hexdigest()

    @staticmethod
    def _storable(request, response):
        return (
            request.method == "GET"
            and response.status_code in STORED_STATUSES
            and not response.streaming
            and not response.cookies
            and "no-store" not in response.get("Cache-Control", "")
            and "private" not in response.get("Cache-Control", "")
        )

    @staticmethod
    def _public(response, validators, outcome):
        # For operators and tests: was the page rendered, read from the cache, or not sent at all?
        response["X-Cache"] = outcome
        response["ETag"] = validators["etag"]
        if validators["last_modified"] is not None:
            response["Last-Modified"] = http_date(validators["last_modified"])
        if "Cache-Control" not in response:
            patch_cache_control(response, public=True, max_age=0, s_maxage=settings.PROXY_CACHE_SECONDS)
        # A logged-in editor behind the same proxy must not be given an anonymous copy.
        patch_vary_headers(response, ["Cookie"])
        return response
