"""Who did it, according to whom: the al-Ahli hospital explosion end to end, the rules, the migration."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from incidents.models import Attribution, Incident
from tests.factories import make_actor, make_attribution, make_incident, make_location, make_source

pytestmark = pytest.mark.django_db

DAY = datetime.date(2023, 10, 17)


def page_text(client, url):
    return " ".join(client.get(url).content.decode().split())


def read_csv(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def al_ahli_entered_in_the_admin(analyst, editor):
    analyst_client, editor_client = Client(), Client()
    analyst_client.force_login(analyst)
    editor_client.force_login(editor)
    gaza = make_location("Gaza City")
    moh = make_source("Gaza Ministry of Health", short_name="Gaza MoH", kind="government")
    us = make_source("US intelligence", kind="government")
    french = make_source("French military intelligence", kind="government")
    pij_source = make_source("Palestinian Islamic Jihad", kind="armed_group")
    idf = make_actor("Israel Defense Forces")
    pij = make_actor("Palestinian Islamic Jihad", kind="non_state_group")
    data = {
        "title": "Explosion at al-Ahli Arab hospital", "slug": "", "kind": "other", "summary": "",
        "start_date": "2023-10-17", "end_date": "", "date_precision": "day", "location": gaza.pk,
        "place": "al-Ahli Arab hospital", "location_precision": "exact",
        "reports-TOTAL_FORMS": "3", "reports-INITIAL_FORMS": "0",
        "attributions-TOTAL_FORMS": "4", "attributions-INITIAL_FORMS": "0",
        "victims-TOTAL_FORMS": "0", "victims-INITIAL_FORMS": "0",
    }  # fmt: skip
    figures = [(moh, "exact", "471", ""), (us, "between", "100", "300"), (french, "between", "10", "50")]
    for i, (source, qualifier, killed, upper) in enumerate(figures):
        data |= {
            f"reports-{i}-source": source.pk, f"reports-{i}-published_on": "2023-10-18",
            f"reports-{i}-killed_qualifier": qualifier, f"reports-{i}-killed": killed,
            f"reports-{i}-killed_upper": upper, f"reports-{i}-killed_counts": "all",
            f"reports-{i}-injured_qualifier": "unknown",
        }  # fmt: skip
    stances = [
        (moh, "alleged", idf),
        (us, "alleged", pij),
        (french, "alleged", pij),
        (pij_source, "denied", pij),
    ]
    for i, (source, stance, actor) in enumerate(stances):
        data |= {
            f"attributions-{i}-source": source.pk, f"attributions-{i}-stance": stance,
            f"attributions-{i}-actor": actor.pk, f"attributions-{i}-published_on": "2023-10-18",
        }  # fmt: skip
    response = analyst_client.post("/admin/incidents/incident/add/", data)
    assert response.status_code == 302, response.context and response.context["errors"]
    incident = Incident.objects.get()
    editor_client.post(
        "/admin/incidents/incident/", {"action": "publish_selected", "_selected_action": [incident.pk]}
    )
    incident.refresh_from_db()
    return incident, idf, pij


class TestAlAhli:
    def test_a_reader_can_tell_who_blames_whom(self, client, al_ahli_entered_in_the_admin):
        incident, idf, pij = al_ahli_entered_in_the_admin
        text = page_text(client, incident.get_absolute_url())
        assert (
            "Gaza MoH alleges Israel Defense Forces; US intelligence and French military intelligence allege "
            "Palestinian Islamic Jihad; Palestinian Islamic Jihad denies."
        ) in text
        assert "attribution disputed" in text
        assert "Alleged perpetrators: Israel Defense Forces, Palestinian Islamic Jihad" not in text

    def test_the_list_filter_finds_it_as_disputed(self, client, al_ahli_entered_in_the_admin):
        incident, _, _ = al_ahli_entered_in_the_admin
        other = make_incident("Agreed strike")
        make_attribution(other, make_actor("Russian forces"))
        disputed = page_text(client, "/incidents/?attribution=disputed")
        assert incident.title in disputed and "Agreed strike" not in disputed
        assert "Agreed strike" in page_text(client, "/incidents/?attribution=agreed")

    def test_totals_by_perpetrator_keep_the_disputed_toll_apart(
        self, editor_client, al_ahli_entered_in_the_admin
    ):
        incident, idf, pij = al_ahli_entered_in_the_admin
        agreed = make_incident("Agreed strike")
        make_attribution(agreed, idf)
        from tests.factories import make_report

        make_report(agreed, killed=5)
        rows = read_csv(editor_client.get("/export/summary.csv?by=perpetrator"))
        by_key = {(r["perpetrator"], r["attribution"]): r for r in rows}
        assert by_key[("Israel Defense Forces", "agreed")]["killed_highest_total"] == "5"
        assert by_key[("Israel Defense Forces", "disputed")]["killed_highest_total"] == "471"
        assert ("Palestinian Islamic Jihad", "disputed") in by_key
        assert ("Palestinian Islamic Jihad", "agreed") not in by_key

    def test_the_csv_marks_the_attribution_disputed(self, editor_client, al_ahli_entered_in_the_admin):
        incident, _, _ = al_ahli_entered_in_the_admin
        row = read_csv(editor_client.get("/export/incidents.csv"))[0]
        assert row["perpetrators"] == "Israel Defense Forces; Palestinian Islamic Jihad"
        assert row["attribution_disputed"] == "true"

    def test_the_actor_page_shows_by_whom_and_separates_disputed_totals(
        self, client, al_ahli_entered_in_the_admin
    ):
        incident, idf, pij = al_ahli_entered_in_the_admin
        text = page_text(client, pij.get_absolute_url())
        assert "US intelligence" in text and "French military intelligence" in text and "denies it" in text
        assert "Attribution disputed" in text and "attribution disputed" in text


class TestRules:
    def test_a_source_cannot_allege_and_deny_an_actor_on_the_same_day(self):
        incident, source, actor = make_incident(), make_source(), make_actor()
        make_attribution(incident, actor, source, published_on=DAY)
        second = Attribution(incident=incident, actor=actor, source=source, stance="denied", published_on=DAY)
        with pytest.raises(ValidationError, match="says one thing about an actor on a day"):
            second.full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            second.save()

    def test_a_sources_latest_stance_is_its_current_one(self):
        incident, source, actor = make_incident(start_date=DAY), make_source(), make_actor()
        make_attribution(incident, actor, source, published_on=DAY)
        make_attribution(incident, actor, source, stance="denied", published_on=DAY + datetime.timedelta(1))
        assert not incident.perpetrators.exists()

    def test_perpetrators_follow_the_attributions_and_cannot_be_edited_in_the_form(self, analyst_client):
        incident = make_incident(status="draft")
        attribution = make_attribution(incident, make_actor("Gunmen"))
        assert [a.name for a in incident.perpetrators.all()] == ["Gunmen"]
        form = (
            analyst_client.get(f"/admin/incidents/incident/{incident.pk}/change/").context["adminform"].form
        )
        assert "perpetrators" not in form.fields and "claimed_by" not in form.fields
        attribution.delete()
        assert not incident.perpetrators.exists()

    def test_a_change_to_a_published_attribution_is_a_correction(self, client):
        incident = make_incident()
        attribution = make_attribution(incident, make_actor("Gunmen"), make_source("Local council"))
        attribution.stance = "denied"
        attribution.save()
        assert (
            "an attribution was corrected from “Local council alleged Gunmen” "
            "to “Local council denied Gunmen”" in (page_text(client, incident.get_absolute_url()))
        )


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_what_an_incident_with_perpetrators_and_a_claim_read():
    executor = MigrationExecutor(connection)
    before, after = (
        [("incidents", "0008_figures_that_mean_what_they_say")],
        [("incidents", "0009_attributions_per_source")],
    )
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    Location, Incident, Source = (
        apps.get_model("incidents", name) for name in ("Location", "Incident", "Source")
    )
    Actor, TollReport = apps.get_model("incidents", "Actor"), apps.get_model("incidents", "TollReport")
    place = Location.objects.create(name="Homs", kind="locality", slug="homs", path="/1/")
    incident = Incident.objects.create(
        title="Strike", slug="strike", kind="air_strike", start_date=DAY, location=place
    )
    moh = Source.objects.create(name="MoH", slug="moh", kind="government")
    TollReport.objects.create(incident=incident, source=moh, published_on=DAY, killed=9, is_current=True)
    drones = Actor.objects.create(name="Drone operators", slug="drones", kind="unidentified")
    group = Actor.objects.create(name="Some group", slug="group", kind="non_state_group")
    incident.perpetrators.add(drones)
    incident.claimed_by.add(group)
    # An actor that did it and claimed it, whose own statements are also a source of figures.
    claimed = Incident.objects.create(
        title="Bombing", slug="bombing", kind="attack", start_date=DAY, location=place
    )
    isis = Actor.objects.create(name="Islamic State", slug="is", kind="non_state_group")
    isis_source = Source.objects.create(name="Islamic State", slug="is-source", kind="armed_group")
    for source in (moh, isis_source):
        TollReport.objects.create(
            incident=claimed, source=source, published_on=DAY, killed=4, is_current=True
        )
    claimed.perpetrators.add(isis)
    claimed.claimed_by.add(isis)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    apps = executor.loader.project_state(after).apps
    migrated = apps.get_model("incidents", "Incident").objects.get(pk=incident.pk)
    assert [a.name for a in migrated.perpetrators.all()] == ["Drone operators"]
    assert [a.name for a in migrated.claimed_by.all()] == ["Some group"]
    stances = {
        (a.source.name, a.stance, a.actor.name)
        for a in apps.get_model("incidents", "Attribution").objects.all()
    }
    assert stances == {
        ("MoH", "alleged", "Drone operators"),
        ("Some group", "claimed", "Some group"),
        ("MoH", "alleged", "Islamic State"),
        ("Islamic State", "claimed", "Islamic State"),
    }
    history = apps.get_model("incidents", "HistoricalAttribution").objects.all()
    assert sorted(h.history_type for h in history) == ["+"] * 4  # a later removal is a correction
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_a_source_that_only_says_who_did_it_has_a_public_page(client):
    incident = make_incident("Hospital explosion")
    denial = make_source("Palestinian Islamic Jihad", kind="armed_group")
    make_attribution(incident, make_actor("Palestinian Islamic Jihad"), denial, stance="denied")
    response = client.get(denial.get_absolute_url())
    assert response.status_code == 200
    assert "Hospital explosion" in page_text(client, denial.get_absolute_url())
    draft_only = make_source("Draft-only voice")
    make_attribution(make_incident(status="draft"), make_actor(), draft_only)
    assert client.get(draft_only.get_absolute_url()).status_code == 404


def test_a_part_cycle_is_refused_even_by_a_queryset_update():
    wave, day = make_incident("Wave"), make_incident("Day")
    day.part_of = wave
    day.save()
    with pytest.raises(ValueError, match="part of its own part"), transaction.atomic():
        Incident.objects.filter(pk=wave.pk).update(part_of=day)
    wave.refresh_from_db()
    assert wave.part_of is None


def test_removing_a_migrated_attribution_from_a_published_incident_is_a_correction(client):
    incident = make_incident()
    attribution = make_attribution(incident, make_actor("Gunmen"), make_source("Council"))
    Attribution.history.filter(id=attribution.pk).delete()  # as if made before history was kept
    attribution.delete()
    assert "the attribution “Council alleged Gunmen” was removed" in page_text(
        client, incident.get_absolute_url()
    )
