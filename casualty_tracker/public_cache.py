"""Public responses cached per URL, language and data version, so that no figure is ever stale.

An anonymous reader's GET is answered from the cache when a response for the same URL, language,
day and data version is there, and rendered (then stored) otherwise. The data version
(incidents/dataversion.py) grows in the same transaction as every write to the public data, so
an edit is visible on the very next request: its new version finds nothing cached yet. One
published incident's page and its record in the API are kept instead under the revisions of the
incident and of the incidents its page shows, and the labels version (incidents/revisions.py),
which grow in the same way with every change to what they show: they stay kept while other
incidents are revised.
Pages of words only (the methodology, ``WORDS_ONLY``) are kept under the labels version alone.

Every anonymous response carries an ETag (the version and the URL) and a Last-Modified (the time
of the last change), so a client that asks again with the ETag gets 304 without a page being
rendered or read from the cache, streamed downloads included (they are never stored whole).
Shared proxies may keep an anonymous page for DJANGO_PROXY_CACHE_SECONDS; staff always get live
pages that nobody keeps, and so do the admin and the exports.

A page found in the cache is sent without running the rest of the middleware or any view: this
middleware comes second, after the request id. A reader is told apart from staff by what the
request carries before the session is read: a request with a session cookie (staff, or someone
who was) or an Authorization header is answered live. The response stored is the one the rest of
the chain gave (security headers, content security policy, language), so a hit sends the same
headers as the render did; static files pass straight through to WhiteNoise. A page this
process keeps in its own memory is sent even before Django handles the request
(``KeptPagesFirst``, the WSGI application), with the same headers.

A page is stored both as it is and, when it is text worth it, compressed (gzip): a reader whose
client takes gzip gets the compressed copy, so a page is compressed once, not per reader.

Each page is rendered once per version, however many readers ask for it at that moment: on a
crisis day every revision starts a new version, and two hundred readers missing the cache at
once would each render the same page (the servers then spent their time rendering pages that
were out of date before they were stored). The first reader renders it; the others wait for
it (``RENDER_WAIT_SECONDS`` at most) and are served what it stored.
"""

import collections
import functools
import gzip
import hashlib
import re
import threading
import time
import weakref
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.http import HttpResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from casualty_tracker import replicas
from casualty_tracker.middleware import request_id
from incidents import dataversion
from incidents.remembered import Remembered

STORED_STATUSES = (200, 404)
# Readers whose client takes gzip (every browser) get a page compressed once, when it is stored:
# the API's lists and the map's GeoJSON (300 to 550 kB) then leave the server as a tenth of that,
# which cost a hit of them, and its reader, more than the rest of the hit. Level 4: nine tenths of
# level 6's saving in two thirds of its time (3 ms for the GeoJSON). No page holds a secret of
# its reader's (staff pages are never stored), so compression leaks nothing (BREACH).
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
GZIP_LEVEL = 4
GZIP_AT_LEAST_BYTES = 1024
COMPRESSIBLE = re.compile(r"^(text/|application/(json|geo\+json|atom\+xml|xml))")
# How long a reader waits for another worker's render of the same page and version before
# rendering it itself (a render that fails or cannot be stored lets the waiters go at once).
RENDER_WAIT_SECONDS = 5
# A waiting reader looks again after 5 ms, then after twice as long each time, up to 40 ms
# apart: a render takes 10 to 100 ms, and every look is a request to the cache that the
# servers' CPU pays for while two hundred readers wait.
FIRST_WAIT_SECONDS = 0.005
LONGEST_WAIT_SECONDS = 0.04


class PageMemory:
    """The pages this process served lately, most recent last, up to ``limit`` bytes.

    In front of the shared cache: a page kept here is sent without asking Redis for it (a list
    of the API or the map's GeoJSON is 300 to 550 kB, and fetching it from Redis cost more than
    the rest of a cache hit). Keyed like the shared cache, by data version: a page kept here can
    never be older than the one Redis holds under the same key, so no server shows a stale figure.
    Pages of versions that have passed are simply not asked for again, and go first. Emptying
    Redis by hand does not empty these: restart the app servers for that.

    A page counts its content and, roughly, its headers and key (``OVERHEAD``): many small pages
    (404s for made-up addresses) must not hold more memory than the limit says. A page bigger
    than an eighth of the limit is not kept: one page must not push out all the others."""

    OVERHEAD = 2048
    everywhere = weakref.WeakSet()

    def __init__(self, limit):
        self.limit = limit
        self.size = 0
        self._pages = collections.OrderedDict()
        self._lock = threading.Lock()  # gthread workers serve several requests at once
        PageMemory.everywhere.add(self)

    def get(self, key):
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def keep(self, key, page):
        size = self._size(page)
        if size > self.limit // 8:
            return
        with self._lock:
            if key in self._pages:
                return
            self._pages[key] = page
            self.size += size
            while self.size > self.limit:
                _, dropped = self._pages.popitem(last=False)
                self.size -= self._size(dropped)

    def _size(self, page):
        return sum(len(body) for body in page[2:] if body) + self.OVERHEAD

    def clear(self):
        with self._lock:
            self._pages.clear()
            self.size = 0

    @classmethod
    def clear_everywhere(cls):
        """For the tests: a test's data is rolled back, so the next one meets its versions again."""
        for memory in list(cls.everywhere):
            memory.clear()


# The addresses of one incident alone (its page, its record in the API), by their URL names.
ONE_INCIDENT = ("incident_detail", "api:incident")


@functools.cache
def _one_incident_addresses():
    """A pattern of the addresses of one incident alone, in every language, from the URLs
    themselves: resolving every address cost a request up to a tenth of a millisecond."""
    placeholder = "SLUG"  # letters only: re.escape leaves it as it is
    addresses = set()
    for code, _ in settings.LANGUAGES:
        with translation.override(code):
            addresses.update(reverse(name, args=[placeholder]) for name in ONE_INCIDENT)
    slug = "[-a-zA-Z0-9_]+"  # Django's <slug:…>
    return re.compile(
        "|".join(sorted(re.escape(address).replace(placeholder, slug) for address in addresses))
    )


# Pages that show no data at all, only words (by URL name): kept under the labels version, which
# every ``migrate`` moves on as it does the data version (a deploy may change their words), and
# not rendered again after every revision.
WORDS_ONLY = ("methodology",)


@functools.cache
def _words_only_addresses():
    addresses = set()
    for code, _ in settings.LANGUAGES:
        with translation.override(code):
            addresses.update(reverse(name) for name in WORDS_ONLY)
    return frozenset(addresses)


# The addresses of that shape, resolved once each ("" when another page answers there, such as
# /incidents/feed/): popular pages are asked for over and over.
ADDRESSES_RESOLVED = Remembered(size=4096)


def _incident_shown(request):
    """The slug of the incident an address shows alone, or None."""
    path = request.path
    if not _one_incident_addresses().fullmatch(path):
        return None
    return ADDRESSES_RESOLVED.get(path, lambda: _slug_at(path)) or None


def _slug_at(path):
    # Resolved in the address's own language: an Arabic address resolves only while Arabic is on.
    with translation.override(translation.get_language_from_path(path) or settings.LANGUAGE_CODE):
        try:
            match = resolve(path)
        except Resolver404:
            return ""
    return match.kwargs["slug"] if match.view_name in ONE_INCIDENT else ""


def _pause(seconds):
    """Between two looks at the cache while another worker renders (a function, for the tests)."""
    time.sleep(seconds)


def pages_kept_in_this_process():
    """The memory of the pages this process served lately (``PageMemory``): one per process,
    shared by the page cache's middleware and ``KeptPagesFirst`` in front of Django."""
    global _PAGES_KEPT
    if _PAGES_KEPT is None:
        _PAGES_KEPT = PageMemory(limit=settings.PAGE_MEMORY_MB * 1024 * 1024)
    return _PAGES_KEPT


_PAGES_KEPT = None


class Address(NamedTuple):
    """What a reader's request is answered under: the version read, the cache key, the page's
    validators (ETag, Last-Modified) and whether the reader's client takes gzip."""

    version: dataversion.Version
    key: str
    validators: dict
    takes_gzip: bool


def address_of(request):
    """The ``Address`` of an anonymous reader's GET: reads the version (one query), from the
    replica chosen for the request."""
    version = dataversion.current(incident_slug=_incident_shown(request))
    if version.incident is not None:
        # One published incident's page or record: kept while other incidents change.
        depends_on = ("incident", *version.incident, version.labels, version.labels_changed_at)
    elif request.path in _words_only_addresses():
        depends_on = ("words only", version.labels, version.labels_changed_at)
    else:
        depends_on = (version.changes, version.changed_at)
    key = _key(request, depends_on)
    changed_at = version.changed_at
    takes_gzip = bool(ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    validators = {
        # Each encoding its own tag: they are two representations of the page.
        "etag": f'"{key[-24:]}{"-gzip" if takes_gzip else ""}"',
        "last_modified": int(changed_at.timestamp()) if changed_at else None,
    }
    return Address(version, key, validators, takes_gzip)


def _key(request, depends_on):
    # ``depends_on``: the data version and the time of the last change, or for one
    # incident's page its revision and the labels version with its time. The time is part of
    # the key with the version: a database restored from a backup counts its versions again
    # from the backup's, and the next change there reaches a number pages were already kept
    # under, but never at the same moment (a revision is itself a time). The day is part of
    # the key: a page may say "today" (a citation's date accessed). The address gives the
    # language (/ar/…, casualty_tracker/i18n.py) and, with the scheme and host, the absolute
    # links a page carries (its feed, its other languages).
    day = timezone.now().date().isoformat()
    parts = "\n".join((*map(str, depends_on), day, request.build_absolute_uri()))
    return "page:" + hashlib.sha256(parts.encode()).hexdigest()


def from_a_reader(request):
    """An anonymous reader's GET or HEAD of a public address. Staff see drafts and must see
    what they have just saved; the admin, the exports and the health check are live for
    everyone. Asked before the session is read: a session cookie, valid or not, means a
    live page (after logging out, Django deletes the cookie)."""
    return (
        request.method in ("GET", "HEAD")
        and not request.path.startswith(replicas.LIVE_PATHS)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _content(stored, takes_gzip):
    """(the content to send, whether it is gzipped) of a stored page, (status, headers, content,
    gzipped content or None; pages stored before compression have three), for a reader whose
    client takes gzip or not."""
    _, _, content, *compressed = stored
    gzipped = compressed[0] if compressed else None
    if takes_gzip and gzipped is not None:
        return gzipped, True
    return content, False


class PublicCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Django builds its middleware once per process; none kept when nothing is cached at all.
        self.keeps_pages = not isinstance(caches["default"], DummyCache)
        self.memory = pages_kept_in_this_process() if self.keeps_pages else PageMemory(limit=0)

    def __call__(self, request):
        if request.path.startswith(settings.STATIC_URL):
            return self.get_response(request)  # WhiteNoise's own long-lived headers
        if not from_a_reader(request):
            return self._private(self.get_response(request))
        # The version and the page are read from the same database (one replica, chosen here, for
        # the whole request): a page is stored under the version of the data it shows.
        token = replicas.replica_for_reads.set(replicas.pick_replica())
        try:
            return self._answer_a_reader(request)
        finally:
            replicas.replica_for_reads.reset(token)

    def _answer_a_reader(self, request):
        version, key, validators, takes_gzip = address_of(request)
        # Only the ETag answers 304: Last-Modified counts whole seconds of one time for the whole
        # site, and a change in the same second (or a longer transaction's earlier write, or a
        # new day) would leave it as it was, so If-Modified-Since alone gets the page.
        not_modified = get_conditional_response(request, etag=validators["etag"])
        if not_modified is not None:
            return self._public(not_modified, validators, "not-modified")
        stored = self.memory.get(key)
        if stored is None:
            stored = cache.get(key)
            if stored is not None:
                self.memory.keep(key, stored)
        if stored is not None:
            return self._public(self._stored(stored, takes_gzip), validators, "hit")
        rendering = key + ":rendering"
        renders_first = cache.add(rendering, True, timeout=RENDER_WAIT_SECONDS)
        if not renders_first:
            stored = self._wait_for(key, rendering)
            if stored is not None:
                self.memory.keep(key, stored)
                return self._public(self._stored(stored, takes_gzip), validators, "coalesced")
        # The page's parts kept in this process (menus, records) are kept under the same version.
        version_token = dataversion.READ_FOR_THIS_PAGE.set(version)
        try:
            response = self.get_response(request)
            # Nothing is stored (nor compressed) where the cache keeps nothing (the benchmark's).
            if self.keeps_pages and self._storable(request, response):
                page = (
                    response.status_code,
                    dict(response.items()),
                    response.content,
                    self._gzipped(response),
                )
                cache.set(key, page)
                self.memory.keep(key, page)
                response = self._stored(page, takes_gzip)
        finally:
            dataversion.READ_FOR_THIS_PAGE.reset(version_token)
            if renders_first:
                cache.delete(rendering)
        return self._public(response, validators, "miss")

    @staticmethod
    def _wait_for(key, rendering):
        """What another worker stores under ``key`` while it holds ``rendering``; None when it
        stops without storing (an error, a page that is not kept) or takes too long."""
        deadline = time.monotonic() + RENDER_WAIT_SECONDS
        wait = FIRST_WAIT_SECONDS
        while time.monotonic() < deadline:
            _pause(wait)
            wait = min(wait * 2, LONGEST_WAIT_SECONDS)
            # Both in one request to the cache (Redis MGET, read at one moment): the renderer
            # stores the page before it lets go of ``rendering``.
            found = cache.get_many([key, rendering])
            if key in found or rendering not in found:
                return found.get(key)
        return None

    @staticmethod
    def _gzipped(response):
        """The response's content compressed, when it is text worth compressing; else None."""
        if (
            len(response.content) < GZIP_AT_LEAST_BYTES
            or response.has_header("Content-Encoding")
            or not COMPRESSIBLE.match(response.get("Content-Type", ""))
        ):
            return None
        return gzip.compress(response.content, compresslevel=GZIP_LEVEL, mtime=0)

    @staticmethod
    def _stored(stored, takes_gzip):
        """The response for a stored page (``_content``)."""
        status, headers, *_ = stored
        content, gzipped = _content(stored, takes_gzip)
        response = HttpResponse(content, status=status, headers=headers)
        if gzipped:
            response["Content-Encoding"] = "gzip"
            response["Content-Length"] = str(len(content))
        return response

    @staticmethod
    def _private(response):
        patch_cache_control(response, private=True, no_store=True)
        return response

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
        # For operators and tests: was the page rendered, read from the cache (after waiting for
        # another worker's render: "coalesced"), or not sent at all?
        response["X-Cache"] = outcome
        response["ETag"] = validators["etag"]
        if validators["last_modified"] is not None:
            response["Last-Modified"] = http_date(validators["last_modified"])
        if "Cache-Control" not in response:
            patch_cache_control(response, public=True, max_age=0, s_maxage=settings.PROXY_CACHE_SECONDS)
        # A logged-in editor behind the same proxy must not be given an anonymous copy; who asks
        # with gzip and who without get different bodies (a 304 says so too).
        patch_vary_headers(response, ["Cookie", "Accept-Encoding"])
        return response


# Conditional requests (WSGI environ keys): Django's middleware answers them (304, 412).
CONDITIONS = frozenset(
    ["HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE"]
)


def _close_if_too_old():
    """Close this thread's database connections that have outlived ``CONN_MAX_AGE``, as Django
    does at the end of each request it handles (a thread may serve nothing but kept pages)."""
    for db in connections.all(initialized_only=True):
        if db.connection is not None and db.close_at is not None and time.monotonic() >= db.close_at:
            db.close()


class KeptPagesFirst:
    """The WSGI application (casualty_tracker/wsgi.py): Django's, with a reader's page that this
    process keeps in its memory sent before Django's handling of the request starts.

    On a crisis day most requests are readers asking for pages this process has just served. A
    hit through Django's handler cost more than the rest of it: the request's signals (which
    check every database connection, empty the query log, close the caches' connections), the
    middleware chain, the response's headers set one by one. Here a hit is the version query,
    the key, and the stored page with the headers ``PublicCacheMiddleware`` gives a hit (the
    same functions), and a request id. Anything else goes to Django, which answers as before:
    a page not kept here (Redis, a render), a kept 404 (Django logs it), a staff member, the
    admin, a HEAD, a conditional request (the middleware answers 304 and 412), a static file, an
    unknown host, a database that fails. The database connection used here is the thread's own,
    as in a request, closed here once older than ``CONN_MAX_AGE``; a connection that failed is
    made anew by the Django request that follows.
    """

    def __init__(self, django_application):
        self.django_application = django_application
        self.memory = pages_kept_in_this_process()
        # A hit's status and headers, by key and encoding: the same for every hit of a page kept
        # (the request id aside), and building them took a third of a hit's time.
        self.heads = Remembered(size=1024)

    def __call__(self, environ, start_response):
        answer = self._kept_page(environ)
        if answer is None:
            return self.django_application(environ, start_response)
        status, headers, content = answer
        start_response(status, headers)
        return [content]

    def _kept_page(self, environ):
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or not CONDITIONS.isdisjoint(environ)  # the middleware answers 304 and 412
            or self.memory.size == 0  # nothing kept (yet, or ever: no cache)
        ):
            return None
        # The path, host and scheme as Django reads them, from a copy: a request rewrites the
        # environ's path (decoded), and Django must read the one the server gave.
        request = WSGIRequest(dict(environ))
        if request.path.startswith(settings.STATIC_URL) or not from_a_reader(request):
            return None
        token = replicas.replica_for_reads.set(replicas.pick_replica())
        try:
            address = address_of(request)
        except Exception:  # noqa: BLE001 (Django handles the request, and logs or answers what failed)
            return None  # a database that failed (Django connects anew), an unknown host (its 400)
        finally:
            replicas.replica_for_reads.reset(token)
            _close_if_too_old()
        stored = self.memory.get(address.key)
        if stored is None or stored[0] != 200:  # Django logs what it answers with an error
            return None
        # By the validators too: one incident's page is kept under its own revisions, and its
        # Last-Modified (the time of the last change anywhere) moves without them.
        status, headers = self.heads.get(
            (address.key, address.takes_gzip, address.validators["last_modified"]),
            lambda: self._head(stored, address),
        )
        content, _ = _content(stored, address.takes_gzip)
        return status, [*headers, ("X-Request-ID", request_id(environ))], content

    @staticmethod
    def _head(stored, address):
        """The status line and headers of a hit of ``stored`` (a page kept), as the page cache's
        middleware gives them."""
        response = PublicCacheMiddleware._stored(stored, address.takes_gzip)
        response = PublicCacheMiddleware._public(response, address.validators, "hit")
        return f"{response.status_code} {response.reason_phrase}", tuple(response.items())
