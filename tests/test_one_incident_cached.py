"""One incident's page and its record in the API are kept under the incident's revision and the
names version (casualty_tracker/public_cache.py, incidents/revisions.py): kept while other
incidents are revised, and never shown after a change to anything they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Actor, Incident, Location, Source, TollReport, Victim
from incidents.workflow import publish_incident, set_victims_public, unpublish_incident
from tests.factories import make_actor, make_attribution, make_incident, make_report, make_source, make_victim


@pytest.fixture
def academy(db):
    academy = make_incident("Strike on the academy")
    make_report(academy, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    make_attribution(
        academy, actor=make_actor("Drone operators"), source=Source.objects.get(name="Ministry of Health")
    )
    return academy


def get(client, url):
    response = client.get(url)
    return response, response.content.decode()


PAGES = ["/incidents/{slug}/", "/ar/incidents/{slug}/", "/api/incidents/{slug}/"]


@pytest.mark.parametrize("page", PAGES)
def test_another_incidents_revision_leaves_the_page_kept(client, academy, page):
    market = make_incident("Shelling of the market")
    report = make_report(market, source=make_source("Civil Defence"), killed=12)
    url = page.format(slug=academy.slug)
    assert get(client, url)[0]["X-Cache"] == "miss"
    TollReport.objects.filter(pk=report.pk).update(killed=14)
    response, text = get(client, url)
    assert response["X-Cache"] == "hit" and "89" in text


@pytest.mark.parametrize("page", PAGES)
def test_another_incident_published_leaves_the_page_kept(client, academy, page):
    """A publication may add a name to the menus (the names version), not to this page: it
    shows only the labels of places, sources and actors, which the labels version counts."""
    url = page.format(slug=academy.slug)
    assert get(client, url)[0]["X-Cache"] == "miss"
    draft = make_incident("Shelling of the market", location=academy.location, status="draft")
    publish_incident(incident=draft, user=None, via="tests")
    response, text = get(client, url)
    assert response["X-Cache"] == "hit" and "89" in text


@pytest.mark.parametrize("page", PAGES)
def test_its_source_renamed_shows_at_once(client, academy, page):
    url = page.format(slug=academy.slug)
    assert "Ministry of Health" in get(client, url)[1]
    Source.objects.filter(name="Ministry of Health").update(name="Ministry of Health (Damascus)")
    response, text = get(client, url)
    assert response["X-Cache"] == "miss" and "Ministry of Health (Damascus)" in text


def report_revised(academy, others):
    TollReport.objects.filter(incident=academy).update(killed=91)
    return "91"


def report_saved(academy, others):
    report = academy.reports.get()
    report.killed_qualifier = "exact"
    report.killed = 93
    report.save()
    return "93"


def report_of_another_source(academy, others):
    make_report(academy, source=make_source("Syrian Observatory for Human Rights"), killed=120)
    return "Syrian Observatory for Human Rights"


def report_written_by_hand(academy, others):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_tollreport SET quote = 'Written by hand' WHERE incident_id = %s", [academy.pk]
        )
    return "Written by hand"


def attribution_added(academy, others):
    make_attribution(
        academy, actor=make_actor("Government forces"), source=Source.objects.get(name="Ministry of Health")
    )
    return "Government forces"


def victim_released(academy, others):
    victim = make_victim(academy, name="Rami Haddad", age=34, sex="male")
    set_victims_public(victims=Victim.objects.filter(pk=victim.pk), user=None, via="tests")
    return "Rami Haddad"


def retitled(academy, others):
    Incident.objects.filter(pk=academy.pk).update(summary="A drone strike during a graduation ceremony.")
    return "graduation ceremony"


def related_incident_added(academy, others):
    academy.related.add(others["market"])
    return "Shelling of the market"


def related_incident_retitled(academy, others):
    academy.related.add(others["market"])
    return retitle_after_a_look(others["market"], "Shelling of the old market")


def part_revised(academy, others):
    part = make_incident("Strike at the academy gate", part_of=academy)
    report = make_report(part, source=make_source("Civil Defence"), killed=7)
    return revise_after_a_look(academy, report, 8, "8 killed")


def whole_retitled(academy, others):
    whole = make_incident("Homs offensive")
    Incident.objects.filter(pk=academy.pk).update(part_of=whole)
    return retitle_after_a_look(whole, "Homs offensive, October 2023")


def source_renamed(academy, others):
    Source.objects.filter(name="Ministry of Health").update(name="Ministry of Health (Damascus)")
    return "Ministry of Health (Damascus)"


def actor_renamed(academy, others):
    Actor.objects.filter(name="Drone operators").update(name="Unidentified drone operators")
    return "Unidentified drone operators"


def place_renamed(academy, others):
    place = academy.location
    place.name = "Al-Waer"
    place.save()
    return "Al-Waer"


# Changes made after the page was first read, which must show on the next read. Those that need
# a first state of their own (a relation, a part, a whole) read the page once more themselves.
CHANGES = [
    report_revised, report_saved, report_of_another_source, report_written_by_hand, attribution_added,
    victim_released, retitled, related_incident_added, related_incident_retitled, part_revised,
    whole_retitled, source_renamed, actor_renamed, place_renamed,
]  # fmt: skip
CLIENT = {}


def retitle_after_a_look(incident, title):
    CLIENT["look"]()
    Incident.objects.filter(pk=incident.pk).update(title=title)
    return title


def revise_after_a_look(academy, report, killed, shown):
    CLIENT["look"]()
    TollReport.objects.filter(pk=report.pk).update(killed=killed)
    return shown


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__ for c in CHANGES])
def test_the_incidents_page_shows_every_change_at_once(client, academy, change):
    others = {"market": make_incident("Shelling of the market")}
    url = f"/incidents/{academy.slug}/"
    CLIENT["look"] = lambda: get(client, url)
    assert get(client, url)[0]["X-Cache"] == "miss"
    shown = change(academy, others)
    response, text = get(client, url)
    assert response["X-Cache"] == "miss"
    assert shown in text


def test_an_unpublished_incidents_page_is_gone_at_once(client, academy):
    url = f"/incidents/{academy.slug}/"
    assert get(client, url)[0].status_code == 200
    unpublish_incident(incident=academy, user=None, via="tests")
    assert get(client, url)[0].status_code == 404
    assert get(client, f"/api/incidents/{academy.slug}/")[0].status_code == 404


def test_a_place_renamed_above_the_incidents_place_shows_at_once(client, academy):
    country = Location.objects.create(name="Syria", kind="country", admin1_name="governorate")
    Location.objects.filter(pk=academy.location.pk).update(parent=country)
    academy.location.refresh_from_db()
    academy.location.save()  # its chain, with the country
    url = f"/incidents/{academy.slug}/"
    assert "Syria" in get(client, url)[1]
    country.name = "Syrian Arab Republic"
    country.save()
    assert "Syrian Arab Republic" in get(client, url)[1]


def test_an_incident_whose_slug_is_another_pages_address_does_not_keep_that_page(client, academy):
    """/incidents/feed/ is the feed, whatever an incident is called: it shows every publication."""
    feed = make_incident("Feed")
    assert feed.slug == "feed"
    assert "Shelling of the market" not in get(client, "/incidents/feed/")[1]
    make_incident("Shelling of the market")
    assert "Shelling of the market" in get(client, "/incidents/feed/")[1]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_revisions_read_for_a_version_are_reused_and_never_stale(client, academy):
    """Each server remembers an incident's revisions per data version (one query a hit); a new
    version reads them again."""
    from incidents import dataversion

    dataversion.INCIDENTS_SEEN.clear()
    market = make_incident("Shelling of the market")
    other = make_report(market, source=make_source("Civil Defence"), killed=12)
    url = f"/incidents/{academy.slug}/"
    assert get(client, url)[0]["X-Cache"] == "miss"
    with CaptureQueriesContext(connection) as hit:
        assert get(client, url)[0]["X-Cache"] == "hit"
    assert len(hit) == 1
    TollReport.objects.filter(pk=other.pk).update(killed=14)
    assert get(client, url)[0]["X-Cache"] == "hit"
    TollReport.objects.filter(incident=academy).update(killed=95)
    response, text = get(client, url)
    assert response["X-Cache"] == "miss" and "95" in text


@pytest.mark.parametrize("page", ["/methodology/", "/ar/methodology/"])
def test_a_page_of_words_only_stays_kept_through_revisions_and_is_rendered_again_after_migrate(
    client, academy, page
):
    from django.core.management import call_command

    assert get(client, page)[0]["X-Cache"] == "miss"
    TollReport.objects.filter(incident=academy).update(killed=91)
    make_incident("Shelling of the market", location=academy.location)
    assert get(client, page)[0]["X-Cache"] == "hit"
    call_command("migrate", verbosity=0)  # a deploy: its words may have changed
    assert get(client, page)[0]["X-Cache"] == "miss"


@pytest.mark.django_db(transaction=True)  # kept outside transactions only
def test_the_corrections_are_read_once_per_revision_and_language_and_shown_at_once(
    client, academy, monkeypatch
):
    """The revised incident's page, its Arabic page and its API record are rendered again after
    each revision: its corrections since publication are read once for the English ones."""
    from incidents import workflow

    workflow.CORRECTIONS_KEPT.clear()
    read = []
    real = workflow.corrections
    monkeypatch.setattr(workflow, "corrections", lambda incident: read.append(incident.pk) or real(incident))
    report = academy.reports.get()
    report.killed = 91
    report.save()  # after publication: a correction
    pages = [
        f"/incidents/{academy.slug}/",
        f"/api/incidents/{academy.slug}/",
        f"/ar/incidents/{academy.slug}/",
    ]
    english, record, arabic = (get(client, url)[1] for url in pages)
    assert "a figure was corrected" in english and "a figure was corrected" in record
    assert len(read) == 2  # English (the page and the record), Arabic
    report.killed = 95
    report.save()
    english = get(client, pages[0])[1]
    assert "95" in english.split("a figure was corrected")[-1]
    assert len(read) == 3
    source = Source.objects.get(name="Ministry of Health")
    source.name = "Ministry of Health (Damascus)"
    source.save()  # the labels version: a rename is a correction too
    assert "was renamed" in get(client, pages[1])[1]
    assert len(read) == 4
