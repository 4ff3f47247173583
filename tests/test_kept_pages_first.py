"""A reader's page this server process keeps is sent before Django handles the request
(casualty_tracker.public_cache.KeptPagesFirst, the WSGI application of casualty_tracker/wsgi.py),
with the answer the page cache gives through Django, and never after the data has changed.

Asked here as gunicorn asks: the WSGI application called with the request's environ."""

import datetime
import io
import time
from urllib.parse import unquote_to_bytes

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, close_old_connections, connections
from django.db.models import F
from django.utils.http import http_date

from casualty_tracker import public_cache
from incidents import dataversion
from incidents.models import DataVersion
from tests.factories import make_incident, make_report, make_source


@pytest.fixture
def strike(db):
    incident = make_incident("Strike on the academy")
    make_report(incident, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    return incident


@pytest.fixture
def application():
    """As wsgi.py builds it. As Django's test client does, the request's signals leave the
    database connection open: it holds the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield public_cache.KeptPagesFirst(WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class Answer:
    def __init__(self, application, environ):
        self.handled_by_django = False

        def started(**kwargs):
            self.handled_by_django = True

        request_started.connect(started)
        try:
            body = application(environ, self.start_response)
            self.content = b"".join(body)
            getattr(body, "close", lambda: None)()
        finally:
            request_started.disconnect(started)

    def start_response(self, status, headers, exc_info=None):
        self.status = status
        self.headers = dict(headers)

    @property
    def text(self):
        return self.content.decode()


def ask(application, url, method="get", **headers):
    """``application``'s answer to ``url`` as a WSGI server asks: the path as bytes read as
    latin-1, the headers as ``HTTP_…`` keys (no request is built from the environ first)."""
    path, _, query = url.partition("?")
    environ = {
        "REQUEST_METHOD": method.upper(),
        "PATH_INFO": unquote_to_bytes(path).decode("iso-8859-1"),
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    environ.update({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
    return Answer(application, environ)


GZIP = {"Accept-Encoding": "gzip, deflate, br"}


@pytest.mark.parametrize("headers", [{}, GZIP], ids=["plain", "gzip"])
def test_a_page_kept_here_is_sent_without_django_and_as_django_sends_it(application, strike, headers):
    url = f"/incidents/{strike.slug}/"
    rendered = ask(application, url, **headers)
    assert rendered.handled_by_django and rendered.headers["X-Cache"] == "miss"
    by_django = public_cache.PageMemory.clear_everywhere() or ask(application, url, **headers)
    assert by_django.handled_by_django and by_django.headers["X-Cache"] == "hit"  # from Redis or locmem
    kept = ask(application, url, **headers)
    assert not kept.handled_by_django
    assert (kept.status, kept.content) == (by_django.status, by_django.content)
    assert kept.headers.pop("X-Request-ID") != by_django.headers.pop("X-Request-ID")
    assert kept.headers == by_django.headers  # security headers, validators, Vary, X-Cache: hit
    if headers:
        assert kept.headers["Content-Encoding"] == "gzip"


def test_a_revised_figure_is_sent_on_the_very_next_request(application, strike):
    url = f"/incidents/{strike.slug}/"
    assert "at least 89" in ask(application, url).text
    assert not ask(application, url).handled_by_django
    report = strike.reports.get()
    report.killed = 91
    report.save()
    revised = ask(application, url)
    assert revised.handled_by_django and revised.headers["X-Cache"] == "miss"
    assert "at least 91" in revised.text


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("get", {"Cookie": "sessionid=abc"}),  # staff, or someone who was
        ("get", {"Authorization": "Token abc"}),
        ("head", {}),
        ("post", {}),
    ],
    ids=["session cookie", "authorization", "head", "post"],
)
def test_who_is_not_a_plain_reader_is_answered_by_django(application, strike, method, headers):
    url = f"/incidents/{strike.slug}/"
    ask(application, url)
    assert ask(application, url, method=method, **headers).handled_by_django


def test_a_conditional_request_gets_its_304_from_django(application, strike):
    url = f"/incidents/{strike.slug}/"
    tag = ask(application, url).headers["ETag"]
    again = ask(application, url, **{"If-None-Match": tag})
    assert again.handled_by_django and again.status.startswith("304")


def test_an_unknown_host_gets_django_s_400(application, strike):
    url = f"/incidents/{strike.slug}/"
    ask(application, url)
    refused = ask(application, url, Host="attacker.example")
    assert refused.handled_by_django and refused.status.startswith("400")


def test_a_database_that_fails_here_leaves_the_request_to_django(application, strike, monkeypatch):
    """A connection the database has closed (a restart) fails the version query here: Django's
    handling of the request then makes a new one and answers."""
    url = f"/incidents/{strike.slug}/"
    ask(application, url)
    read = dataversion.current
    failures = []

    def fails_once(*args, **kwargs):
        if not failures:
            failures.append(True)
            raise DatabaseError("server closed the connection unexpectedly")
        return read(*args, **kwargs)

    monkeypatch.setattr(dataversion, "current", fails_once)
    answer = ask(application, url)
    assert failures and answer.handled_by_django
    assert answer.status.startswith("200") and "at least 89" in answer.text


@pytest.mark.parametrize("path", ["/ar/%D8%AD%D9%84%D8%A8/", "/caf%C3%A9/"], ids=["arabic", "accented"])
def test_an_address_in_other_letters_reaches_django_as_the_server_gave_it(application, strike, path):
    """A page kept, then an address of non-ASCII letters that is not kept: Django must read the
    path the server gave (a request built here rewrites it), and answer its own 404."""
    ask(application, f"/incidents/{strike.slug}/")
    answer = ask(application, path)
    assert answer.handled_by_django and answer.status.startswith("404")
    assert "X-Request-ID" in answer.headers


def test_a_kept_incident_page_says_when_the_data_last_changed(application, strike):
    """One incident's page is kept while other incidents change; its Last-Modified (the time of
    the last change anywhere) moves all the same, as through Django."""
    url = f"/incidents/{strike.slug}/"
    ask(application, url)
    first = ask(application, url)
    assert not first.handled_by_django
    # Another incident, in the same place, from the same source (nothing the strike's page
    # shows moves), published a minute later (HTTP dates count whole seconds).
    other = make_incident("Shelling of the market", location=strike.location)
    make_report(other, source=strike.reports.get().source, killed=4)
    DataVersion.objects.update(changed_at=F("changed_at") + datetime.timedelta(minutes=1))
    kept = ask(application, url)
    assert not kept.handled_by_django and kept.headers["ETag"] == first.headers["ETag"]
    assert kept.headers["Last-Modified"] == http_date(dataversion.current().changed_at.timestamp())
    assert kept.headers["Last-Modified"] != first.headers["Last-Modified"]


def test_a_precondition_that_fails_gets_django_s_412(application, strike):
    url = f"/incidents/{strike.slug}/"
    ask(application, url)
    refused = ask(application, url, **{"If-Match": '"another"'})
    assert refused.handled_by_django and refused.status.startswith("412")


def test_a_kept_404_is_answered_and_logged_by_django(application, db, caplog):
    ask(application, "/incidents/no-such-incident/")
    again = ask(application, "/incidents/no-such-incident/")
    assert again.handled_by_django and again.status.startswith("404")
    assert again.headers["X-Cache"] == "hit"  # from the page cache, through Django
    assert any("Not Found" in record.getMessage() for record in caplog.records)


def test_a_connection_older_than_its_maximum_age_is_closed_after_a_kept_page(
    application, strike, monkeypatch
):
    """As Django closes it at the end of a request it handles: a thread may serve nothing but
    kept pages."""
    url = f"/incidents/{strike.slug}/"
    ask(application, url)
    closed = []
    db = connections["default"]
    monkeypatch.setattr(db, "close", lambda: closed.append(True))  # it holds the test's data
    monkeypatch.setattr(db, "close_at", time.monotonic() + 60)
    assert not ask(application, url).handled_by_django and not closed
    monkeypatch.setattr(db, "close_at", time.monotonic() - 1)
    assert not ask(application, url).handled_by_django and closed
