"""The public cache: pages come from the cache until the data changes, and never after."""

import datetime
import io
import logging
import threading

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from casualty_tracker import public_cache
from incidents import dataversion
from incidents.filters import RENDERED_MENUS
from incidents.models import DataVersion, Incident, Source, TollReport
from tests.factories import make_incident, make_location, make_report, make_source


@pytest.fixture
def strike(db):
    incident = make_incident("Strike on the academy")
    make_report(incident, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    return incident


def page(client, url, **headers):
    response = client.get(url, headers=headers)
    return response, response.content.decode()


def test_a_second_reader_gets_the_page_from_the_cache(client, strike):
    url = f"/incidents/{strike.slug}/"
    first, text = page(client, url)
    assert first["X-Cache"] == "miss" and "at least 89" in text
    with CaptureQueriesContext(connection) as captured:
        second, again = page(client, url)
    assert second["X-Cache"] == "hit"
    assert again == text
    # The data version only: nothing of the page is read again.
    assert len(captured) == 1


def test_a_server_sends_a_page_it_kept_itself_and_never_an_older_one(client, strike):
    """Each server keeps the pages it served lately in its own memory, in front of the shared
    cache, under the same data version: with the shared cache emptied the page still comes
    without a render, and after a change the page kept in memory is never sent again."""
    url = f"/incidents/{strike.slug}/"
    assert page(client, url)[0]["X-Cache"] == "miss"
    cache.clear()
    kept, text = page(client, url)
    assert kept["X-Cache"] == "hit" and "at least 89" in text
    report = strike.reports.get()
    report.killed = 91
    report.save()
    changed, text = page(client, url)
    assert changed["X-Cache"] == "miss"
    assert "at least 91" in text


def test_a_version_number_reached_again_at_another_moment_is_another_page(client, strike):
    """A database restored from a backup counts its versions again from the backup's: the same
    number, reached by other changes, must not find the pages kept under it before. (One
    incident's page is kept under its revision, a time: incidents/revisions.py.)"""
    url = "/incidents/"
    assert page(client, url)[0]["X-Cache"] == "miss"
    version, changed_at, *_ = dataversion.current()
    DataVersion.objects.update(changed_at=changed_at + datetime.timedelta(seconds=1))
    assert dataversion.current().changes == version
    assert page(client, url)[0]["X-Cache"] == "miss"


def test_a_server_keeps_the_pages_read_last_within_its_limit():
    page_size = public_cache.PageMemory.OVERHEAD + 52  # what a 52-byte page counts for
    memory = public_cache.PageMemory(limit=8 * page_size)  # eight such pages, the biggest kept
    page = (200, {}, b"x" * 52)
    for key in "01234567":
        memory.keep(key, page)
    assert all(memory.get(key) for key in "01234567")
    memory.get("0")  # read: now the last to go
    memory.keep("8", page)
    assert memory.get("1") is None  # the oldest went, to stay within the limit
    assert memory.get("0") == page and memory.get("8") == page and memory.size <= memory.limit
    memory.keep("too big", (200, {}, b"x" * 53))  # more than an eighth of the limit
    assert memory.get("too big") is None and memory.get("2") == page


def test_a_server_that_caches_nothing_keeps_no_page_either(client, strike, settings, monkeypatch):
    """``DJANGO_CACHE_URL=dummy://`` (the benchmark's servers): every request is rendered, and
    nothing is compressed for a store that keeps nothing."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    monkeypatch.setattr(public_cache.gzip, "compress", lambda *a, **k: pytest.fail("compressed"))
    url = f"/incidents/{strike.slug}/"
    assert [page(client, url)[0]["X-Cache"] for _ in range(2)] == ["miss", "miss"]
    answer = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert answer["X-Cache"] == "miss" and not answer.has_header("Content-Encoding")


@pytest.mark.parametrize(
    ("change", "now_shown"),
    [
        ("report figure", "at least 91"),
        ("new report", "more than 120"),
        ("report deleted", None),
        ("source renamed", "Syrian Ministry of Health"),
        ("raw SQL", "Academy strike"),
    ],
)
def test_every_change_is_on_the_very_next_request(client, strike, change, now_shown):
    url = f"/incidents/{strike.slug}/"
    report = strike.reports.get()
    if change == "report deleted":
        make_report(strike, source=make_source("Observatory"), killed=120, qualifier="more_than")
    before = {address: page(client, address)[1] for address in (url, "/incidents/", "/")}
    if change == "report figure":
        report.killed = 91
        report.save()
    elif change == "new report":
        make_report(strike, source=make_source("Observatory"), killed=120, qualifier="more_than")
    elif change == "report deleted":
        TollReport.objects.filter(pk=report.pk).delete()
    elif change == "source renamed":
        Source.objects.filter(pk=report.source_id).update(name="Syrian Ministry of Health")
    elif change == "raw SQL":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_incident SET title = %s WHERE id = %s", ["Academy strike", strike.pk]
            )
    for address in before:
        assert page(client, address)[0]["X-Cache"] == "miss", address
    text = page(client, url)[1]
    assert text != before[url]
    if now_shown:
        assert now_shown in text
    else:  # the range no longer starts at the deleted figure
        assert "Between 89" not in text and "more than 120" in text


def test_an_unpublished_incident_leaves_every_page_at_once(client, strike):
    from incidents.workflow import unpublish_incident

    url = f"/incidents/{strike.slug}/"
    assert page(client, url)[0].status_code == 200
    assert "Strike on the academy" in page(client, "/incidents/")[1]
    unpublish_incident(incident=strike, user=None, via="tests")
    assert page(client, url)[0].status_code == 404
    assert "Strike on the academy" not in page(client, "/incidents/")[1]


def test_a_write_outside_a_transaction_moves_the_version_with_it(strike):
    before = dataversion.current().changes
    assert connection.get_autocommit() or connection.in_atomic_block
    Incident.objects.filter(pk=strike.pk).update(summary="Updated summary")
    after, changed_at, *_ = dataversion.current()
    assert after > before
    assert changed_at is not None


def test_writes_that_change_no_public_data_keep_the_version(client, strike, editor):
    before = dataversion.current().changes
    client.force_login(editor)  # a session row
    client.get("/admin/")
    assert dataversion.current().changes == before


def test_a_rolled_back_change_leaves_the_version(strike):
    before = dataversion.current().changes
    with pytest.raises(RuntimeError), transaction.atomic():
        Incident.objects.filter(pk=strike.pk).update(summary="Never committed")
        raise RuntimeError
    assert dataversion.current().changes == before


def test_a_repeated_request_gets_304_until_the_data_changes(client, strike):
    url = f"/incidents/{strike.slug}/"
    first = client.get(url)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    report = strike.reports.get()
    report.killed = 95
    report.save()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert "at least 95" in changed.content.decode()
    assert changed["ETag"] != etag
    # The time alone never gets a 304 (a change in the same second would keep the time as it
    # was): not even a time after every change.
    for since in (last_modified, "Fri, 01 Jan 2100 00:00:00 GMT"):
        answer = client.get(url, headers={"If-Modified-Since": since})
        assert answer.status_code == 200 and "at least 95" in answer.content.decode()


def test_every_url_and_language_has_its_own_validator(client, strike):
    one = client.get("/incidents/")["ETag"]
    other = client.get("/incidents/?sort=oldest")["ETag"]
    assert one != other


def test_anonymous_pages_may_be_kept_briefly_by_a_proxy_but_not_for_staff(client, strike, editor, settings):
    url = f"/incidents/{strike.slug}/"
    anonymous = client.get(url)
    assert "public" in anonymous["Cache-Control"]
    assert f"s-maxage={settings.PROXY_CACHE_SECONDS}" in anonymous["Cache-Control"]
    assert "Cookie" in anonymous["Vary"]
    client.force_login(editor)
    staff = client.get(url)
    assert "X-Cache" not in staff
    assert "no-store" in staff["Cache-Control"] and "private" in staff["Cache-Control"]
    export = client.get("/export/incidents.csv")
    assert export.status_code == 200
    assert "no-store" in export["Cache-Control"]


def test_staff_see_their_draft_change_live(client, strike, editor):
    url = f"/incidents/{strike.slug}/"
    page(client, url)
    client.force_login(editor)
    Incident.objects.filter(pk=strike.pk)  # nothing changed: staff still render afresh
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    assert len(captured) > 1


def test_a_page_that_sets_a_cookie_is_never_stored(client, strike):
    # The admin login page sets the CSRF cookie; it is live anyway, and nothing of it is stored.
    client.get("/admin/login/")
    response = client.get("/admin/login/")
    assert "X-Cache" not in response


def test_the_day_is_part_of_the_page_key(client, strike, monkeypatch):
    from django.utils import timezone

    url = f"/incidents/{strike.slug}/"
    assert client.get(url)["X-Cache"] == "miss"
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    assert client.get(url)["X-Cache"] == "miss"


def test_migrations_start_a_new_version(db):
    before = dataversion.current().changes
    call_command("migrate", verbosity=0)
    assert dataversion.current().changes > before


def test_a_name_hidden_again_leaves_the_cached_page_at_once(client, strike):
    from incidents.models import Victim
    from incidents.workflow import set_victims_public
    from tests.factories import make_victim

    url = f"/incidents/{strike.slug}/"
    victim = make_victim(strike, name="Rami Haddad", age=34, sex="male")
    assert "Rami Haddad" not in page(client, url)[1]
    set_victims_public(victims=Victim.objects.filter(pk=victim.pk), user=None, via="tests")
    assert "Rami Haddad" in page(client, url)[1]
    assert page(client, url)[0]["X-Cache"] == "hit"
    set_victims_public(victims=Victim.objects.filter(pk=victim.pk), user=None, public=False, via="tests")
    response, text = page(client, url)
    assert response["X-Cache"] == "miss"
    assert "Rami Haddad" not in text


@pytest.mark.postgres
def test_folding_ended_sessions_keeps_the_version_and_leaves_live_writers_alone(db):
    """Every PostgreSQL session that writes gets a row; the rows of ended sessions fold into one,
    and the version, under which pages are cached, does not move."""
    make_source("A write by this session")  # this session's own row
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    ended = [999_999_991, 999_999_992]  # above any process id: sessions that have ended
    moment = datetime.datetime(2023, 10, 6, 12, tzinfo=datetime.timezone.utc)
    DataVersion.objects.bulk_create([DataVersion(writer=w, changes=5, changed_at=moment) for w in ended])
    before = dataversion.current()

    call_command("fold_data_version", stdout=io.StringIO())

    assert dataversion.current() == before
    writers = set(DataVersion.objects.values_list("writer", flat=True))
    assert own in writers and not writers & set(ended)
    assert DataVersion.objects.get(writer=0).changes >= 10
    assert dataversion.fold_ended_writers() == 0  # nothing left to fold


def _anonymous_get(path):
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    return request


def _in_thread(call):
    """Run ``call`` in a thread of its own (closing its database connection); (thread, result box)."""
    result = []

    def run():
        try:
            result.append(call())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def _two_readers_at_once(monkeypatch, page, first_is_rendering, release):
    """A first reader asks for /methodology/ and is rendering ``page`` (``first_is_rendering()``
    says so) when a second asks for it too; once the second is waiting, ``release`` lets the
    first finish. The two responses, first then second."""
    second_waits = threading.Event()
    real_pause = public_cache._pause

    def pause(seconds):
        second_waits.set()
        real_pause(seconds)

    monkeypatch.setattr(public_cache, "_pause", pause)
    middleware = public_cache.PublicCacheMiddleware(page)
    first_thread, first = _in_thread(lambda: middleware(_anonymous_get("/methodology/")))
    while not first_is_rendering():
        first_thread.join(0.01)
    second_thread, second = _in_thread(lambda: middleware(_anonymous_get("/methodology/")))
    assert second_waits.wait(10), "the second reader did not wait for the first one's render"
    release.set()
    first_thread.join(10)
    second_thread.join(10)
    return first[0], second[0]


@pytest.mark.django_db(transaction=True)
def test_readers_missing_the_cache_at_once_wait_for_one_render(monkeypatch):
    """Two hundred readers arriving just after a revision get one render of each page: the
    others wait for it and are served what it stored, rather than each rendering it again."""
    renders, release = [], threading.Event()

    def slow_page(request):
        renders.append(request.path)
        assert release.wait(10), "the test never let the render finish"
        return HttpResponse("the page as rendered once")

    first, second = _two_readers_at_once(monkeypatch, slow_page, lambda: renders, release)
    assert renders == ["/methodology/"]
    assert (first["X-Cache"], second["X-Cache"]) == ("miss", "coalesced")
    assert first.content == second.content == b"the page as rendered once"


@pytest.mark.django_db(transaction=True)
def test_a_render_that_is_not_kept_lets_the_waiting_reader_render_it_itself(monkeypatch):
    """A first render that fails (or gives a page that is never stored) must not leave the
    reader waiting for it with nothing: it renders the page itself as soon as the first is done."""
    calls, release = [], threading.Event()

    def failing_then_fine(request):
        calls.append(1)
        if len(calls) == 1:
            assert release.wait(10)
            return HttpResponse("a server error: never kept", status=500)
        return HttpResponse("rendered by the second reader")

    first, second = _two_readers_at_once(monkeypatch, failing_then_fine, lambda: calls, release)
    assert first.status_code == 500
    assert (second.status_code, second["X-Cache"], len(calls)) == (200, "miss", 2)


def test_a_page_from_the_cache_carries_the_headers_of_its_render(client, strike):
    """A hit is sent before the rest of the middleware runs: the security headers, the content
    security policy and the page's language come with it from the render that stored it."""
    url = f"/ar/incidents/{strike.slug}/"
    rendered = client.get(url)
    with CaptureQueriesContext(connection) as captured:
        from_cache = client.get(url)
    assert (rendered["X-Cache"], from_cache["X-Cache"]) == ("miss", "hit")
    assert len(captured) == 1  # the data version; no session, no page
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Content-Language",
        "Content-Type",
    ):
        assert from_cache[header] == rendered[header], header
    assert from_cache["Content-Language"] == "ar"
    # Each response has its own request id, for the logs.
    assert from_cache["X-Request-ID"] != rendered["X-Request-ID"]


@pytest.mark.parametrize(
    "credentials",
    [{"Cookie": "sessionid=expired-or-forged"}, {"Authorization": "Basic ZWRpdG9yOnNlY3JldA=="}],
    ids=["session cookie", "authorization header"],
)
def test_a_request_that_may_come_from_staff_is_answered_live(client, strike, credentials):
    url = f"/incidents/{strike.slug}/"
    client.get(url)
    assert client.get(url)["X-Cache"] == "hit"
    live = client.get(url, headers=credentials)
    assert live.status_code == 200 and "at least 89" in live.content.decode()
    assert "X-Cache" not in live
    assert "no-store" in live["Cache-Control"] and "private" in live["Cache-Control"]


def test_the_same_address_on_another_host_is_another_page(client, strike, settings):
    """Pages carry absolute links (the feed, the other language's address): a page rendered for
    one host name is never sent to a reader of another."""
    settings.ALLOWED_HOSTS = ["testserver", "casualties.example.org"]
    first = client.get("/incidents/feed/")
    other = client.get("/incidents/feed/", headers={"Host": "casualties.example.org"})
    assert (first["X-Cache"], other["X-Cache"]) == ("miss", "miss")
    assert "casualties.example.org" in other.content.decode()
    assert "casualties.example.org" not in first.content.decode()


def test_static_files_keep_their_own_cache_headers(client, collected_static):
    response = client.get("/static/favicon.svg")
    assert response.status_code == 200
    assert "X-Cache" not in response
    assert "no-store" not in response.get("Cache-Control", "")


def test_an_address_for_another_site_is_refused_not_cached(client, strike):
    """A Host header this site does not answer to (cache poisoning, DNS rebinding) is a 400,
    before anything is looked up or stored under it."""
    response = client.get(f"/incidents/{strike.slug}/", headers={"Host": "attacker.example"})
    assert response.status_code == 400
    assert "X-Cache" not in response


# --- Filter menus kept per data version (incidents.filters.RenderedMenus) -----------------------


@pytest.mark.django_db(transaction=True)
def test_a_filter_menu_is_read_once_per_version_and_a_renamed_place_shows_at_once(client):
    """Outside a transaction (as a server answers), a list page of a data version whose menus
    were rendered reads no names for them; a rename moves the version on, and the next page has
    the new name. (Each address is new: the page cache does not answer.)"""
    syria = make_location("Syria", kind="country", admin1_name="governorate")
    idlib = make_location("Idlib", kind="admin1", parent=syria)
    make_incident("Strike on the market", location=make_location("Saraqib", parent=idlib))
    assert ">Idlib, Syria (governorate)</option>" in page(client, "/incidents/?sort=newest")[1]
    with CaptureQueriesContext(connection) as kept:
        text = page(client, "/incidents/?sort=oldest")[1]
    RENDERED_MENUS.clear()
    with CaptureQueriesContext(connection) as read_again:
        assert page(client, "/incidents/?sort=toll")[1].count("<option") == text.count("<option")
    assert len(kept) < len(read_again)
    idlib.name = "Idleb"
    idlib.save()
    renamed = page(client, "/incidents/?sort=disputed")[1]
    assert ">Idleb, Syria (governorate)</option>" in renamed
    assert ">Idlib, Syria (governorate)</option>" not in renamed


@pytest.mark.django_db(transaction=True)
def test_staff_and_readers_each_get_their_own_menu_in_the_same_version(client, editor):
    """Staff see the names of drafts in the menus; a reader after them, at the same data
    version, must not be given the staff's menu."""
    syria = make_location("Syria", kind="country", admin1_name="governorate")
    make_incident("Published strike", location=make_location("Homs", kind="admin1", parent=syria))
    make_incident(
        "Draft strike", location=make_location("Deir ez-Zor", kind="admin1", parent=syria), status="draft"
    )
    client.force_login(editor)
    version = dataversion.current()
    assert "Deir ez-Zor, Syria (governorate)" in page(client, "/incidents/")[1]
    client.logout()
    text = page(client, "/incidents/?sort=oldest")[1]
    assert dataversion.current() == version  # the same version: only the menus' queries differ
    assert "Homs, Syria (governorate)" in text and "Deir ez-Zor" not in text


# --- A shared cache that cannot be reached (casualty_tracker/redis_cache.py) --------------------

UNREACHABLE_REDIS = {
    "BACKEND": "casualty_tracker.redis_cache.SharedRedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there: refused at once
}


def test_readers_are_served_when_the_shared_cache_cannot_be_reached(
    client, strike, settings, caplog, monkeypatch
):
    """Redis down (restarted, out of memory, unreachable) is a cache that holds nothing: pages
    are rendered afresh, never an error, each server keeps serving what it rendered, and an edit
    still shows at once."""
    from casualty_tracker import redis_cache

    monkeypatch.setattr(redis_cache, "_now", lambda: 1000.0)  # all within one pause: logged once
    settings.CACHES = {"default": UNREACHABLE_REDIS}
    url = f"/incidents/{strike.slug}/"
    with caplog.at_level(logging.WARNING, logger="casualty_tracker.redis_cache"):
        first, text = page(client, url)
        again = client.get(url)
        api = client.get("/api/incidents/")  # the API's throttle keeps its counts in the cache
    assert (first.status_code, first["X-Cache"]) == (200, "miss") and "at least 89" in text
    assert again["X-Cache"] == "hit"  # from this process's own memory
    assert api.status_code == 200
    assert sum("cannot be reached" in record.getMessage() for record in caplog.records) == 1
    report = strike.reports.get()
    report.killed = 91
    report.save()
    assert "at least 91" in page(client, url)[1]


def test_a_redis_that_cannot_be_reached_is_asked_again_only_after_a_pause(monkeypatch):
    """During an outage a request costs nothing, not a connection attempt each time."""
    from casualty_tracker import redis_cache

    now = [1000.0]
    monkeypatch.setattr(redis_cache, "_now", lambda: now[0])
    asked = []
    get_client = redis_cache.ReusedClients.get_client
    monkeypatch.setattr(
        redis_cache.ReusedClients,
        "get_client",
        lambda self, *args, **kwargs: asked.append(1) or get_client(self, *args, **kwargs),
    )
    shared = redis_cache.SharedRedisCache(UNREACHABLE_REDIS["LOCATION"], {})
    assert shared.get("page", "nothing") == "nothing" and len(asked) == 1
    assert (shared.add("rendering", True), shared.get_many(["page"]), shared.delete("page")) == (
        False,
        {},
        False,
    )
    assert len(asked) == 1
    now[0] += redis_cache.RETRY_AFTER_SECONDS
    shared.set("page", "rendered")
    assert len(asked) == 2


@pytest.mark.django_db(transaction=True)  # outside any transaction, as a script's save
def test_a_save_outside_a_transaction_keeps_its_history_and_moves_the_version():
    """An edit's history row is an INSERT that returns its key: on SQLite a transaction cannot
    commit while such a statement's rows are unread, and the version's own transaction around
    it refused the insert after the edit had been written (a rename without its history)."""
    from incidents.models import Source

    source = make_source("Ministry of Health")
    before = dataversion.current().changes
    source.name = "Ministry of Health (Damascus)"
    source.save()
    assert list(
        Source.history.filter(id=source.pk).values_list("name", flat=True).order_by("history_id")
    ) == [
        "Ministry of Health",
        "Ministry of Health (Damascus)",
    ]
    assert dataversion.current().changes > before
    created = make_source("Civil Defence")  # a new row's key, read back through the same path
    assert Source.objects.get(pk=created.pk).name == "Civil Defence"


@pytest.mark.parametrize("url", ["/", "/incidents/", "/api/incidents/", "/ar/incidents/"])
def test_a_reader_taking_gzip_gets_the_same_page_compressed_once(client, strike, url, monkeypatch):
    import gzip

    compressed = []
    real = gzip.compress
    monkeypatch.setattr(public_cache.gzip, "compress", lambda *a, **k: compressed.append(1) or real(*a, **k))
    plain = client.get(url)
    plain_text = plain.content.decode()
    first = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert (plain["X-Cache"], first["X-Cache"], again["X-Cache"]) == ("miss", "hit", "hit")
    assert len(compressed) == 1  # when the page was stored, not per reader
    for response in (first, again):
        assert response["Content-Encoding"] == "gzip"
        assert gzip.decompress(response.content).decode() == plain_text
        assert int(response["Content-Length"]) == len(response.content) < len(plain_text.encode())
    assert not plain.has_header("Content-Encoding")
    for response in (plain, first):
        assert "Accept-Encoding" in response["Vary"] and "Cookie" in response["Vary"]
    # Two representations, two tags; each answers 304 to its own.
    assert first["ETag"] != plain["ETag"]
    not_modified = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304 and "Accept-Encoding" in not_modified["Vary"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


def test_a_page_first_asked_with_gzip_is_stored_plain_too(client, strike):
    import gzip

    first = client.get("/incidents/", HTTP_ACCEPT_ENCODING="gzip")
    plain, text = page(client, "/incidents/")
    assert (first["X-Cache"], plain["X-Cache"]) == ("miss", "hit")
    assert gzip.decompress(first.content).decode() == text and "Strike on the academy" in text


def test_small_answers_are_not_compressed(client, strike):
    response = client.get("/robots.txt", HTTP_ACCEPT_ENCODING="gzip")
    text = response.content.decode()
    assert not response.has_header("Content-Encoding") and "Disallow: /admin/" in text
