import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from casualty_tracker.env import env_bool, env_list


@pytest.mark.parametrize(
    "raw, expected", [("1", True), ("true", True), ("0", False), ("False", False), ("", False)]
)
def test_debug_flag_accepts_plain_booleans(raw, expected):
    assert env_bool("DJANGO_DEBUG", environ={"DJANGO_DEBUG": raw}) is expected


@pytest.mark.parametrize("raw", ["ture", "2", "enabled"])
def test_a_misspelt_debug_flag_is_an_error_not_false(raw):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", environ={"DJANGO_DEBUG": raw})


def test_allowed_hosts_are_split_on_commas():
    assert env_list("H", environ={"H": "a.org, b.org,"}) == ["a.org", "b.org"]


def _import_settings(show="s.DEBUG", **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", f"import casualty_tracker.settings as s; print({show})"],
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_settings_refuse_to_start_without_a_secret_key_in_production():
    result = _import_settings(DJANGO_DEBUG="0")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_settings_refuse_a_bad_debug_value():
    result = _import_settings(DJANGO_DEBUG="maybe", DJANGO_SECRET_KEY="x" * 50)
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is not a boolean" in result.stderr


def test_settings_start_in_debug_without_a_key():
    result = _import_settings(DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_an_empty_database_url_means_the_default_sqlite_file():
    result = _import_settings(
        show="s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME']",
        DJANGO_DEBUG="1",
        DATABASE_URL=" ",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        str(Path(settings.BASE_DIR) / "db.sqlite3"),
    ]


@pytest.mark.django_db
def test_home_page_shows_the_site_name(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Casualty Tracker" in response.content.decode()


@pytest.mark.django_db
def test_every_page_links_to_the_methodology_in_its_footer(client):
    html = client.get("/").content.decode()
    footer = html[html.index("<footer") :]
    assert 'href="/methodology/"' in footer


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_healthz_answers_503_without_details_when_the_database_is_down(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused to 10.0.0.5 user=secret")

    monkeypatch.setattr("casualty_tracker.views.connection.cursor", broken_cursor)
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert b"secret" not in response.content and b"10.0.0.5" not in response.content


@pytest.mark.django_db
def test_admin_login_page_answers(client):
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.django_db
def test_static_css_is_served_by_whitenoise(client, settings):
    html = client.get("/").content.decode()
    assert "/static/css/site" in html


@pytest.mark.django_db
def test_every_page_has_a_favicon_and_favicon_ico_finds_it(client):
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon' in html
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and "/static/favicon" in response["Location"]
