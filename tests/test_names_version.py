"""The names version (incidents/dataversion.py): what the filter menus show (which places, actors
and sources published incidents use, and their names) moves it on, in the same transaction; a
revised figure, a new title or a stored total does not, so a crisis day's revisions do not have
the menus read and written again after each one."""

import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents import dataversion
from incidents.models import Actor, Location, Source, TollReport
from incidents.workflow import publish_incident, unpublish_incident
from tests.factories import (
    make_actor,
    make_attribution,
    make_incident,
    make_location,
    make_report,
    make_source,
)


@pytest.fixture
def strike(db):
    syria = make_location("Syria", kind="country", admin1_name="governorate")
    homs = make_location("Homs", kind="admin1", parent=syria)
    incident = make_incident("Strike on the academy", location=make_location("Al-Waer", parent=homs))
    make_report(incident, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    return incident


def names():
    return dataversion.current().names


def names_counted_in_sql():
    """The names version where the labels' columns are not (migration 0027)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(names_changes) FROM incidents_dataversion")
        return cursor.fetchone()[0]


def revise_by_saving(incident):
    report = incident.reports.get()
    report.killed = 91
    report.save()  # writes every column, the source's among them


def revise_in_bulk(incident):
    TollReport.objects.filter(incident=incident).update(killed=92)


def retitle(incident):
    incident.title = "Drone strike on the military academy"
    incident.save()


def report_of_another_source(incident):
    make_report(incident, source=make_source("Syrian Observatory for Human Rights"), killed=120)


def report_moved_to_another_source(incident):
    TollReport.objects.filter(incident=incident).update(source=make_source("Civil Defence"))


def attribution_to_an_actor(incident):
    make_attribution(incident, actor=make_actor("Drone operators"))


def place_renamed(incident):
    Location.objects.filter(name="Homs").update(name="Hims")


def source_renamed(incident):
    Source.objects.filter(name="Ministry of Health").update(name="Ministry of Health (Damascus)")


def actor_renamed(incident):
    actor = make_actor("Government forces")
    Actor.objects.filter(pk=actor.pk).update(name="Syrian Arab Army")


def moved_to_another_place(incident):
    incident.location = make_location("Tal Kalakh", parent=incident.location.parent)
    incident.save()


def unpublished(incident):
    unpublish_incident(incident=incident, user=None, via="tests")


def another_published(incident):
    make_incident("Shelling of the market", location=incident.location)


def draft_published(incident):
    draft = make_incident("Shelling of the market", location=incident.location, status="draft")
    before = names()
    publish_incident(incident=draft, user=None, via="tests")
    assert names() > before


# (change, whether it moves the names version, whether it moves the labels version)
MOVES_THE_MENUS = [
    (place_renamed, True, True),
    (source_renamed, True, True),
    (actor_renamed, True, True),
    (report_of_another_source, True, True),  # a new source
    (report_moved_to_another_source, True, True),  # a new source
    (attribution_to_an_actor, True, True),  # a new actor
    (moved_to_another_place, True, True),  # a new place
    (unpublished, True, False),
    (another_published, True, False),
    (draft_published, True, False),
    (revise_by_saving, False, False),
    (revise_in_bulk, False, False),
    (retitle, False, False),
]


@pytest.mark.parametrize(
    ("change", "moves", "moves_labels"), MOVES_THE_MENUS, ids=[c.__name__ for c, *_ in MOVES_THE_MENUS]
)
def test_what_the_menus_show_moves_the_names_version_and_nothing_else_does(
    strike, change, moves, moves_labels
):
    before = dataversion.current()
    change(strike)
    after = dataversion.current()
    assert after.changes > before.changes  # every change is a new data version
    assert (after.names > before.names) is moves
    if moves:
        assert after.names_changed_at > (before.names_changed_at or after.names_changed_at.min)
    # The labels version: the places, sources and actors themselves; a publication leaves it.
    assert (after.labels > before.labels) is moves_labels
    if moves_labels:
        assert after.labels_changed_at > (before.labels_changed_at or after.labels_changed_at.min)


def test_a_rolled_back_rename_leaves_the_names_version(strike):
    before = names()
    with pytest.raises(RuntimeError), transaction.atomic():
        Location.objects.filter(name="Homs").update(name="Hims")
        raise RuntimeError
    assert names() == before


def menu_queries(queries):
    return [q["sql"] for q in queries if 'FROM "incidents_location"' in q["sql"]]


@pytest.mark.django_db(transaction=True)  # menus are kept outside transactions only
def test_a_revised_figure_shows_at_once_and_the_menus_are_not_read_again(client, strike):
    assert ">Homs, Syria (governorate)</option>" in client.get("/incidents/").content.decode()
    revise_by_saving(strike)
    with CaptureQueriesContext(connection) as queries:
        text = client.get("/incidents/?sort=oldest").content.decode()
    assert "91+ killed" in text and ">Homs, Syria (governorate)</option>" in text
    assert menu_queries(queries) == []
    # The menus are kept under the version the page is kept under: read once, by the page cache.
    assert [q["sql"] for q in queries if "incidents_dataversion" in q["sql"]] == [dataversion.CURRENT]


@pytest.mark.django_db(transaction=True)
def test_a_newly_public_place_is_in_the_menu_on_the_next_page(client, strike):
    idlib = make_location("Idlib", kind="admin1", parent=strike.location.parent.parent)
    assert "Idlib, Syria" not in client.get("/incidents/").content.decode()
    draft = make_incident(
        "Shelling of Saraqib", location=make_location("Saraqib", parent=idlib), status="draft"
    )
    assert "Idlib, Syria" not in client.get("/incidents/?sort=oldest").content.decode()
    publish_incident(incident=draft, user=None, via="tests")
    assert ">Idlib, Syria (governorate)</option>" in client.get("/incidents/?sort=toll").content.decode()
    idlib.name = "Idleb"
    idlib.save()  # and the chains of the places beneath it
    text = client.get("/incidents/?sort=disputed").content.decode()
    assert ">Idleb, Syria (governorate)</option>" in text and "Idlib, Syria" not in text


def test_migrate_moves_the_names_version_and_keeps_counting(strike):
    before = names()
    call_command("migrate", verbosity=0)
    assert names() > before
    before = names()
    source_renamed(strike)
    assert names() > before


@pytest.mark.django_db(transaction=True)
def test_an_undone_migration_stops_counting_and_a_redone_one_counts_again(strike):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("incidents", "0026_possible_match_outlives_a_merge")])
        # The triggers are gone with their columns: a rename writes as before.
        Location.objects.filter(name="Homs").update(name="Hims")
        # Back to before the labels version: the names triggers count without it.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([("incidents", "0027_names_version_and_incident_revisions")])
        before = names_counted_in_sql()
        Location.objects.filter(name="Hims").update(name="Homs")
        assert names_counted_in_sql() > before
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    before = names()
    source_renamed(strike)
    assert names() > before


# --- Counts kept under the names version (incidents.stats.SOURCES_COUNTED) ---------------------


def sources_counted(queries):
    """The queries that count the sources reporting on a place or on every published incident (a
    probe per source). Not the home page's count for its latest month, which depends on the
    incidents' dates (not counted by the names version): that one is counted at each render."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT COUNT(*)")
        and "incidents_source" in q["sql"]
        and "start_date" not in q["sql"]
    ]


def according_to(client, url):
    text = client.get(url).content.decode()
    counts = [int(n) for n in re.findall(r"according to (\d+) sources?", text)]
    if not counts and "No figure has been reported" in text:
        return 0  # the total's sentence names no source then
    assert counts, f"no count of sources on {url}"
    return counts[-1]  # the home page says the latest month's first, then all time's


@pytest.fixture
def two_governorates(db):
    """Homs: a strike reported by the Ministry of Health; Idlib: shelling reported by the
    Observatory."""
    syria = make_location("Syria", kind="country", admin1_name="governorate")
    homs = make_location("Homs", kind="admin1", parent=syria)
    idlib = make_location("Idlib", kind="admin1", parent=syria)
    strike = make_incident("Strike on the academy", location=make_location("Al-Waer", parent=homs))
    make_report(strike, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    shelling = make_incident("Shelling of Saraqib", location=make_location("Saraqib", parent=idlib))
    make_report(shelling, source=make_source("Syrian Observatory for Human Rights"), killed=12)
    return homs, strike, shelling


def a_new_source_on_the_strike(homs, strike, shelling):
    make_report(strike, source=make_source("Civil Defence"), killed=95)


def a_report_moved_to_the_strike(homs, strike, shelling):
    TollReport.objects.filter(incident=shelling).update(incident=strike)


def the_shelling_moved_to_homs(homs, strike, shelling):
    shelling.location = make_location("Talbiseh", parent=homs)
    shelling.save()


def its_village_moved_to_homs(homs, strike, shelling):
    village = shelling.location
    village.parent = homs
    village.save()


def the_strike_report_deleted(homs, strike, shelling):
    TollReport.objects.filter(incident=strike).delete()


def the_shelling_unpublished(homs, strike, shelling):
    unpublish_incident(incident=shelling, user=None, via="tests")


# (change, sources then reporting in Homs, sources then reporting on any published incident)
CHANGES_THE_SOURCES_COUNTED = [
    (a_new_source_on_the_strike, 2, 3),
    (a_report_moved_to_the_strike, 2, 2),
    (the_shelling_moved_to_homs, 2, 2),
    (its_village_moved_to_homs, 2, 2),
    (the_strike_report_deleted, 0, 1),
    (the_shelling_unpublished, 1, 1),
]


@pytest.mark.django_db(transaction=True)  # kept outside transactions only
@pytest.mark.parametrize(
    ("change", "in_homs", "everywhere"),
    CHANGES_THE_SOURCES_COUNTED,
    ids=[c.__name__ for c, *_ in CHANGES_THE_SOURCES_COUNTED],
)
def test_the_sources_counted_are_kept_while_figures_are_revised_and_never_after_a_change(
    client, two_governorates, change, in_homs, everywhere
):
    """A place page and the home page say how many sources report there: counted once per names
    version, so a revised figure re-renders them without counting again, and a change to which
    sources report where shows on the very next page."""
    homs, strike, shelling = two_governorates
    place = homs.get_absolute_url()
    assert (according_to(client, place), according_to(client, "/")) == (1, 2)
    revise_by_saving(strike)
    with CaptureQueriesContext(connection) as queries:
        assert (according_to(client, place), according_to(client, "/")) == (1, 2)
    # Read before the next request: Django empties the connection's log of queries at each.
    assert sources_counted(queries) == []
    assert "91+ killed" in client.get(place).content.decode()  # both pages were rendered again
    change(homs, strike, shelling)
    assert (according_to(client, place), according_to(client, "/")) == (in_homs, everywhere)
