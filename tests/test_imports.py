"""Importing UCDP GED and ACLED files: mapping, re-imports, dry runs, bad rows."""

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident, Location, Source, TollReport

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def run(command, filename, *args):
    """Run an import that may skip rows (accepted: ``--allow-skips``); its stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command(command, str(DATA / filename), "--allow-skips", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def ucdp(event_id):
    return Incident.objects.get(
        reports__dataset="ucdp", reports__dataset_event_id=event_id, reports__killed_counts="all"
    )


def event(dataset, event_id):
    return Incident.objects.get(
        reports__dataset=dataset, reports__dataset_event_id=event_id, reports__killed_counts="all"
    )


class TestUcdp:
    def test_each_event_becomes_a_draft_incident_with_its_place_chain_actors_and_range(self):
        out, err = run("import_ucdp", "ucdp_ged.csv", "--release-date", "2024-06-01")
        assert (
            "5 created, 0 attached to incidents already recorded, 0 updated, 0 unchanged, 1 skipped." in out
        )
        homs = ucdp("501")
        assert homs.status == "draft" and homs.kind == "armed_clash"
        assert homs.location.chain == "Homs town, Hims district, Hims governorate, Syria"
        assert homs.location.latitude is not None and homs.location_precision == "exact"
        assert (homs.latitude, homs.longitude) == (Decimal("34.732400"), Decimal("36.713700"))
        # State-based conflict: UCDP names two sides, not a perpetrator.
        assert not homs.perpetrators.exists() and not homs.attributions.exists()
        report = homs.reports.get(killed_counts="all")
        assert "parties involved: Government of Syria; Syrian insurgents" in report.note
        assert report.source.name == "UCDP GED" and report.source.kind == Source.Kind.DATASET
        assert (report.dataset, report.dataset_event_id) == ("ucdp", "501")
        # low, best and high kept whole: one report, between low and high, with its best estimate.
        assert report.killed_figure.as_stated() == "between 89 and 123" and report.killed_best == 100
        assert report.civilians is None and report.published_on == datetime.date(2024, 6, 1)
        assert (
            "deaths by side (best estimates): Government of Syria 40, Syrian insurgents 0, civilians 60"
            in (report.note)
        )
        assert "number of sources: 3" in report.note
        # The civilian deaths are a civilian figure of their own, not an "of whom" bound on low–high.
        civilians = homs.reports.get(killed_counts="civilians")
        assert civilians.killed_figure.as_stated() == "60" and civilians.dataset_event_id == "501"
        assert (
            '""' not in report.quote
            and '"Drone attack on Homs military academy kills dozens"' in report.quote
        )
        assert homs.toll.short() == "89–123" and (homs.civilians_lowest, homs.civilians_highest) == (60, 60)

    def test_precision_codes_and_missing_admin_levels(self):
        run("import_ucdp", "ucdp_ged.csv")
        one_sided = ucdp("502")
        assert one_sided.kind == "attack" and one_sided.location.chain == "Idlib governorate, Syria"
        assert one_sided.location_precision == "admin1" and one_sided.date_precision == "days"
        assert one_sided.latitude is None  # a governorate's centre is not where it happened
        assert one_sided.end_date == datetime.date(2023, 10, 6)
        assert [a.name for a in one_sided.perpetrators.all()] == ["Government of Syria"]
        attribution = one_sided.attributions.get()  # one-sided violence: side A did it, says UCDP
        assert (attribution.source.name, attribution.stance) == ("UCDP GED", "alleged")
        assert attribution.report == one_sided.reports.get(killed_counts="all")
        assert "number of sources: unknown" in attribution.report.note
        country_level = ucdp("503")
        assert country_level.location.kind == "country" and country_level.location_precision == "country"
        assert country_level.date_precision == "month"

    @pytest.mark.parametrize(
        "where_prec, precision",
        [("1", "exact"), ("2", "near"), ("3", "admin2"), ("4", "admin1"), ("5", "region"), ("6", "country"),
         ("7", "water_airspace")],
    )  # fmt: skip
    def test_where_prec_maps_to_location_precision(self, where_prec, precision):
        from incidents.importing.ucdp import map_ucdp

        row = {**UCDP_ROW, "where_prec": where_prec, "where_coordinates": "Homs town"}
        assert map_ucdp(row, datetime.date(2024, 1, 1)).location_precision == precision

    def test_bad_rows_are_skipped_with_their_reason_and_odd_ones_kept_and_flagged(self):
        out, _ = run("import_ucdp", "ucdp_ged.csv")
        assert "row 5: best is not a number: 'five'" in out
        assert not TollReport.objects.filter(dataset_event_id="504").exists()
        assert not Location.objects.filter(name="Sarmin").exists()  # nothing of the skipped row is left
        # low (12) above high (8): the dataset's event is kept, read as the range it spans, and flagged.
        assert "row 6: low (12) is above high (8): read as between 8 and 12" in out
        assert ucdp("505").reports.get().killed_figure.as_stated() == "between 8 and 12"
        assert "row 7: deaths_civilians (50) is above high (5)" in out
        assert ucdp("506").is_contradictory  # 50 civilians, 5 killed: both as UCDP gives them

    def test_re_importing_the_same_file_changes_nothing(self):
        run("import_ucdp", "ucdp_ged.csv")
        history = Incident.history.count(), TollReport.history.count()
        out, _ = run("import_ucdp", "ucdp_ged.csv")
        assert "0 created, 0 attached to incidents already recorded, 0 updated, 5 unchanged" in out
        assert Incident.objects.count() == 5 and TollReport.objects.count() == 9
        assert (Incident.history.count(), TollReport.history.count()) == history

    def test_a_newer_release_from_the_humanitarian_data_exchange_updates_in_place(self):
        run("import_ucdp", "ucdp_ged.csv")
        out, _ = run("import_ucdp", "ucdp_ged_hdx.csv")  # HXL row under the header; high now 130
        assert (
            "0 created, 0 attached to incidents already recorded, 1 updated, 0 unchanged, 0 skipped." in out
        )
        assert Incident.objects.filter(reports__dataset_event_id="501").distinct().count() == 1
        assert ucdp("501").toll.short() == "89–130"
        report = ucdp("501").reports.get(killed_counts="all")
        assert report.history.count() == 2  # the earlier figure is in the history
        assert report.history.earliest().killed_upper == 123

    def test_a_dry_run_validates_and_writes_nothing(self):
        out, _ = run("import_ucdp", "ucdp_ged.csv", "--dry-run")
        assert out.startswith("Dry run, nothing written: 5 created")
        assert Incident.objects.count() == 0 and Location.objects.count() == 0 and Source.objects.count() == 0

    def test_atomic_undoes_everything_at_the_first_bad_row(self):
        with pytest.raises(CommandError, match="Nothing was imported .* row 5: best is not a number"):
            run("import_ucdp", "ucdp_ged.csv", "--atomic")
        assert Incident.objects.count() == 0

    def test_atomic_imports_a_clean_file(self):
        out, _ = run("import_ucdp", "ucdp_ged_hdx.csv", "--atomic", "--publish")
        assert "1 created" in out and ucdp("501").is_published

    def test_a_progress_bar_is_drawn(self):
        _, err = run("import_ucdp", "ucdp_ged.csv")
        assert "6/6" in err and "rows" in err

    def test_a_missing_file_is_a_clear_error(self):
        with pytest.raises(CommandError, match="No such file"):
            call_command("import_ucdp", "/nonexistent.csv")


class TestAcled:
    def test_each_event_becomes_an_incident_with_an_at_least_figure(self):
        out, _ = run("import_acled", "acled.csv")
        assert (
            "3 created, 0 attached to incidents already recorded, 0 updated, 0 unchanged, 2 skipped." in out
        )
        assert "row 5: event_date is not a date: 'not a date'" in out
        assert "row 6: fatalities is negative: -4" in out
        homs = event("acled", "SYR1001")
        assert homs.kind == "air_strike" and homs.title == "Air/drone strike in Homs"
        assert homs.location.chain == "Homs, Homs, Homs, Homs, Syria"
        report = homs.reports.get()
        assert report.killed_figure.as_stated() == "at least 89" and report.source.name == "ACLED"
        assert report.quote.startswith("On 5 October 2023, drones struck") and '"at least 89"' in report.quote
        assert "original sources: SANA; Syrian Observatory for Human Rights" in report.note
        assert report.published_on == datetime.date(2023, 10, 7)  # from the timestamp
        # Remote violence by an unidentified group: no one is named, so no attribution.
        assert not homs.perpetrators.exists()
        assert (
            "parties involved: Unidentified Armed Group (Syria); Military Forces of Syria (2000-)"
            in report.note
        )

    def test_actors_kinds_and_precisions(self):
        run("import_acled", "acled.csv")
        shelling = event("acled", "SYR1002")
        assert shelling.kind == "shelling" and shelling.date_precision == "week"
        assert {a.name: a.kind for a in shelling.perpetrators.all()} == {
            "Military Forces of Syria (2000-)": "state_forces",
            "Military Forces of Russia (1991-)": "state_forces",
        }
        clash = event("acled", "SYR1003")
        assert clash.location_precision == "near" and clash.location.chain == "Sarmin, Ariha, Idleb, Syria"
        assert not clash.perpetrators.exists()  # a battle names parties, not a perpetrator
        assert (
            "parties involved: Hayat Tahrir al Sham; Military Forces of Syria (2000-)"
            in clash.reports.get().note
        )
        assert clash.reports.get().killed_figure.as_stated() == "0"  # ACLED's zero is a real zero
        assert clash.toll.short() == "0"

    def test_an_older_upper_case_file_with_an_hxl_row_and_day_first_dates(self):
        out, _ = run("import_acled", "acled_old.csv")
        assert "1 created" in out and "0 skipped" in out
        drc = event("acled", "DRC1")
        assert drc.start_date == datetime.date(2001, 4, 18) and drc.kind == "attack"
        assert [a.name for a in drc.perpetrators.all()] == ["Mai-Mai Militia"]

    def test_re_import_is_idempotent(self):
        run("import_acled", "acled.csv")
        out, _ = run("import_acled", "acled.csv")
        assert (
            "0 created, 0 attached to incidents already recorded, 0 updated, 3 unchanged, 2 skipped." in out
        )


def test_imported_data_round_trips_through_the_exports(editor_client):
    run("import_ucdp", "ucdp_ged.csv", "--publish", "--release-date", "2024-06-01")
    run("import_acled", "acled.csv", "--publish")
    body = b"".join(editor_client.get("/export/incidents.csv?sort=oldest").streaming_content).decode()
    rows = {(r["title"], r["start_date"]): r for r in csv.DictReader(io.StringIO(body))}
    # ACLED's Homs strike lies at UCDP's Homs town (same coordinates): the same event, one incident.
    assert len(rows) == 7
    homs = next(r for r in rows.values() if "UCDP GED: between 89 and 123" in r["figures"])
    assert "ACLED: at least 89 (2023-10-07)" in homs["figures"]
    assert (homs["killed_lowest"], homs["killed_highest"], homs["killed_highest_open"]) == (
        "89",
        "123",
        "false",
    )
    assert homs["admin1"] == "Hims governorate" and homs["admin2"] == "Hims district"
    assert (homs["latitude"], homs["longitude"]) == ("34.732400", "36.713700")
    reports = list(csv.DictReader(io.StringIO(
        b"".join(editor_client.get("/export/reports.csv").streaming_content).decode()
    )))  # fmt: skip
    assert {r["source"] for r in reports} == {"UCDP GED", "ACLED"}
    ucdp_homs = next(r for r in reports if r["dataset_event_id"] == "501" and r["killed_counts"] == "all")
    assert (ucdp_homs["killed_as_reported"], ucdp_homs["killed_best"]) == ("between 89 and 123", "100")
    assert {r["dataset_event_id"] for r in reports if r["source"] == "ACLED"} == {
        "SYR1001",
        "SYR1002",
        "SYR1003",
    }


UCDP_ROW = {
    "id": "9", "type_of_violence": "1", "date_start": "2023-10-05", "low": "1", "best": "2", "high": "3",
    "country": "Syria", "side_a": "Government of Syria", "side_b": "IS",
}  # fmt: skip


ACLED_ROW = {
    "event_id_cnty": "SYR9", "event_date": "2023-10-05", "time_precision": "1", "country": "Syria",
    "admin1": "Idleb", "location": "Sarmin", "fatalities": "3", "sub_event_type": "Attack",
    "actor2": "Civilians (Syria)", "inter1": "State forces", "inter2": "Civilians",
}  # fmt: skip


@pytest.mark.parametrize(
    "event_type, actor1, alleged",
    [
        (
            "Violence against civilians",
            "Military Forces of Syria (2000-)",
            ["Military Forces of Syria (2000-)"],
        ),
        (
            "Violence against civilians",
            "Unidentified Armed Group (Syria)",
            ["Unidentified Armed Group (Syria)"],
        ),
        (
            "Explosions/Remote violence",
            "Military Forces of Russia (1991-)",
            ["Military Forces of Russia (1991-)"],
        ),
        ("Explosions/Remote violence", "Unidentified Armed Group (Syria)", []),
        ("Remote violence", "Military Forces of Syria (2000-)", ["Military Forces of Syria (2000-)"]),
        ("Battles", "Hayat Tahrir al Sham", []),
        ("Protests", "Protesters (Syria)", []),
        ("Riots", "Rioters (Syria)", []),
        ("Strategic developments", "Military Forces of Syria (2000-)", []),
    ],
)
def test_acled_names_a_perpetrator_only_where_its_event_type_gives_a_direction(event_type, actor1, alleged):
    from incidents.importing.acled import map_acled

    event = map_acled({**ACLED_ROW, "event_type": event_type, "actor1": actor1}, datetime.date(2024, 1, 1))
    assert [name for name, _ in event.perpetrators] == alleged
    assert event.parties == [actor1]  # "Civilians (Syria)" is the target, not a party that acted


@pytest.mark.parametrize(
    "violence, alleged",
    [("1", []), ("2", []), ("3", ["Government of Syria"])],
    ids=["state", "non-state", "one-sided"],
)
def test_ucdp_names_side_a_as_perpetrator_only_for_one_sided_violence(violence, alleged):
    from incidents.importing.ucdp import map_ucdp

    row = {
        "id": "9", "type_of_violence": violence, "date_start": "2023-10-05", "low": "1", "best": "2",
        "high": "3", "country": "Syria", "side_a": "Government of Syria",
        "side_b": "Civilians" if violence == "3" else "IS",
    }  # fmt: skip
    event = map_ucdp(row, datetime.date(2024, 1, 1))
    assert [name for name, _ in event.perpetrators] == alleged
    assert event.parties[0] == "Government of Syria"
