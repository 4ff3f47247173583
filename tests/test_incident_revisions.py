"""Each incident's revision (incidents/revisions.py) moves, in the same statement, with every
write to its row or the rows beneath it, whatever the path of the write, and with nothing else
(no write locks another incident's row); the API's list reads again only the records whose
revisions (their own, their whole's, their parts') moved."""

import time

import pytest
from django.db import connection

from incidents.api import views as api_views
from incidents.models import Attribution, Incident, Source, TollReport, Victim
from incidents.workflow import set_victims_public
from tests.factories import make_actor, make_attribution, make_incident, make_report, make_source, make_victim


@pytest.fixture
def incidents(db):
    """The academy (a whole with one part, the gate), the market, and a bystander."""
    academy = make_incident("Strike on the academy")
    make_report(academy, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    gate = make_incident("Strike at the academy gate", part_of=academy)
    market = make_incident("Shelling of the market")
    make_report(market, source=make_source("Civil Defence"), killed=12)
    bystander = make_incident("Clashes in the countryside")
    return {"academy": academy, "gate": gate, "market": market, "bystander": bystander}


def revisions():
    return dict(Incident.objects.values_list("title", "revision__revision"))


def report_saved(i):
    report = i["academy"].reports.get()
    report.killed = 91
    report.save()
    return ["academy"]


def report_updated_in_bulk(i):
    TollReport.objects.filter(incident=i["academy"]).update(url="https://example.org/moh")
    return ["academy"]


def report_added(i):
    TollReport.objects.bulk_create(
        [
            TollReport(
                incident=i["market"],
                source=make_source("SOHR"),
                published_on=i["market"].start_date,
                killed=14,
            )
        ]
    )
    return ["market"]


def reports_added_together(i):
    day = i["market"].start_date
    TollReport.objects.bulk_create(
        [
            TollReport(incident=i["market"], source=make_source(name), published_on=day, killed=14)
            for name in "AB"
        ]
    )
    return ["market"]


def report_deleted(i):
    TollReport.objects.filter(incident=i["market"]).delete()
    return ["market"]


def report_moved_to_another_incident(i):
    TollReport.objects.filter(incident=i["market"]).update(incident=i["academy"])
    return ["academy", "market"]


def report_written_by_hand(i):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_tollreport SET quote = 'by hand' WHERE incident_id = %s", [i["market"].pk]
        )
    return ["market"]


def attribution_added(i):
    make_attribution(
        i["market"], actor=make_actor("Drone operators"), source=Source.objects.get(name="Civil Defence")
    )
    return ["market"]


def attribution_quote_changed(i):
    make_attribution(
        i["market"], actor=make_actor("Drone operators"), source=Source.objects.get(name="Civil Defence")
    )
    before = revisions()
    Attribution.objects.filter(incident=i["market"]).update(quote="They said so")
    assert revisions()["Shelling of the market"] > before["Shelling of the market"]
    return ["market"]


def victim_released(i):
    victim = make_victim(i["market"], name="Rami Haddad")
    before = revisions()
    set_victims_public(victims=Victim.objects.filter(pk=victim.pk), user=None, via="tests")
    assert revisions()["Shelling of the market"] > before["Shelling of the market"]
    return ["market"]


def retitled(i):
    i["market"].title = "Shelling of the old market"
    i["market"].save()
    return ["market"]


def part_retitled(i):
    Incident.objects.filter(pk=i["gate"].pk).update(title="Strike at the academy's main gate")
    return ["gate"]  # its whole's page reads its parts' revisions


def whole_retitled(i):
    Incident.objects.filter(pk=i["academy"].pk).update(title="Drone strike on the academy")
    return ["academy"]


def part_moved_to_another_whole(i):
    Incident.objects.filter(pk=i["gate"].pk).update(part_of=i["market"])
    return ["gate", "academy", "market"]  # the one writer stores whether each is in a part tree


def part_deleted(i):
    Incident.objects.filter(pk=i["gate"].pk).delete()
    return ["academy"]  # no longer in a part tree (and its page counts its parts)


WRITES = [
    report_saved, report_updated_in_bulk, report_added, reports_added_together, report_deleted,
    report_moved_to_another_incident,
    report_written_by_hand, attribution_added, attribution_quote_changed, victim_released, retitled,
    part_retitled, whole_retitled, part_moved_to_another_whole, part_deleted,
]  # fmt: skip
TITLES = {
    "academy": "Strike on the academy", "gate": "Strike at the academy gate",
    "market": "Shelling of the market", "bystander": "Clashes in the countryside",
}  # fmt: skip


@pytest.mark.parametrize("write", WRITES, ids=[w.__name__ for w in WRITES])
def test_a_write_moves_the_revisions_of_the_incidents_it_changes_and_no_other(incidents, write):
    before = revisions()
    started = time.time_ns() // 1000
    moved = write(incidents)
    after = revisions()
    for name, title in TITLES.items():
        if name in moved:
            now = next(t for t in after if Incident.objects.filter(title=t, pk=incidents[name].pk).exists())
            # The time in microseconds (SQLite's clock counts milliseconds): past any number a
            # database restored from an older backup had.
            assert after[now] > before[title] and after[now] >= started - 1000
        elif title in after:
            assert after[title] == before[title], name


@pytest.fixture
def records_read(monkeypatch):
    api_views.IncidentRecords.KEPT.clear()
    read = []
    original = api_views.IncidentRecords.read

    def counting(self, ids):
        read.append(sorted(ids))
        return original(self, ids)

    monkeypatch.setattr(api_views.IncidentRecords, "read", counting)
    return read


def results(client, url="/api/incidents/"):
    return {r["title"]: r for r in client.get(url).json()["results"]}


@pytest.mark.django_db(transaction=True)  # records are kept outside transactions only
def test_the_api_reads_again_only_the_revised_record(client, incidents, records_read):
    ids = sorted(incident.pk for incident in incidents.values())
    assert results(client)["Strike on the academy"]["killed"]["short"] == "89+"
    assert records_read == [ids]
    report_saved(incidents)
    records_read.clear()
    shown = results(client)
    assert shown["Strike on the academy"]["killed"]["short"] == "91+"
    assert shown["Shelling of the market"]["killed"]["short"] == "12"
    # The academy, and its part (whose record names its whole, kept by the whole's revision).
    assert records_read == [sorted([incidents["academy"].pk, incidents["gate"].pk])]
    # A part renamed: its whole lists it by its new title.
    records_read.clear()
    Incident.objects.filter(pk=incidents["gate"].pk).update(title="Strike at the main gate")
    shown = results(client, "/api/incidents/?sort=oldest")
    assert [p["title"] for p in shown["Strike on the academy"]["parts"]] == ["Strike at the main gate"]
    assert records_read == [sorted([incidents["academy"].pk, incidents["gate"].pk])]


@pytest.mark.django_db(transaction=True)
def test_a_renamed_source_is_in_every_record_at_once(client, incidents, records_read):
    results(client)
    Source.objects.filter(name="Civil Defence").update(name="Syria Civil Defence")
    records_read.clear()
    shown = results(client)
    assert shown["Shelling of the market"]["current_figures"][0]["source"]["name"] == "Syria Civil Defence"
    assert records_read == [sorted(incident.pk for incident in incidents.values())]


@pytest.mark.django_db(transaction=True)
def test_records_asked_for_at_another_address_carry_that_address(client, incidents, settings):
    """A record holds absolute links: one kept for one host name is not sent to another."""
    settings.ALLOWED_HOSTS = ["testserver", "mirror.example.org"]
    assert results(client)["Strike on the academy"]["url"].startswith("http://testserver/")
    other_host = client.get("/api/incidents/", HTTP_HOST="mirror.example.org").json()["results"]
    assert {r["url"].split("/")[2] for r in other_host} == {"mirror.example.org"}


def test_the_daily_command_removes_the_revisions_of_deleted_incidents_only(incidents):
    import io

    from django.core.management import call_command

    from incidents.models import IncidentRevision
    from incidents.workflow import unpublish_incident

    market = incidents["market"]
    unpublish_incident(incident=market, user=None, via="tests")
    TollReport.objects.filter(incident=market).delete()
    market_pk = market.pk
    market.delete()
    assert IncidentRevision.objects.filter(incident_id=market_pk).exists()  # no foreign key
    kept = revisions()
    output = io.StringIO()
    call_command("fold_data_version", stdout=output)
    assert "Removed the revisions of 1 deleted incident." in output.getvalue()
    assert not IncidentRevision.objects.filter(incident_id=market_pk).exists()
    assert revisions() == kept  # the others' revisions, as they were
    assert None not in kept.values()
