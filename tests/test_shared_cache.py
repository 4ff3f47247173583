"""Two app servers sharing one Redis cache and one database, as in production.

Two gunicorn processes serve the same database with DJANGO_CACHE_URL pointing at a real Redis.
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
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parent.parent


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
        with self.opener.open(self.url + path) as response:
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


@pytest.fixture
def two_app_servers(tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    database = tmp_path / "shared.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "1",  # for the demo logins; the cache works the same
        "DJANGO_CACHE_URL": REDIS_URL,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "load_demo", "--demo-users"], cwd=ROOT, env=env, check=True, capture_output=True)
    servers = [AppServer(env, "server one"), AppServer(env, "server two")]
    yield servers, database
    for server in servers:
        server.stop()


def homs_report(database):
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT r.id, i.slug, r.killed FROM incidents_tollreport r "
            "JOIN incidents_incident i ON i.id = r.incident_id "
            "JOIN incidents_source s ON s.id = r.source_id "
            "WHERE i.title LIKE '%Homs%' AND s.short_name = 'MoH' AND r.is_current"
        ).fetchone()


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
