"""Two app servers sharing one Redis cache and one database, as in production.

Two gunicorn processes serve the same database with DJANGO_CACHE_URL pointing at a real Redis:
a PostgreSQL database of their own when the tests run on PostgreSQL, else a SQLite file.
A page one server cached is served by the other from the cache, and an edit made through one
server's admin shows on the other on the very next request.
"""

import http.cookiejar
import os
import re
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.db import connection

from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parent.parent
# The name readers use: the reverse proxy in front passes it on to whichever server answers, so
# every server caches the page under the same address.
PUBLIC_HOST = "casualties.example.org"


class FormFields(HTMLParser):
    """The values a browser would submit for a page's form, as it stands."""

    def __init__(self):
        super().__init__()
        self.fields, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields[name] = attrs.get("value", "on" if attrs.get("type") == "checkbox" else "")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_fields(html):
    parser = FormFields()
    parser.feed(html)
    return parser.fields


class AppServer:
    def __init__(self, env, name):
        self.name = name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "casualty_tracker.wsgi:application",
             "--bind", "127.0.0.1:0", "--workers", "1", "--log-level", "info"],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.url = None
        # gunicorn logs the port it listens on, then that its worker booted: read until both.
        for line in self.process.stderr:
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found.group(1)
            if "Booting worker" in line and self.url:
                break
        assert self.url, f"{name} did not start"
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.jar = jar

    def get(self, path):
        request = urllib.request.Request(self.url + path, headers={"Host": PUBLIC_HOST})  # noqa: S310 (127.0.0.1)
        with self.opener.open(request) as response:  # noqa: S310
            return response.headers, response.read().decode()

    def post(self, path, fields):
        data = urllib.parse.urlencode(fields).encode()
        url = self.url + path
        request = urllib.request.Request(url, data=data, headers={"Referer": url})  # noqa: S310 (127.0.0.1)
        with self.opener.open(request) as response:  # noqa: S310
            return response.geturl(), response.read().decode()

    def csrf_token(self):
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stderr.close()


class SharedDatabase:
    """A database both servers use, made for the test and dropped after it: PostgreSQL when the
    tests run on PostgreSQL (a database beside the test database, on the same server), else a
    SQLite file."""

    def __init__(self, tmp_path):
        self.postgres = connection.vendor == "postgresql"
        if self.postgres:
            import psycopg2

            settings = connection.settings_dict
            self.name = f"ct_shared_cache_{uuid.uuid4().hex[:8]}"
            self.server = {
                "host": settings["HOST"] or "127.0.0.1",
                "port": settings["PORT"] or 5432,
                "user": settings["USER"],
                "password": settings["PASSWORD"],
            }
            admin = psycopg2.connect(dbname="postgres", **self.server)
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{self.name}"')
            admin.close()
            password = (
                f":{urllib.parse.quote(self.server['password'], safe='')}" if self.server["password"] else ""
            )
            self.url = f"postgres://{self.server['user']}{password}@{self.server['host']}:{self.server['port']}/{self.name}"
        else:
            self.path = tmp_path / "shared.sqlite3"
            self.url = f"sqlite:///{self.path}"

    def row(self, sql):
        if not self.postgres:
            with sqlite3.connect(self.path) as db:
                return db.execute(sql).fetchone()
        import psycopg2

        db = psycopg2.connect(dbname=self.name, **self.server)
        try:
            with db.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()
        finally:
            db.close()

    def drop(self):
        if self.postgres:
            import psycopg2

            admin = psycopg2.connect(dbname="postgres", **self.server)
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            admin.close()


@pytest.fixture
def two_app_servers(tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    database = SharedDatabase(tmp_path)
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "DJANGO_DEBUG": "1",  # for the demo logins; the cache works the same
        "DJANGO_CACHE_URL": REDIS_URL,
        "DJANGO_ALLOWED_HOSTS": f"127.0.0.1,{PUBLIC_HOST}",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
    }
    manage = [sys.executable, "manage.py"]
    servers = []
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [*manage, "load_demo", "--demo-users"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        servers = [AppServer(env, "server one"), AppServer(env, "server two")]
        yield servers, database
    finally:
        for server in servers:
            server.stop()
        database.drop()


def homs_report(database):
    return database.row(
        "SELECT r.id, i.slug, r.killed FROM incidents_tollreport r "
        "JOIN incidents_incident i ON i.id = r.incident_id "
        "JOIN incidents_source s ON s.id = r.source_id "
        "WHERE i.title LIKE '%Homs%' AND s.short_name = 'MoH' AND r.is_current"
    )


def test_an_edit_through_one_server_shows_on_the_other_at_once(two_app_servers):
    (one, two), database = two_app_servers
    report_id, slug, killed = homs_report(database)
    page = f"/incidents/{slug}/"
    headers, text = one.get(page)
    assert headers["X-Cache"] == "miss" and f"at least {killed}" in text
    headers, cached = two.get(page)
    assert headers["X-Cache"] == "hit", "the second server did not find the first one's page in Redis"
    assert cached == text

    one.get("/admin/login/")
    landed, _ = one.post(
        "/admin/login/?next=/admin/",
        {
            "username": "editor",
            "password": "editor",
            "csrfmiddlewaretoken": one.csrf_token(),
            "next": "/admin/",
        },
    )
    assert landed.endswith("/admin/")
    change = f"/admin/incidents/tollreport/{report_id}/change/"
    _, form = one.get(change)
    fields = form_fields(form)
    assert fields["killed"] == str(killed)
    fields["killed"] = str(killed + 7)
    landed, _ = one.post(change, {**fields, "_save": "Save"})
    assert landed.endswith("/admin/incidents/tollreport/"), "the admin did not accept the change"

    headers, text = two.get(page)
    assert headers["X-Cache"] == "miss"
    assert f"at least {killed + 7}" in text


def test_the_shared_cache_keeps_one_client_that_threads_share_safely():
    from concurrent.futures import ThreadPoolExecutor

    from casualty_tracker.redis_cache import SharedRedisCache

    cache = SharedRedisCache(REDIS_URL, {"KEY_PREFIX": f"clients-{uuid.uuid4().hex}"})
    assert cache._cache.get_client() is cache._cache.get_client(write=True)  # one server: one pool

    def round_trip(n):
        page = (200, {"Content-Type": "text/html"}, f"page {n}".encode() * 1000)
        cache.set(f"page:{n}", page, timeout=30)
        return cache.get_many([f"page:{n}", f"missing:{n}"]) == {f"page:{n}": page}

    with ThreadPoolExecutor(max_workers=8) as threads:
        assert all(threads.map(round_trip, range(200)))
    cache.delete_many([f"page:{n}" for n in range(200)])
