"""Importing UCDP GED and ACLED files: mapping, re-imports, dry runs, bad rows."""

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.imports import synthetic_ged
from incidents import dataversion, tolls, workflow
from incidents.importing import DATASETS
from incidents.importing.base import RowError
from incidents.importing.importer import (
    CHECKED_REPORT_FIELDS,
    INCIDENT_FIELDS,
    Importer,
    describe,
    run_import,
    validate,
)
from incidents.models import Attribution, Incident, Location, Source, TollReport
from incidents.models.incidents import incident_errors
from incidents.models.reports import report_errors
from incidents.rows import (
    FieldChecks,
    Row,
    Table,
    as_is_type,
    copy_line,
    copy_text,
    plain_text_limit,
    preparer,
)
from tests.factories import (
    current_report_ids,
    fresh_range,
    make_incident,
    make_location,
    make_report,
    make_source,
    stored_range,
)
from tests.test_totals import assert_totals_kept

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
        # One-sided violence: side B is "Civilians", whose deaths are the civilian count alone.
        one_sided = ucdp("502").reports.get(killed_counts="all").note
        assert "deaths by side (best estimates): Government of Syria 0, civilians 17, unknown 0" in one_sided
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

    def test_a_progress_bar_is_drawn_in_place(self):
        _, err = run("import_ucdp", "ucdp_ged.csv")
        assert "6/6" in err and "rows" in err
        # Redrawn over itself (carriage returns), one line in all, never a line per redraw.
        assert "\r" in err and err.count("\n") <= 1

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


# --- The batched path: plain rows, bulk statements, and every rule kept --------------------------


def write_ucdp(tmp_path, name, change=None, ids=None):
    """The sample GED file (or the rows with ``ids``), with ``change`` {column: value} on each row."""
    with open(DATA / "ucdp_ged.csv", newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    rows = [row for row in rows if ids is None or row[0] in ids]
    for row in rows:
        for column, value in (change or {}).items():
            row[header.index(column)] = value
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


FUTURE = datetime.date.today() + datetime.timedelta(days=400)
REPORT = {"killed": 10, "killed_qualifier": "exact", "published_on": datetime.date(2023, 10, 6),
          "dataset": "ucdp", "dataset_event_id": "501", "killed_counts": "all"}  # fmt: skip


@pytest.mark.parametrize(
    "values",
    [
        {"killed": -1},
        {"killed_qualifier": "dozens"},
        {"killed_qualifier": "nonsense"},
        {"killed_upper": 12},
        {"killed_qualifier": "between", "killed_upper": 5},
        {"killed_qualifier": "between", "killed_upper": 15, "killed_best": 20},
        {"civilians": 50},
        {"killed_counts": "civilians", "civilians": 3},
        {"killed_counts": "everyone"},
        {"published_on": FUTURE},
        {"published_on": datetime.date(2023, 10, 1)},
        {"dataset_event_id": "9" * 65},
        {"killed": None, "killed_qualifier": "at_least"},
    ],
    ids=str,
)
def test_the_import_refuses_a_report_with_the_words_full_clean_uses(values):
    incident = make_incident(start_date=datetime.date(2023, 10, 5))
    source = make_source()
    report = TollReport(incident=incident, source=source, **{**REPORT, **values})
    with pytest.raises(ValidationError) as by_the_model:
        report.full_clean(validate_unique=False, validate_constraints=False)
    row = Table(TollReport).defaults(incident_id=incident.pk, source_id=source.pk, **{**REPORT, **values})
    checks = FieldChecks(TollReport, CHECKED_REPORT_FIELDS)
    with pytest.raises(RowError) as by_the_import:
        validate(row, checks, report_errors, incident_start=incident.start_date)
    assert str(by_the_import.value) == describe(by_the_model.value)
    # A value once accepted is remembered, not trusted: the same bad row is refused again.
    with pytest.raises(RowError):
        again = Table(TollReport).defaults(**{**REPORT, **values})
        validate(again, checks, report_errors, incident_start=incident.start_date)


INCIDENT = {"title": "Shelling of Idlib", "kind": "shelling", "start_date": datetime.date(2023, 10, 5),
            "date_precision": "day", "location_precision": "exact"}  # fmt: skip


@pytest.mark.parametrize(
    "values",
    [
        {"start_date": FUTURE},
        {"end_date": datetime.date(2023, 10, 1)},
        {"end_date": FUTURE},
        {"latitude": Decimal("91"), "longitude": Decimal("36")},
        {"latitude": Decimal("35.5")},
        {"kind": "bombing"},
        {"date_precision": "decade"},
        {"location_precision": "street"},
        {"title": "x" * 201},
        {"title": ""},
        {"place": "p" * 201},
        {"latitude": Decimal("35.1234567"), "longitude": Decimal("36")},
    ],
    ids=str,
)
def test_the_import_refuses_an_incident_with_the_words_full_clean_uses(values):
    place = make_location("Idlib")
    with pytest.raises(ValidationError) as by_the_model:
        Incident(location=place, **{**INCIDENT, **values}).full_clean(
            validate_unique=False, validate_constraints=False
        )
    row = Table(Incident).defaults(location_id=place.pk, **{**INCIDENT, **values})
    with pytest.raises(RowError) as by_the_import:
        validate(row, FieldChecks(Incident, INCIDENT_FIELDS), incident_errors)
    assert str(by_the_import.value) == describe(by_the_model.value)


def test_values_go_to_the_database_as_django_prepares_them():
    """``rows`` skips a field's conversion only where Django's would hand the value on unchanged."""

    samples = {str: ["", "Idlib", "حمص", Incident.Status.DRAFT], int: [0, 7, -3], bool: [True, False]}
    models_written = [Incident, TollReport, Attribution, Location]
    for model in [*models_written, *(m.history.model for m in models_written)]:
        for field in model._meta.concrete_fields:
            prepare = preparer(field)
            for value in [None, *samples.get(as_is_type(field, connection), [])]:
                assert prepare(value) == field.get_db_prep_save(value, connection), (field, value)
            if field.get_internal_type() == "DateField":  # prepared once, then reused
                day = datetime.date(2023, 10, 5)
                assert prepare(day) == prepare(day) == field.get_db_prep_save(day, connection)


PLAIN_TEXT_FIELDS = [
    field
    for model in (Incident, TollReport, Attribution, Location)
    for field in model._meta.concrete_fields
    if plain_text_limit(field)
]


def test_only_free_text_fields_are_taken_as_plain_text():
    names = {f"{field.model.__name__}.{field.name}" for field in PLAIN_TEXT_FIELDS}
    assert {"Incident.title", "Incident.summary", "TollReport.quote", "Location.name"} <= names
    for refused in ("Incident.kind", "Incident.slug", "TollReport.killed_qualifier", "TollReport.killed"):
        assert refused not in names  # choices, a slug's validator, a number


@given(st.sampled_from(PLAIN_TEXT_FIELDS), st.text(min_size=1, max_size=300))
def test_a_text_the_import_passes_unchecked_is_one_the_fields_clean_returns_unchanged(field, text):
    """``FieldChecks`` skips ``clean()`` for a non-empty text within ``plain_text_limit``: the
    field's own checks must accept it as it is; a longer text is checked, and refused."""
    row = Row({field.attname: text})
    errors = FieldChecks(field.model, [field.attname]).errors(row)
    if len(text) <= plain_text_limit(field):
        assert not errors and row[field.attname] == field.clean(text, None) == text
    else:
        assert list(errors) == [field.name]
        with pytest.raises(ValidationError):
            field.clean(text, None)


def test_a_bad_row_is_skipped_with_the_models_message_and_leaves_nothing(tmp_path):
    long_id = write_ucdp(tmp_path, "long.csv", change={"id": "9" * 70}, ids={"505"})
    out, _ = run("import_ucdp", str(long_id))
    assert "0 created" in out and "1 skipped" in out
    assert "row 2: dataset_event_id: Ensure this value has at most 64 characters (it has 70)." in out
    future = write_ucdp(tmp_path, "future.csv", change={"date_start": "2999-01-01", "date_end": ""})
    out, _ = run("import_ucdp", str(future))
    assert "start_date: This date is in the future: enter the day the incident happened." in out
    out, _ = run("import_ucdp", "ucdp_ged.csv", "--release-date", FUTURE.isoformat())
    assert "0 created" in out and "published_on: This date is in the future." in out
    assert not Incident.objects.exists() and not TollReport.objects.exists()


def test_every_record_an_import_writes_has_its_history_row():
    run("import_ucdp", "ucdp_ged.csv", "--release-date", "2024-06-01")
    for model, compared in [
        (Incident, ["title", "slug", "kind", "start_date", "location_id", "latitude", "status"]),
        (TollReport, ["incident_id", "killed", "killed_upper", "killed_best", "published_on", "note"]),
        (Attribution, ["incident_id", "actor_id", "report_id", "stance", "published_on"]),
        (Location, ["name", "parent_id", "slug", "latitude"]),
    ]:
        records = list(model.objects.values("id", *compared))
        assert records, model
        history = {
            row["id"]: row
            for row in model.history.filter(history_type="+", history_change_reason="import ucdp").values(
                "id", *compared
            )
        }
        assert model.history.count() == len(records) == len(history), model
        assert all(history[record["id"]] == record for record in records), model


def test_a_changed_event_updates_its_incident_with_history_version_and_search_text(tmp_path):
    run("import_ucdp", "ucdp_ged.csv")
    before = ucdp("505")
    changed = write_ucdp(tmp_path, "changed.csv", change={"where_description": "قرب بنش"}, ids={"505"})
    out, _ = run("import_ucdp", str(changed))
    assert "1 updated" in out
    after = ucdp("505")
    assert after.place == "قرب بنش" and after.version == before.version + 1
    assert after.search_ar == after.folded_arabic() and after.search_ar  # as a save keeps it
    assert after.updated_at > before.updated_at
    latest = after.history.latest()
    assert (latest.history_type, latest.history_change_reason, latest.place) == (
        "~",
        "import ucdp",
        "قرب بنش",
    )
    assert Incident.objects.filter(search_ar__contains=after.search_ar).get() == after


def test_an_imported_batch_leaves_true_figures_and_month_totals():
    run("import_ucdp", "ucdp_ged.csv", "--publish")
    run("import_acled", "acled.csv", "--publish")
    for incident in Incident.objects.all():
        assert incident.is_published and stored_range(incident) == fresh_range(incident)
        assert all(len(ids) == 1 for ids in current_report_ids(incident).values())
    # The month, place and source totals (the source pages) count them, as if counted afresh.
    assert_totals_kept()


def test_small_batches_import_what_one_batch_does():
    dataset, name, short_name, website, mapper, required = DATASETS["ucdp"]

    def imported(batch_size):
        importer = Importer(dataset=dataset, source=(name, short_name, website), batch_size=batch_size)
        summary = run_import(
            DATA / "ucdp_ged.csv",
            mapper=lambda row: mapper(row, datetime.date(2024, 6, 1)),
            importer=importer,
            required_columns=required,
        )
        return (
            list(summary.lines()),
            sorted(
                Incident.objects.values_list(
                    "title", "location__chain", "killed_lowest", "killed_highest", "civilians_lowest"
                )
            ),
            sorted(Location.objects.values_list("chain", "kind")),
        )

    with transaction.atomic():
        whole = imported(1000)
        transaction.set_rollback(True)
    assert imported(2) == whole


def test_a_batch_the_database_refuses_is_written_again_row_by_row(monkeypatch):
    insert = Table.insert

    def refusing(self, rows, **options):
        rows = list(rows)
        if self.model is TollReport and any(row["dataset_event_id"] == "502" for row in rows):
            raise IntegrityError("refused for the test")
        return insert(self, rows, **options)

    monkeypatch.setattr(Table, "insert", refusing)
    out, _ = run("import_ucdp", "ucdp_ged.csv")
    assert "4 created" in out and "row 3: the database refused it: refused for the test" in out
    assert not TollReport.objects.filter(dataset_event_id="502").exists()
    assert Incident.objects.count() == 4 and Incident.history.count() == 4  # nothing of row 3 left
    assert Location.objects.filter(name="Idlib governorate").count() == 1


def test_an_import_moves_the_data_version_on_per_statement_not_per_row(tmp_path):
    path = tmp_path / "ged.csv"
    synthetic_ged(path, 60)
    before = dataversion.current().changes
    run("import_ucdp", str(path))
    after = dataversion.current().changes
    written = Incident.objects.count() + TollReport.objects.count() + Location.objects.count()
    assert written > 150 and 0 < after - before < 60


def test_on_postgresql_an_import_analyses_the_tables_it_fills_as_they_grow(monkeypatch):
    """Else PostgreSQL plans each batch's lookups from statistics of a far smaller table (or none),
    reads whole tables, and the import slows down as it goes."""
    monkeypatch.setattr("incidents.importing.importer.ANALYZE_FROM", 2)
    statements = []

    def watch(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        run("import_ucdp", "ucdp_ged.csv")  # 5 incidents: from 2, analysed once (4 would be the next)
    analysed = [sql for sql in statements if sql.startswith("ANALYZE")]
    assert len(analysed) == (1 if connection.vendor == "postgresql" else 0)
    assert all('"incidents_tollreport"' in sql and '"incidents_incident"' in sql for sql in analysed)


# --- Bulk writes: COPY on PostgreSQL, figures in the INSERT, publishing many at once -----------


# On PostgreSQL ``Table.insert`` sends many rows with COPY and a few with one INSERT: each test of
# what it writes runs both ways (on SQLite both are INSERTs).
BOTH_WRITES = pytest.mark.parametrize("copy_from_rows", [1, 10_000], ids=["copy", "insert"])


@BOTH_WRITES
def test_rows_written_in_bulk_keep_every_character_and_move_the_data_version_on_in_their_transaction(
    copy_from_rows, monkeypatch
):
    """COPY goes past the data version's statement watcher: the version must still move on, and
    be undone with the rows."""
    monkeypatch.setattr("incidents.rows.COPY_FROM_ROWS", copy_from_rows)
    country = make_location("Syria", kind="country")
    awkward = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", "\\N", "", "حمص"]
    table = Table(Location)
    rows = [
        table.defaults(name=name or "-", name_ar=name, kind="locality", parent_id=country.pk, slug=f"p-{i}")
        for i, name in enumerate(awkward)
    ]
    before = dataversion.current().changes
    with transaction.atomic():
        table.insert(rows, match_on=["slug"])
        written = dataversion.current().changes
        stored = dict(Location.objects.filter(slug__startswith="p-").values_list("pk", "name_ar"))
        transaction.set_rollback(True)
    assert stored == {row["id"]: name for row, name in zip(rows, awkward, strict=True)}
    assert written > before  # readers' cached pages are stale from this commit on
    assert dataversion.current().changes == before  # undone with the rows
    assert not Location.objects.filter(slug__startswith="p-").exists()


COPY_VALUES = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(["a", "N", "\\", "\t", "\n", "\r", "ح", " "])),
    st.text(),
    st.integers(),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.just(datetime.timezone.utc)),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.sampled_from([Incident.Status.DRAFT, Incident.Kind.AIR_STRIKE]),
)


@given(st.lists(COPY_VALUES, min_size=1, max_size=8))
def test_a_copy_line_is_each_value_in_copy_text_however_awkward(values):
    """The fast line (texts passed whole) is exactly the value-by-value line, whatever the text."""
    assert copy_line(values) == "\t".join(map(copy_text, values))


@pytest.mark.postgres
def test_rows_are_copied_through_djangos_debug_cursor_too():
    """With DEBUG on (``make run``) or queries captured, Django wraps each cursor to log its
    queries; the wrapper's ``copy_expert`` takes no keyword arguments."""
    country = make_location("Syria", kind="country")
    table = Table(Location)
    rows = [
        table.defaults(name="Idlib", name_ar="إدلب", kind="admin1", parent_id=country.pk, slug="idlib-copied")
    ]
    with CaptureQueriesContext(connection) as captured:
        table.copy(rows)
    assert Location.objects.get(slug="idlib-copied").name_ar == "إدلب"
    assert any(query["sql"].startswith("COPY") for query in captured)


@pytest.mark.postgres
def test_a_report_saved_alone_is_written_by_insert_not_by_copy():
    """A single save (the admin's) writes its few derived rows (source shares, actors) with one
    INSERT each: a COPY would cost a savepoint and a numbering query more for each."""
    incident = make_incident()
    with CaptureQueriesContext(connection) as captured:
        make_report(incident, source=make_source("Syrian Observatory for Human Rights"), killed=120)
    statements = [query["sql"] for query in captured]
    assert any('INSERT INTO "incidents_sourceshare"' in sql for sql in statements)
    assert not [sql for sql in statements if sql.startswith("COPY") or "nextval" in sql]


@pytest.mark.postgres
def test_an_error_in_making_the_copy_lines_is_raised_as_itself_not_as_the_databases(monkeypatch):
    """psycopg2 turns an error raised while COPY's lines are made into the COPY's failure (a
    DatabaseError, which an import would take for a row the database refused and skip): it
    must come out as the error it is, and nothing be written."""
    country = make_location("Syria", kind="country")
    table = Table(Location)
    rows = [
        table.defaults(name=f"Place {n}", name_ar="", kind="admin1", parent_id=country.pk, slug=f"copied-{n}")
        for n in range(3)
    ]

    def copy_line_with_a_bug(values):
        if "copied-2" in values:
            raise TypeError("No COPY text for a row of this test")
        return copy_line(values)

    monkeypatch.setattr("incidents.rows.copy_line", copy_line_with_a_bug)
    with pytest.raises(TypeError, match="No COPY text"), transaction.atomic():
        table.copy(rows)
    assert not Location.objects.filter(slug__startswith="copied-").exists()


@BOTH_WRITES
def test_a_row_the_database_refuses_in_a_bulk_write_is_djangos_integrity_error(copy_from_rows, monkeypatch):
    """What an import catches to write a refused batch again row by row: on PostgreSQL many rows
    go by COPY, past Django's cursor, and its refusal must still be Django's error."""
    monkeypatch.setattr("incidents.rows.COPY_FROM_ROWS", copy_from_rows)
    country = make_location("Syria", kind="country")
    make_location("Idlib", kind="admin1", parent=country, slug="taken")
    table = Table(Location)
    row = table.defaults(name="Idlib again", name_ar="", kind="admin1", parent_id=country.pk, slug="taken")
    with pytest.raises(IntegrityError), transaction.atomic():
        table.insert([row], match_on=["slug"])


def test_new_incidents_are_written_with_the_figures_the_one_writer_gives_them(tmp_path):
    """An import stores a new incident's figures and current reports in the same INSERT;
    ``tolls.refresh()`` reading them afresh finds nothing to change."""
    path = tmp_path / "ged.csv"
    synthetic_ged(path, 80)
    run("import_ucdp", str(path))
    figure_fields = ["pk", *Incident.FIGURE_FIELDS]
    as_imported = list(Incident.objects.order_by("pk").values_list(*figure_fields))
    current = set(TollReport.objects.filter(is_current=True).values_list("pk", flat=True))
    perpetrators = list(Incident.perpetrators.through.objects.values_list("incident_id", "actor_id"))
    assert len(as_imported) == 80 and len(current) == TollReport.objects.count() == 160
    assert any(row[1] is not None for row in as_imported) and perpetrators
    tolls.refresh([row[0] for row in as_imported])
    assert list(Incident.objects.order_by("pk").values_list(*figure_fields)) == as_imported
    assert set(TollReport.objects.filter(is_current=True).values_list("pk", flat=True)) == current
    assert sorted(Incident.perpetrators.through.objects.values_list("incident_id", "actor_id")) == sorted(
        perpetrators
    )
    for incident in Incident.objects.all()[:10]:
        assert stored_range(incident) == fresh_range(incident)
    assert_totals_kept()  # their source shares too, which a source page adds once they are published


def test_an_import_with_publish_publishes_every_new_incident_and_the_home_page_adds_them_up(client, tmp_path):
    path = tmp_path / "ged.csv"
    synthetic_ged(path, 120)
    started = timezone.now()
    run("import_ucdp", str(path), "--publish", "--release-date", "2024-06-01")
    incidents = Incident.objects.all()
    assert incidents.count() == 120 and not incidents.exclude(status="published").exists()
    assert not incidents.filter(published_at__lt=started).exists()
    assert not incidents.filter(published_by__isnull=False).exists()  # a command, not a person
    published = Incident.history.filter(history_change_reason="Published by manage.py import_ucdp")
    assert published.count() == 120 and set(published.values_list("status", flat=True)) == {"published"}
    assert all(incident.version == 2 for incident in incidents)  # moved on, as a save does
    all_time = client.get("/").context["all_time"]
    assert (all_time.incidents, all_time.lowest, all_time.highest) == (
        120,
        sum(incidents.values_list("killed_lowest", flat=True)),
        sum(incidents.values_list("killed_highest", flat=True)),
    )
    # The month, place and source totals (the source pages) count them, as if counted afresh.
    assert_totals_kept()


def test_publishing_twenty_times_as_many_drafts_takes_as_many_queries(editor, tmp_path):
    path = tmp_path / "ged.csv"
    synthetic_ged(path, 63)
    run("import_ucdp", str(path), "--release-date", "2024-06-01")
    drafts = list(Incident.objects.filter(status="draft").order_by("pk").values_list("pk", flat=True))
    assert len(drafts) == 63

    def queries_to_publish(ids):
        with CaptureQueriesContext(connection) as queries:
            assert workflow.publish_incidents(
                incidents=Incident.objects.filter(pk__in=ids), user=editor
            ) == len(ids)
        return len(queries)

    queries_to_publish(
        drafts[:3]
    )  # the first also reads the editor's permissions and makes the source totals' rows
    assert queries_to_publish(drafts[3:6]) == queries_to_publish(drafts[6:])
    assert_totals_kept()


def test_publishing_many_drafts_records_who_and_when_with_their_perpetrators_in_a_few_queries(
    editor, django_assert_max_num_queries
):
    run("import_ucdp", "ucdp_ged.csv", "--release-date", "2024-06-01")
    drafts = Incident.objects.filter(status="draft")
    with_actors = drafts.filter(perpetrators__isnull=False).distinct().count()
    assert drafts.count() == 5 and with_actors
    # The status and history, then the month, place and source totals read and added to
    # (PostgreSQL also takes the totals' lock): a few statements (one by one it was several a draft).
    with django_assert_max_num_queries(25):
        assert workflow.publish_incidents(incidents=drafts, user=editor) == 5
    for incident in Incident.objects.all():
        assert (incident.status, incident.published_by) == ("published", editor)
        latest = incident.history.latest()
        assert (latest.history_user, latest.history_change_reason, latest.status) == (
            editor,
            "Published",
            "published",
        )
        assert set(latest.perpetrators.values_list("actor_id", flat=True)) == set(
            incident.perpetrators.values_list("pk", flat=True)
        )
