"""Defences: production settings, CSP, escaping, fuzzed inputs, access rules, CSRF, logs."""

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from casualty_tracker.logging import JsonFormatter, RequestIdFilter
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_user,
)

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


def test_production_settings_pass_check_deploy_with_no_warnings():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="example.org"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_carry_a_content_security_policy_without_inline_scripts(client):
    make_homs()
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_or_a_third_party_origin():
    for template in (BASE_DIR / "templates").rglob("*.html"):
        html = template.read_text()
        assert "<script" not in html, template
        # Nothing is loaded from another origin (a plain link to another site is fine).
        assert not re.search(r'src="https?://|<link[^>]*href="https?://', html), template


def test_robots_txt_keeps_the_admin_and_exports_out_of_search_engines(client):
    body = client.get("/robots.txt").content.decode()
    assert "Disallow: /admin/" in body and "Disallow: /export/" in body
    assert client.get("/admin/login/")["X-Robots-Tag"] == "noindex, nofollow"


class TestEscaping:
    @pytest.fixture
    def hostile(self, db):
        place = make_location(XSS, kind="admin1", name_ar=XSS)
        incident = make_incident(XSS, location=place, place=XSS, summary=XSS)
        source = make_source(XSS, short_name=XSS[:40], affiliation=XSS, website="javascript:alert(1)")
        make_attribution(incident, make_actor(XSS), source, quote=XSS)
        make_attribution(incident, make_actor(XSS + " 2"), source, stance="claimed")
        make_report(incident, source, killed=3, quote=XSS, note=XSS, url="javascript:alert(2)")
        return incident, source, place

    def test_stored_scripts_show_as_text_on_every_public_page(self, client, hostile):
        incident, source, place = hostile
        actor = incident.perpetrators.get()
        for url in ["/", "/incidents/", "/map/", incident.get_absolute_url(), place.get_absolute_url(),
                    source.get_absolute_url(), actor.get_absolute_url(), "/incidents/feed/"]:  # fmt: skip
            html = client.get(url).content.decode()
            assert "<script>alert" not in html and "<img src=x" not in html, url
            assert 'href="javascript:' not in html, url

    def test_stored_scripts_show_as_text_in_the_admin(self, editor_client, hostile):
        incident, source, place = hostile
        for url in [
            "/admin/incidents/incident/",
            f"/admin/incidents/incident/{incident.pk}/change/",
            f"/admin/incidents/incident/{incident.pk}/history/",
            "/admin/incidents/tollreport/",
            "/admin/incidents/source/",
            "/admin/incidents/location/",
            "/admin/incidents/actor/",
        ]:
            html = editor_client.get(url).content.decode()
            assert "<script>alert" not in html and "<img src=x" not in html, url


FILTERS = ["q", "date_after", "date_before", "location", "kind", "perpetrator", "source", "disputed",
           "min_killed", "sort", "page", "status", "hxl", "by"]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "'; DROP TABLE incidents_incident; --",
            "<b>x</b>",
            "%00",
            "\x00",
            "إدلب",
            "1e309",
            str(2**70),
            "-1",
            "2023-02-30",
            "9999-12-31",
            "../../etc/passwd",
            "%",
            "_",
        ]
    ),  # fmt: skip
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.dictionaries(st.sampled_from(FILTERS), hostile_text, max_size=4))
def test_fuzzed_filters_never_give_a_500(editor_client, params):
    for url in [
        "/incidents/",
        "/map/",
        "/export/incidents.csv",
        "/export/reports.csv",
        "/export/summary.csv",
        "/export/victims.csv",
    ]:
        response = editor_client.get(url, params)
        assert response.status_code in (200, 400), (url, params, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "param", ["location", "perpetrator", "source", "q", "kind", "date_after", "min_killed"]
)
def test_a_nul_character_in_a_filter_is_a_message_not_a_500(client, param):
    # Found by the fuzzer on PostgreSQL, which refuses NUL characters in queries.
    response = client.get("/incidents/", {param: "a\x00b"})
    assert response.status_code == 200
    assert "Some filters could not be read" in response.content.decode()


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(q=hostile_text)
def test_fuzzed_admin_searches_never_give_a_500(editor_client, q):
    for model in ["incident", "tollreport", "location", "source", "actor"]:
        assert editor_client.get(f"/admin/incidents/{model}/", {"q": q}).status_code == 200


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.fixed_dictionaries(
        dict.fromkeys(
            ["title", "start_date", "end_date", "killed", "killed_upper", "civilians", "url"], hostile_text
        )
    )
)
def test_fuzzed_admin_entry_never_gives_a_500(analyst_client, values):
    place = make_location()
    source = make_source()
    data = {
        "title": values["title"], "kind": "other", "start_date": values["start_date"],
        "end_date": values["end_date"], "date_precision": "day", "location": place.pk,
        "location_precision": "exact", "reports-TOTAL_FORMS": "1", "reports-INITIAL_FORMS": "0",
        "reports-MIN_NUM_FORMS": "0", "reports-MAX_NUM_FORMS": "1000", "reports-0-source": source.pk,
        "reports-0-published_on": "2023-10-06", "reports-0-killed_qualifier": "between",
        "reports-0-killed": values["killed"], "reports-0-killed_upper": values["killed_upper"],
        "reports-0-injured_qualifier": "unknown", "reports-0-civilians": values["civilians"],
        "reports-0-url": values["url"],
    }  # fmt: skip
    response = analyst_client.post("/admin/incidents/incident/add/", data)
    assert response.status_code in (200, 302)


# --- The admin's changelists, fuzzed as the public filters are (issue 15) --------------------------

ADMIN_CHANGELISTS = ["incident", "tollreport", "source", "location", "actor"]
odd_values = st.one_of(
    hostile_text,
    st.sampled_from(["", " ", "1.5", "0x1", "1e3", "١", str(2**63), str(-(2**63) - 1), "9999", "10000", "0",
                     "12", "31", "1,2", "a\x00", "true", "False", "None", "-"]),
)  # fmt: skip


@pytest.fixture
def admin_fuzz(client, analyst, editor):
    """Records to list, the users who fuzz, and each changelist's query parameters as the page reads them."""
    homs = make_homs()
    make_report(homs, make_source("Local council"), killed=3, qualifier="between", killed_upper=9)
    make_incident("A draft", status="draft")
    superuser = make_user("root", superuser=True)
    client.force_login(superuser)
    parameters = {}
    for model in ADMIN_CHANGELISTS:
        changelist = client.get(f"/admin/incidents/{model}/").context["cl"]
        names = {name for spec in changelist.filter_specs for name in spec.expected_parameters()}
        if changelist.date_hierarchy:
            names |= {f"{changelist.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        parameters[model] = sorted(names | {"q", "o", "p", "all", "e", "_facets"})
    return {"users": {"superuser": superuser, "analyst": analyst}, "parameters": parameters}


@pytest.mark.parametrize("model", ADMIN_CHANGELISTS)
@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_admin_changelists_and_actions_never_give_a_500(client, admin_fuzz, model, data):
    url = f"/admin/incidents/{model}/"
    client.force_login(admin_fuzz["users"][data.draw(st.sampled_from(["superuser", "analyst"]))])
    names = admin_fuzz["parameters"][model]
    params = data.draw(st.dictionaries(st.sampled_from(names), odd_values, max_size=4), label="params")
    response = client.get(url, params)
    assert response.status_code < 500, (params, response.status_code)
    if response.status_code == 302:  # Django's "bad lookup" redirect (?e=1)
        assert client.get(response["Location"]).status_code < 500
    actions = ["delete_selected", "publish_selected", "unpublish_selected", "export_incidents_csv",
               "export_reports_csv", "", "nonsense"]  # fmt: skip
    post = {
        "action": data.draw(st.sampled_from(actions), label="action"),
        "_selected_action": data.draw(st.lists(odd_values, max_size=3), label="_selected_action"),
        **data.draw(st.dictionaries(st.sampled_from(["index", "select_across"]), odd_values), label="form"),
    }
    response = client.post(url, post)
    assert response.status_code < 500, (post, response.status_code)
    if response.streaming:
        b"".join(response.streaming_content)


# --- Every URL has an access rule ----------------------------------------------------------------

PUBLIC = {"home", "incident_list", "incident_map", "incident_feed", "incident_detail", "location_detail",
          "source_detail", "actor_detail", "methodology", "healthz", "robots_txt", "open_data",
          "open_data_incidents", "open_data_reports", "open_data_victims", "open_data_package"}  # fmt: skip
# The read-only API: open to everyone (published data only; tests/test_api.py checks what it shows).
API = {
    "root",
    "incidents",
    "geojson",
    "incident",
    "reports",
    "locations",
    "sources",
    "actors",
    "schema",
    "docs",
}
EXPORTS = {"export_incidents", "export_reports", "export_summary", "export_victims"}
SAMPLE_ARGS = {"slug": "homs-military-academy-drone-strike-2023-10-05", "object_id": "1", "history_id": "1",
               "kind": "incident", "app_label": "incidents", "content_type_id": "1", "uidb64": "MQ",
               "token": "x-y", "version_id": "1", "url": "x"}  # fmt: skip


def all_url_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from all_url_patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


SAMPLE_SLUGS = {"location_detail": "syria", "source_detail": "sohr", "actor_detail": "syrian-forces"}


def sample_path(route, name):
    args = {**SAMPLE_ARGS, "slug": SAMPLE_SLUGS.get(name, SAMPLE_ARGS["slug"])}
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: args.get(m.group(1), "1"), route)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")
    return "/" + path


def test_every_url_has_an_access_rule_and_keeps_it(client):
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    for route, pattern in all_url_patterns():
        name = pattern.name
        path = sample_path(route, name)
        response = client.get(path)
        if name in PUBLIC:
            assert response.status_code == 200, (route, response.status_code)
        elif name in EXPORTS:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], route
        elif route.startswith("api/") and name in API:
            assert response.status_code == 200, (route, response.status_code)
        elif name == "incident_version":  # public; a stamp that names no moment is not found
            assert response.status_code == 404, (route, response.status_code)
        elif name == "favicon":  # public: sends everyone to the static icon
            assert response.status_code == 301 and "/static/favicon" in response["Location"], route
        elif name == "set_language":
            # The admin's language switch, open to all: a GET changes nothing (no cookie), only a
            # POST with a CSRF token does.
            assert response.status_code in (204, 302), (route, response.status_code)
            assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
        elif route.startswith("admin/"):
            # The admin: anonymous users are sent to log in (or, for a few public admin pages, see them).
            allowed_public = {"login", "logout", "password_reset", "jsi18n", "view_on_site"}
            if name in allowed_public or "password_reset" in (name or ""):
                continue
            assert response.status_code in (302, 404), (route, response.status_code)
            if response.status_code == 302:
                assert "/admin/login/" in response["Location"], route
        else:
            pytest.fail(f"URL {route} ({name}) has no access rule in this test: add one.")


# --- CSRF -----------------------------------------------------------------------------------------


def test_no_post_form_misses_its_csrf_token():
    for template in (BASE_DIR / "templates").rglob("*.html"):
        html = template.read_text()
        for form in re.findall(r"<form[^>]*method=\"post\"[^>]*>.*?</form>", html, flags=re.S | re.I):
            assert "{% csrf_token %}" in form, template


@pytest.mark.parametrize(
    "url", ["/admin/login/", "/admin/incidents/incident/add/", "/admin/incidents/incident/"]
)
def test_posts_without_a_csrf_token_are_refused(analyst, url):
    client = Client(enforce_csrf_checks=True)
    if url != "/admin/login/":
        client.force_login(analyst)
    response = client.post(url, {"title": "forged", "username": "ana", "password": "x"})
    assert response.status_code == 403


def test_restoring_without_a_csrf_token_is_refused(editor):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post("/admin/incidents/incident/deleted/restore/incident/1/").status_code == 403


# --- Logs -----------------------------------------------------------------------------------------


def test_errors_are_logged_as_json_lines_with_the_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/incidents/no-such-incident/", HTTP_X_REQUEST_ID="req-42")
    finally:
        logger.removeHandler(handler)
    assert response["X-Request-ID"] == "req-42"
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request_id"] == "req-42" and line["path"] == "/incidents/no-such-incident/"
    assert line["status"] == 404 and line["level"] == "WARNING"


def test_a_forged_request_id_is_replaced(client):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="evil\nfake log line")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_healthz_does_not_leak_details(client):
    response = client.get("/healthz/")
    assert response.content == b"ok" and response["Cache-Control"].startswith("max-age=0")
