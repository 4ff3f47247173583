"""Datasets side by side: one incident per event, places and actors found by P-code and name
variants, the review queue and merges, human edits kept over re-imports, clear failures."""

import csv
import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from incidents import merging
from incidents.models import (
    Actor,
    Incident,
    Location,
    PlaceName,
    PossibleMatch,
    SlugRedirect,
    Source,
    TollReport,
)
from incidents.names import normalise
from tests.factories import make_incident, make_location, make_report, make_source, make_user, make_victim

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
HOMS_SLUG = "homs-military-academy-drone-strike-2023-10-05"


def rows_of(filename, *ids, change=None):
    """The header (and HXL row) of a sample file with only the rows whose first cell is in ``ids``."""
    with open(DATA / filename, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    kept = [row for row in rows[1:] if row[0] in ids]
    for row in kept:
        for column, value in (change or {}).items():
            row[header.index(column)] = value
    return header, kept


def write(tmp_path, name, header, rows):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def run(command, path, *args):
    """A command's output; dataset imports without their progress bar."""
    out = io.StringIO()
    options = [] if command == "import_places" else ["--no-progress"]
    call_command(command, str(path), *options, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def homs_files(tmp_path):
    ucdp = write(tmp_path, "ucdp_homs.csv", *rows_of("ucdp_ged.csv", "501"))
    acled = write(tmp_path, "acled_homs.csv", *rows_of("acled.csv", "SYR1001"))
    return ucdp, acled


def counts():
    return {
        kind: Location.objects.filter(kind=kind).count() for kind in ("country", "admin1", "admin2", "admin3")
    } | {"actors": Actor.objects.count()}


class TestOneIncidentPerEvent:
    def test_the_same_strike_from_ucdp_and_acled_goes_on_the_demo_incident(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        before, incidents = counts(), Incident.objects.count()
        ucdp, acled = homs_files(tmp_path)
        assert "1 attached to incidents already recorded" in run(
            "import_ucdp", ucdp, "--release-date", "2024-06-01"
        )
        assert "1 attached to incidents already recorded" in run("import_acled", acled)
        assert Incident.objects.count() == incidents and counts() == before  # no new place tree, no new actor
        homs = Incident.objects.get(slug=HOMS_SLUG)
        sources = {
            (r.source.short_name, r.killed_counts): r.killed_figure.as_stated() for r in homs.reports.all()
        }
        assert sources == {
            ("MoH", "all"): "at least 89",
            ("SOHR", "all"): "more than 120",
            ("UCDP GED", "all"): "between 89 and 123",
            ("UCDP GED", "civilians"): "60",
            ("ACLED", "all"): "at least 89",
        }
        assert homs.toll.short() == "89–123" and homs.title.startswith("Drone strike on the Homs")
        assert {r.dataset_event_id for r in homs.reports.exclude(dataset="")} == {"501", "SYR1001"}

    def test_the_incident_page_shows_the_best_estimate_beside_the_range(self, client, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        run("import_ucdp", homs_files(tmp_path)[0])
        page = client.get(f"/incidents/{HOMS_SLUG}/").content.decode()
        assert "between 89 and 123" in page and "(best estimate 100)" in page

    def test_a_re_import_finds_its_report_on_the_incident_it_was_attached_to(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        ucdp, _ = homs_files(tmp_path)
        run("import_ucdp", ucdp)
        out = run("import_ucdp", ucdp)
        assert "0 created, 0 attached to incidents already recorded, 0 updated, 1 unchanged" in out
        assert TollReport.objects.filter(dataset="ucdp").count() == 2  # all deaths and civilians

    def test_a_weak_match_is_queued_for_review_not_merged_nor_silently_duplicated(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        # UCDP 502: one-sided violence somewhere in Idlib governorate on 5–6 October, 17 killed.
        out = run("import_ucdp", write(tmp_path, "u.csv", *rows_of("ucdp_ged.csv", "502")))
        assert "1 created" in out and "Possible matches to review" in out
        imported = Incident.objects.get(reports__dataset_event_id="502", reports__killed_counts="all")
        assert imported.location.slug == "idlib-gov"  # "Idlib governorate" is the demo's Idlib
        queue = list(PossibleMatch.objects.open().filter(incident=imported))
        assert queue[0].candidate.slug == "idlib-shelling-2023-10-05"  # the likeliest first
        assert "same governorate" in queue[0].reason

    def test_a_queued_event_stays_a_draft_even_when_the_import_publishes(self, tmp_path):
        """Published before a person decides, its deaths would count twice in every total."""
        call_command("load_demo", stdout=io.StringIO())
        run("import_ucdp", write(tmp_path, "u.csv", *rows_of("ucdp_ged.csv", "501", "502")), "--publish")
        queued = Incident.objects.get(reports__dataset_event_id="502", reports__killed_counts="all")
        assert PossibleMatch.objects.filter(incident=queued).exists() and not queued.is_published
        homs = Incident.objects.get(reports__dataset_event_id="501", reports__killed_counts="all")
        assert homs.is_published  # attached with confidence: on the demo's published Homs strike

    def test_two_dataset_events_on_other_days_stay_apart(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        header, rows = rows_of(
            "ucdp_ged.csv", "501", change={"date_start": "2023-10-12", "date_end": "2023-10-12"}
        )
        out = run("import_ucdp", write(tmp_path, "u.csv", header, rows))
        assert "1 created, 0 attached" in out and not PossibleMatch.objects.exists()


class TestPlaces:
    def test_import_places_creates_each_level_once_with_its_p_code_and_arabic_name(self):
        out = run("import_places", DATA / "cod_syria_hdx.csv")
        assert "12 places created" in out
        assert run("import_places", DATA / "cod_syria_hdx.csv").startswith("0 places created")
        ariha = Location.objects.get(pcode="SY0703")
        assert (ariha.name, ariha.name_ar, ariha.kind, ariha.parent.pcode) == (
            "Ariha",
            "أريحا",
            "admin2",
            "SY07",
        )
        assert Location.objects.get(pcode="SY").name == "Syrian Arab Republic"
        assert Location.objects.filter(pcode__isnull=False).count() == Location.objects.count() == 12

    def test_both_namings_find_the_demo_places_by_p_code(self):
        call_command("load_demo", stdout=io.StringIO())
        places = Location.objects.count()
        out = run("import_places", DATA / "cod_syria_adm.csv")  # COD-AB: ADM1_EN, ADM1_PCODE …
        assert "1 places created" in out and Location.objects.count() == places + 1  # only Ariha is new
        idlib = Location.objects.get(pcode="SY07")
        assert idlib.slug == "idlib-gov" and idlib.name == "Idlib"  # a person's name for it is kept
        assert Location.objects.get(pcode="SY0703").parent == idlib

    def test_an_xlsx_table_is_read_too(self, tmp_path):
        from openpyxl import Workbook

        book = Workbook()
        with open(DATA / "cod_syria_adm.csv", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                book.active.append(row)
        book.save(tmp_path / "cod.xlsx")
        assert "5 places created" in run("import_places", tmp_path / "cod.xlsx")
        assert Location.objects.get(pcode="SY04").name_ar == "حمص"

    def test_a_table_without_names_and_p_codes_is_refused(self, tmp_path):
        path = write(tmp_path, "bad.csv", ["country", "province"], [["Syria", "Homs"]])
        with pytest.raises(CommandError, match="no admin level with both a name and a P-code column"):
            run("import_places", path)
        assert not Location.objects.exists()

    def test_imports_then_match_by_p_code_and_by_name_variant(self, tmp_path):
        run("import_places", DATA / "cod_syria_hdx.csv")
        places = Location.objects.count()
        # UCDP's "Idlib governorate": a name variant (the table's reference name) of Idleb, SY07.
        run("import_ucdp", write(tmp_path, "u.csv", *rows_of("ucdp_ged.csv", "502")))
        idlib = Incident.objects.get(reports__dataset_event_id="502", reports__killed_counts="all")
        assert idlib.location.pcode == "SY07"
        # An ACLED export with P-codes: found by P-code whatever the names say.
        header, rows = rows_of("acled.csv", "SYR1001", change={"admin1": "Hims Province", "admin2": "Hims"})
        header += ["admin1_pcode", "admin2_pcode"]
        rows[0] += ["SY04", "SY0400"]
        run("import_acled", write(tmp_path, "a.csv", header, rows))
        homs = Incident.objects.get(reports__dataset_event_id="SYR1001")
        assert homs.location.admin2.pcode == "SY0400" and homs.location.admin1.pcode == "SY04"
        new = Location.objects.filter(kind__in=["country", "admin1", "admin2"]).count()
        assert (
            new
            == Location.objects.filter(pcode__isnull=False, kind__in=["country", "admin1", "admin2"]).count()
        )
        assert Location.objects.count() <= places + 1  # at most the city itself

    def test_a_new_place_is_reported_in_the_summary(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        out = run("import_acled", write(tmp_path, "a.csv", *rows_of("acled.csv", "SYR1003")))
        assert "New places (2):" in out and "Sarmin, Ariha, Idlib, Syria (place)" in out

    def test_new_places_are_named_in_their_countrys_words_without_repeats(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        out = run("import_ucdp", DATA / "ucdp_ged.csv", "--allow-skips")
        assert "Maarrat al-Numan district, Idlib, Syria (district)" in out  # not "(admin 2)"
        assert "Binnish, Idlib, Syria (place)" in out  # in Idlib district of Idlib governorate

    def test_the_admin_edits_a_places_other_names(self, editor_client):
        homs = make_location("Homs", kind="admin1", parent=make_location("Syria", kind="country"))
        response = editor_client.post(
            f"/admin/incidents/location/{homs.pk}/change/",
            {
                "name": "Homs", "name_ar": "", "kind": "admin1", "parent": homs.parent_id, "pcode": "",
                "latitude": "", "longitude": "", "slug": homs.slug,
                "names-TOTAL_FORMS": "1", "names-INITIAL_FORMS": "0", "names-0-name": "Ḥimṣ",
            },
        )  # fmt: skip
        assert response.status_code == 302
        assert PlaceName.objects.get(location=homs).key == "hims"


@pytest.mark.parametrize(
    "spelling, same_as",
    [
        ("Hims governorate", "Hims"),
        ("Idlib Governorate", "idlib"),
        ("حِمص", "حمص"),
        ("إدلب", "ادلب"),
        ("Ma'arrat al-Nu'man", "Maarrat al Numan"),
        ("Homs town", "Homs"),
    ],
)
def test_place_names_are_compared_without_accents_case_or_kind_words(spelling, same_as):
    assert normalise(spelling, place=True) == normalise(same_as, place=True)


def test_acled_years_do_not_make_another_actor():
    assert normalise("Military Forces of Syria (2000-)") == normalise("military forces of syria")


class TestReviewAndMerge:
    def queued(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        run("import_ucdp", write(tmp_path, "u.csv", *rows_of("ucdp_ged.csv", "502")))
        return PossibleMatch.objects.get(candidate__slug="idlib-shelling-2023-10-05")

    def test_attach_puts_the_datasets_report_beside_the_others(self, tmp_path, editor_client):
        match = self.queued(tmp_path)
        imported_pk, imported_slug = match.incident_id, match.incident.slug
        response = editor_client.post(
            "/admin/incidents/possiblematch/", {"action": "attach_selected", "_selected_action": [match.pk]}
        )
        assert response.status_code == 302
        shelling = Incident.objects.get(slug="idlib-shelling-2023-10-05")
        assert {r.source.short_name for r in shelling.reports.all()} == {"News", "UCDP GED"}
        assert not Incident.objects.filter(pk=imported_pk).exists()
        assert SlugRedirect.objects.get(old_slug=imported_slug).incident == shelling
        assert shelling.is_published and shelling.toll.short() == "17"
        # The decision stays in the queue, naming the incident merged away.
        match.refresh_from_db()
        assert (match.decision, match.incident, match.decided_by.username) == ("attached", None, "eddie")
        assert imported_slug in match.merged_incident
        listed = editor_client.get("/admin/incidents/possiblematch/?decision=attached").content.decode()
        assert f"{imported_slug} “" in listed and f"merged into {shelling.slug}" in listed
        shown = editor_client.get(f"/admin/incidents/possiblematch/{match.pk}/change/")
        assert shown.status_code == 200 and 'name="_save"' not in shown.content.decode()  # read only

    def test_attaching_one_candidate_answers_the_others_and_keeps_every_decision(self, tmp_path, editor):
        """The event is the candidate it was attached to: its other open questions are answered
        "a different event", and a decision taken before stays as it was, naming the event."""
        match = self.queued(tmp_path)
        imported_slug = match.incident.slug
        place = match.candidate.location
        decided = PossibleMatch.objects.create(
            incident=match.incident, candidate=make_incident("Kept apart", location=place), reason="r",
            decision="separate",
        )  # fmt: skip
        still_open = PossibleMatch.objects.create(
            incident=match.incident, candidate=make_incident("Not reviewed", location=place), reason="r"
        )
        merging.attach(match=match, user=editor)
        for question in (match, decided, still_open):
            question.refresh_from_db()
            assert question.incident is None and imported_slug in question.merged_incident
        assert [match.decision, decided.decision, still_open.decision] == ["attached", "separate", "separate"]
        assert still_open.decided_by == editor and decided.decided_by is None
        assert not PossibleMatch.objects.open().exists()

    def test_a_decision_survives_its_candidate_being_merged_in_turn(self, tmp_path, editor):
        """I attached to C; C then merged into D: the record of I's attachment stays, now beside D."""
        match = self.queued(tmp_path)
        merging.attach(match=match, user=editor)
        other = make_incident("A second record of the same shelling", location=match.candidate.location)
        make_report(other, killed=17)
        second = PossibleMatch.objects.create(incident=other, candidate=make_incident("D"), reason="r")
        merging.attach(match=second, user=editor)  # a second merged-away record, beside D
        kept = merging.merge_incidents(keep=second.candidate, remove=match.candidate, user=editor)
        match.refresh_from_db()
        assert (match.decision, match.candidate, match.incident) == ("attached", kept, None)

    def test_deleting_an_imported_incident_deletes_its_questions(self, tmp_path):
        match = self.queued(tmp_path)
        imported = match.incident
        Incident.objects.filter(pk=imported.pk).delete()
        assert not PossibleMatch.objects.filter(pk=match.pk).exists()
        assert not PossibleMatch.objects.open().filter(incident=None).exists()

    def test_an_address_with_an_unknown_decision_shows_the_open_questions(self, tmp_path, editor_client):
        match = self.queued(tmp_path)
        listed = editor_client.get("/admin/incidents/possiblematch/?decision=bogus")
        assert listed.status_code == 200 and f"/{match.candidate_id}/change/" in listed.content.decode()

    def test_the_queue_opens_on_what_is_left_to_review(self, tmp_path, editor_client):
        match = self.queued(tmp_path)
        decided = PossibleMatch.objects.create(
            incident=match.incident,
            candidate=make_incident("Decided already"),
            reason="r",
            decision="separate",
        )
        opened = editor_client.get("/admin/incidents/possiblematch/").content.decode()
        everything = editor_client.get("/admin/incidents/possiblematch/?decision=all").content.decode()
        assert f"/{match.candidate_id}/change/" in opened and f"/{decided.candidate_id}/change/" not in opened
        assert (
            f"/{decided.candidate_id}/change/" in everything
            and f"/{match.candidate_id}/change/" in everything
        )

    def test_keep_separate_leaves_both(self, tmp_path, editor_client):
        match = self.queued(tmp_path)
        others = PossibleMatch.objects.filter(incident=match.incident).exclude(pk=match.pk)
        answer = editor_client.post(
            "/admin/incidents/possiblematch/",
            {"action": "keep_separate_selected", "_selected_action": [match.pk]},
            follow=True,
        )
        match.refresh_from_db()
        assert match.decision == "separate" and Incident.objects.filter(pk=match.incident_id).exists()
        # Still a question open about it: not yet an incident of its own to publish.
        assert others.exists() and "publish it" not in answer.content.decode()
        answer = editor_client.post(
            "/admin/incidents/possiblematch/",
            {
                "action": "keep_separate_selected",
                "_selected_action": list(others.values_list("pk", flat=True)),
            },
            follow=True,
        )
        assert (
            "1 imported event is now apart from all its candidates and still a draft"
            in answer.content.decode()
        )

    def test_merge_by_hand_keeps_every_report_and_the_old_address_redirects(self, editor_client, client):
        source = make_source("Airwars")
        kept, removed = make_incident("Strike on Homs"), make_incident("Homs strike, second record")
        make_report(kept, killed=89, qualifier="at_least")
        make_report(removed, source, killed=120, qualifier="more_than")
        part = make_incident("A child among the victims", part_of=removed)
        child = make_victim(removed, age=2, status="civilian")
        response = editor_client.post(
            "/admin/incidents/incident/",
            {
                "action": "merge_selected",
                "_selected_action": [kept.pk, removed.pk],
                "keep": kept.pk,
                "confirm": "1",
            },
        )
        assert response.status_code == 302
        kept.refresh_from_db()
        assert kept.reports.count() == 2 and kept.toll.short() == "89–120+"
        assert Incident.objects.get(pk=part.pk).part_of == kept
        assert list(kept.victims.all()) == [child]
        assert not Incident.objects.filter(pk=removed.pk).exists()
        moved = client.get(f"/incidents/{removed.slug}/")
        assert moved.status_code == 301 and moved["Location"] == f"/incidents/{kept.slug}/"
        assert "Merged incident" in kept.history.first().history_change_reason

    def test_only_editors_merge_a_published_incident(self):
        analyst = make_user("analyst", "Analyst")
        kept, removed = make_incident("A"), make_incident("B")
        with pytest.raises(PermissionDenied):
            merging.merge_incidents(keep=kept, remove=removed, user=analyst)
        assert Incident.objects.filter(pk=removed.pk).exists()

    def test_an_analyst_merges_two_drafts(self):
        analyst = make_user("analyst", "Analyst")
        kept, removed = make_incident("A", status="draft"), make_incident("B", status="draft")
        make_report(removed, killed=3)
        merging.merge_incidents(keep=kept, remove=removed, user=analyst)
        assert kept.reports.count() == 1 and Incident.objects.count() == 1


class TestHumanEditsWin:
    def test_a_persons_correction_survives_a_re_import_and_the_summary_lists_it(self, tmp_path):
        path = write(tmp_path, "u.csv", *rows_of("ucdp_ged.csv", "503"))
        run("import_ucdp", path, "--publish")
        incident = Incident.objects.get(reports__dataset_event_id="503", reports__killed_counts="all")
        incident.title = "Clashes between HTS and IS in Syria, October 2023"
        incident._history_user = make_user("editor", "Editor")
        incident.save()
        header, rows = rows_of("ucdp_ged.csv", "503", change={"high": "6", "date_prec": "5"})
        out = run("import_ucdp", write(tmp_path, "u2.csv", header, rows))
        incident.refresh_from_db()
        assert incident.title == "Clashes between HTS and IS in Syria, October 2023"
        assert "row 2: incident" in out and "title kept as Clashes between HTS and IS" in out
        assert incident.date_precision == "year"  # a field no person changed follows the dataset
        report = incident.reports.get(killed_counts="all")
        assert report.killed_figure.as_stated() == "between 2 and 6"  # the dataset's new value

    def test_an_incident_another_source_recorded_keeps_its_fields(self, tmp_path):
        call_command("load_demo", stdout=io.StringIO())
        ucdp, _ = homs_files(tmp_path)
        run("import_ucdp", ucdp)
        header, rows = rows_of("ucdp_ged.csv", "501", change={"where_description": "Somewhere else"})
        run("import_ucdp", write(tmp_path, "u2.csv", header, rows))
        homs = Incident.objects.get(slug=HOMS_SLUG)
        assert homs.place == "Military academy, graduation ceremony"


class TestClearFailures:
    def test_a_file_without_the_expected_columns_is_refused_before_any_row(self, tmp_path):
        path = write(tmp_path, "bad.csv", ["id", "date_start", "country"], [["1", "2023-10-05", "Syria"]])
        err = io.StringIO()
        with pytest.raises(CommandError, match=r"lacks the column\(s\) type_of_violence, low, best, high"):
            call_command("import_ucdp", str(path), stdout=io.StringIO(), stderr=err)
        assert not Incident.objects.exists() and not Source.objects.exists()
        assert "rows" not in err.getvalue()  # refused before a progress bar was drawn

    def test_a_dry_run_says_the_other_rows_would_be_imported(self):
        with pytest.raises(CommandError, match="the other rows would be imported"):
            run("import_ucdp", DATA / "ucdp_ged.csv", "--dry-run")
        assert not Incident.objects.exists()

    def test_skipped_rows_make_the_exit_status_non_zero_unless_allowed(self):
        with pytest.raises(CommandError, match="1 row\\(s\\) skipped") as failure:
            run("import_ucdp", DATA / "ucdp_ged.csv")
        assert failure.value.returncode == 1
        assert Incident.objects.count() == 5  # the other rows were imported
        assert "1 skipped" in run("import_ucdp", DATA / "ucdp_ged.csv", "--allow-skips")

    def test_a_clean_file_exits_with_status_zero(self):
        assert "1 created" in run("import_ucdp", DATA / "ucdp_ged_hdx.csv")


class TestBestEstimateAndCoordinates:
    @pytest.mark.parametrize(
        "qualifier, killed, upper, best, valid",
        [
            ("between", 89, 123, 100, True),
            ("between", 89, 123, 89, True),
            ("between", 89, 123, 124, False),
            ("between", 89, 123, 88, False),
            ("exact", 17, None, 17, True),
            ("exact", 17, None, 18, False),
            ("at_least", 89, None, 500, True),
            ("at_least", 89, None, 50, False),
            ("up_to", 10, None, 0, True),
        ],
    )
    def test_a_best_estimate_lies_within_the_figure(self, qualifier, killed, upper, best, valid):
        incident = make_incident()
        report = TollReport(
            incident=incident, source=make_source(), published_on=incident.start_date, killed=killed,
            killed_qualifier=qualifier, killed_upper=upper, killed_best=best,
        )  # fmt: skip
        if valid:
            report.full_clean()
            report.save()
            return
        with pytest.raises(ValidationError) as error:
            report.full_clean()
        assert "killed_best" in error.value.message_dict
        with pytest.raises(IntegrityError), transaction.atomic():
            report.save()

    def test_incident_coordinates_come_in_pairs_within_range(self):
        incident = make_incident()
        incident.latitude = Decimal("34.7")
        with pytest.raises(ValidationError) as error:
            incident.full_clean()
        assert "longitude" in error.value.message_dict
        incident.longitude = Decimal("200")
        with pytest.raises(ValidationError) as error:
            incident.full_clean()
        assert "Longitude must be between" in str(error.value)
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(latitude=Decimal("34.7"))

    def test_the_export_gives_the_incidents_own_coordinates_before_its_places(self, editor_client):
        city = make_location("Homs", latitude=Decimal("34.7"), longitude=Decimal("36.7"))
        make_incident("Own", location=city, latitude=Decimal("34.732400"), longitude=Decimal("36.713700"))
        make_incident("Place's", location=city)
        body = b"".join(editor_client.get("/export/incidents.csv").streaming_content).decode()
        rows = {r["title"]: (r["latitude"], r["longitude"]) for r in csv.DictReader(io.StringIO(body))}
        assert rows == {"Own": ("34.732400", "36.713700"), "Place's": ("34.700000", "36.700000")}


def test_a_dataset_report_keeps_its_date_and_source(tmp_path):
    run("import_acled", write(tmp_path, "a.csv", *rows_of("acled.csv", "SYR1001")))
    report = TollReport.objects.get(dataset_event_id="SYR1001")
    assert report.published_on == datetime.date(2023, 10, 7) and report.source.kind == "dataset"


class TestReviewPages:
    def test_merge_asks_which_incident_to_keep_first(self, editor_client):
        a, b = make_incident("Strike on Homs"), make_incident("Homs strike again")
        page = editor_client.post(
            "/admin/incidents/incident/", {"action": "merge_selected", "_selected_action": [a.pk, b.pk]}
        )
        assert page.status_code == 200 and "Keep which incident?" in page.content.decode()
        assert Incident.objects.count() == 2  # nothing merged before the choice

    def test_merge_needs_exactly_two_incidents(self, editor_client):
        ids = [make_incident().pk for _ in range(3)]
        response = editor_client.post(
            "/admin/incidents/incident/", {"action": "merge_selected", "_selected_action": ids}, follow=True
        )
        assert "Select exactly two incidents to merge." in response.content.decode()
        assert Incident.objects.count() == 3

    @pytest.mark.parametrize("count", [2, 20])
    def test_the_review_queue_costs_the_same_queries_however_long(
        self, editor_client, count, django_assert_max_num_queries
    ):
        location = make_location("Idlib", kind="admin1", parent=make_location("Syria", kind="country"))
        for n in range(count):
            imported = make_incident(f"Imported {n}", location=location, status="draft")
            PossibleMatch.objects.create(
                incident=imported, candidate=make_incident(f"Recorded {n}"), reason="same day"
            )
        with django_assert_max_num_queries(14):
            page = editor_client.get("/admin/incidents/possiblematch/")
        assert page.status_code == 200 and "Imported 0" in page.content.decode()
