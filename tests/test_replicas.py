"""Read replicas: anonymous readers read from a replica, staff and every write use the primary.

The replica here is a second connection to the test database (a real second database alias, as
a replica server would be), so the test can count which connection each request used.
"""

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from casualty_tracker import replicas
from casualty_tracker.env import cache_from_url
from casualty_tracker.replicas import ReplicaRouter, replica_for_reads
from incidents.models import Incident
from tests.conftest import REPLICA
from tests.factories import make_incident, make_report

with_the_replica = pytest.mark.django_db(transaction=True, databases=["default", REPLICA])


@pytest.fixture
def replica(settings):
    settings.DATABASE_REPLICAS = [REPLICA]
    return connections[REPLICA]


def queries_on(alias):
    return CaptureQueriesContext(connections[alias])


@with_the_replica
def test_an_anonymous_reader_reads_every_public_page_from_the_replica(client, replica):
    incident = make_incident("Strike on the academy")
    make_report(incident, killed=89, qualifier="at_least")
    for url in ("/", "/incidents/", f"/incidents/{incident.slug}/", "/incidents/?q=academy"):
        with queries_on("default") as on_primary, queries_on(REPLICA) as on_replica:
            response = client.get(url)
        assert response.status_code == 200, url
        assert "academy" in response.content.decode().lower()
        assert len(on_replica) > 0, url
        assert len(on_primary) == 0, (url, [q["sql"] for q in on_primary])


@with_the_replica
def test_a_page_and_its_data_version_are_read_from_one_replica(client, settings, monkeypatch):
    # Two replicas (the primary's database under two aliases), and a choice that alternates: were
    # each query to choose, the version (the page's cache key) and the page would be read from
    # different replicas, and a page from one lagging behind would be stored under the other's
    # newer version.
    settings.DATABASE_REPLICAS = ["default", REPLICA]
    turns = iter(range(1_000))
    monkeypatch.setattr(replicas.random, "choice", lambda replicas: replicas[next(turns) % 2])
    incident = make_incident("Strike on the academy")
    for url in ("/", "/incidents/", f"/incidents/{incident.slug}/", "/api/incidents/"):
        with queries_on("default") as on_primary, queries_on(REPLICA) as on_replica:
            response = client.get(url)
        assert response.status_code == 200 and response["X-Cache"] == "miss", url
        assert (len(on_primary) == 0) != (len(on_replica) == 0), url  # one of them, never both


@with_the_replica
def test_staff_and_writes_stay_on_the_primary(client, editor, replica):
    incident = make_incident("Strike on the academy")
    client.force_login(editor)
    for url in ("/", f"/incidents/{incident.slug}/", f"/admin/incidents/incident/{incident.pk}/change/"):
        with queries_on(REPLICA) as on_replica:
            assert client.get(url).status_code == 200
        assert len(on_replica) == 0, url
    client.logout()
    with queries_on(REPLICA) as on_replica:
        client.post("/admin/login/", {"username": "eddie", "password": "wrong"})
        client.get("/admin/login/")
        client.get("/healthz/")
    assert len(on_replica) == 0


@pytest.mark.django_db(transaction=True)
def test_without_replicas_everything_reads_the_primary(client):
    make_incident("Strike on the academy")
    with queries_on("default") as on_primary:
        assert client.get("/incidents/").status_code == 200
    assert len(on_primary) > 0


def test_the_router_writes_and_migrates_only_on_the_primary(settings):
    settings.DATABASE_REPLICAS = [REPLICA]
    router = ReplicaRouter()
    token = replica_for_reads.set(REPLICA)
    try:
        assert router.db_for_read(Incident) == REPLICA
        assert router.db_for_write(Incident) == "default"
    finally:
        replica_for_reads.reset(token)
    assert router.db_for_read(Incident) == "default"
    assert router.allow_migrate(REPLICA, "incidents") is False
    assert router.allow_migrate("default", "incidents") is True


@pytest.mark.parametrize(
    ("url", "backend"),
    [
        ("", "django.core.cache.backends.locmem.LocMemCache"),
        ("redis://127.0.0.1:6379/0", "casualty_tracker.redis_cache.SharedRedisCache"),
        ("rediss://cache.internal:6380/1", "casualty_tracker.redis_cache.SharedRedisCache"),
        ("dummy://", "django.core.cache.backends.dummy.DummyCache"),
    ],
)
def test_the_cache_comes_from_django_cache_url(url, backend):
    assert cache_from_url(url)["BACKEND"] == backend


def test_a_cache_url_that_is_not_redis_is_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="not a Redis URL"):
        cache_from_url("memcached://127.0.0.1:11211")
