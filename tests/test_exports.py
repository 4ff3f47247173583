"""CSV exports for editors: the list's filters exactly, streamed, safe in a spreadsheet."""

import csv
import datetime
import io
import threading

import hxl
import pytest
from django.core.management import call_command
from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents.exports.cells import csv_cell, fetched_ahead
from incidents.exports.reports import report_lines
from incidents.models import Incident, Source, TollReport
from incidents.workflow import publish_incidents
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_tree,
)

pytestmark = pytest.mark.django_db


def read_csv(response):
    assert response.status_code == 200, response.content
    assert response.streaming
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def raw_csv(response):
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


class TestPermissions:
    @pytest.mark.parametrize(
        "url", ["/export/incidents.csv", "/export/reports.csv", "/export/summary.csv?by=kind"]
    )
    def test_anonymous_users_are_sent_to_the_login_page(self, client, url):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/?next=/export/")

    @pytest.mark.parametrize(
        "url", ["/export/incidents.csv", "/export/reports.csv", "/export/summary.csv?by=kind"]
    )
    def test_staff_without_the_export_permission_get_403(self, analyst_client, url):
        response = analyst_client.get(url)
        assert response.status_code == 403
        html = response.content.decode()
        assert "You need the <strong>Editor</strong> role to export CSV files; ask an administrator" in html
        assert "no-store" in response["Cache-Control"]

    @pytest.mark.parametrize(
        "url", ["/export/incidents.csv", "/export/reports.csv", "/export/summary.csv?by=kind"]
    )
    def test_editors_can_export(self, editor_client, url):
        response = editor_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"

    def test_a_post_is_refused(self, editor_client):
        assert editor_client.post("/export/incidents.csv").status_code == 405


class TestIncidentsCsv:
    def test_columns_and_values_for_the_demo_data(self, editor_client, demo):
        response = editor_client.get("/export/incidents.csv")
        today = datetime.date.today().isoformat()
        assert response["Content-Disposition"] == f'attachment; filename="incidents-{today}.csv"'
        rows = {row["title"]: row for row in read_csv(response)}
        homs = rows["Drone strike on the Homs military academy graduation ceremony"]
        assert list(homs) == [
            "id", "title", "start_date", "end_date", "kind", "country", "admin1", "admin2", "place", "pcode",
            "latitude", "longitude", "perpetrators", "killed_lowest", "killed_highest", "killed_highest_open",
            "source_count", "figures", "url", "killed_disputed", "killed_contradictory", "civilians_lowest",
            "civilians_highest", "civilians_highest_open", "part_of", "attribution_disputed", "title_ar",
            "summary_ar", "victims_identified",
        ]  # fmt: skip
        assert homs["killed_lowest"] == "89" and homs["killed_highest"] == "120"
        assert (homs["killed_disputed"], homs["killed_contradictory"], homs["part_of"]) == (
            "true",
            "false",
            "",
        )
        assert homs["killed_highest_open"] == "true" and homs["source_count"] == "2"
        assert homs["figures"] == "MoH: at least 89 (2023-10-05); SOHR: more than 120 (2023-10-06)"
        assert (homs["country"], homs["admin1"], homs["admin2"]) == ("Syria", "Homs", "Homs")
        assert homs["start_date"] == "2023-10-05" and homs["kind"] == "air_strike"
        assert homs["perpetrators"] == "Unidentified drone operators"
        assert homs["url"] == "http://testserver/incidents/homs-military-academy-drone-strike-2023-10-05/"
        idlib = rows["Government shelling and missile attacks on Idlib after the Homs strike"]
        assert idlib["pcode"] == "SY07" and idlib["end_date"] == "2023-10-06"
        assert (idlib["civilians_lowest"], idlib["civilians_highest"], idlib["civilians_highest_open"]) == (
            "7", "7", "false",
        )  # fmt: skip
        child = rows["Russian air attack on Jaftallak Haj Hamoud kills a two-year-old child"]
        assert child["part_of"] == idlib["id"]  # a part is a row of its own, marked with its whole

    def test_only_published_incidents_unless_an_editor_asks_for_all(self, editor_client):
        make_incident("Public")
        make_incident("Draft", status="draft")
        assert [r["title"] for r in read_csv(editor_client.get("/export/incidents.csv"))] == ["Public"]
        everything = read_csv(editor_client.get("/export/incidents.csv?status=all"))
        assert {r["title"] for r in everything} == {"Public", "Draft"}

    def test_an_incident_at_a_site_names_the_site_with_its_country_and_admin_areas(self, editor_client):
        palestine = make_location("Palestine", kind="country", pcode="PS")
        strip = make_location("Gaza Strip", kind="admin1", parent=palestine)
        gaza = make_location("Gaza", kind="admin2", parent=strip)
        city = make_location("Gaza City", kind="locality", parent=gaza)
        hospital = make_location("Al-Ahli Arab Hospital", kind="site", parent=city)
        make_report(
            make_incident("Explosion at the hospital", location=hospital, place="car park"), killed=471
        )
        (row,) = read_csv(editor_client.get("/export/incidents.csv"))
        assert (row["country"], row["admin1"], row["admin2"], row["place"]) == (
            "Palestine",
            "Gaza Strip",
            "Gaza",
            "car park, Al-Ahli Arab Hospital",
        )
        (report,) = read_csv(editor_client.get("/export/reports.csv"))
        assert (report["admin1"], report["place"]) == ("Gaza Strip", "car park, Al-Ahli Arab Hospital")

    def test_a_malformed_filter_is_a_clear_400_not_an_unfiltered_file(self, editor_client):
        make_homs()
        response = editor_client.get("/export/incidents.csv?min_killed=-3")
        assert response.status_code == 400
        assert (
            "min_killed" in response.content.decode() and "nothing was exported" in response.content.decode()
        )

    @pytest.mark.parametrize(
        "url", ["/export/incidents.csv", "/export/reports.csv", "/export/summary.csv?by=kind"]
    )
    def test_a_date_that_is_not_iso_is_a_400_with_the_iso_message(self, editor_client, url):
        make_homs()
        response = editor_client.get(
            f"{url}&date_after=10/05/2023" if "?" in url else f"{url}?date_after=10/05/2023"
        )
        assert response.status_code == 400
        assert "date_after: Enter a date as YYYY-MM-DD, e.g. 2023-10-05." in response.content.decode()


QUERIES = [
    "",
    "q=academy",
    "q=SOHR",
    "date_after=2023-10-06",
    "date_before=2023-10-05",
    "location=idlib",
    "location=syria",
    "kind=shelling",
    "perpetrator=gunmen",
    "source=sohr",
    "disputed=true",
    "disputed=false",
    "min_killed=17",
    "sort=toll",
    "sort=oldest",
    "sort=disputed&kind=air_strike",
]


@pytest.fixture
def varied(db):
    homs = make_homs()
    tree_city = homs.location.__class__.objects.get(kind="locality", name="Idlib")
    gunmen = make_actor("Gunmen", kind="non_state_group")
    for day in range(1, 12):
        incident = make_incident(
            f"Incident {day}",
            location=tree_city if day % 2 else homs.location,
            kind="shelling" if day % 3 else "armed_clash",
            start_date=datetime.date(2023, 10, day),
        )
        if day % 4 == 0:
            make_attribution(incident, gunmen)
        make_report(incident, killed=day * 3)
        if day % 5 == 0:
            make_report(incident, Source.objects.get(short_name="SOHR"), killed=day * 4, qualifier="at_least")
    return homs


@pytest.mark.parametrize("query", QUERIES)
def test_exports_hold_exactly_what_the_list_shows_in_the_same_order(editor_client, varied, query):
    listed = [i.pk for i in editor_client.get(f"/incidents/?{query}").context["page"].object_list]
    exported = [int(r["id"]) for r in read_csv(editor_client.get(f"/export/incidents.csv?{query}"))]
    assert exported == listed
    reports = read_csv(editor_client.get(f"/export/reports.csv?{query}"))
    assert list(dict.fromkeys(int(r["incident_id"]) for r in reports)) == [
        pk for pk in listed if TollReport.objects.filter(incident_id=pk).exists()
    ]


@pytest.mark.parametrize("fetched", [5000, 2, 1], ids=["one batch", "batches of 2", "row by row"])
@pytest.mark.parametrize("query", ["", "sort=toll", "sort=oldest"])
def test_each_incident_s_reports_are_oldest_first_whatever_order_they_were_entered_in(
    editor_client, monkeypatch, query, fetched
):
    """Two incidents of the same day, each with reports entered newest first (and two of one
    day): every report follows its own incident's line, oldest first, then in the order entered,
    also when an incident's rows come from the database in two batches or more."""
    monkeypatch.setattr("incidents.exports.reports.FETCH_ROWS", fetched)
    source = make_source("Syrian Observatory for Human Rights", short_name="SOHR")
    expected = {}
    for title, killed in (("Strike on the market", 10), ("Strike on the school", 20)):
        incident = make_incident(title, start_date=datetime.date(2023, 10, 5))
        entered = [
            make_report(incident, source, killed=killed + 2, published_on=datetime.date(2023, 10, 8)),
            make_report(incident, source, killed=killed + 1, published_on=datetime.date(2023, 10, 6)),
            make_report(incident, killed=killed, published_on=datetime.date(2023, 10, 6)),
        ]
        expected[incident.pk] = [entered[1].pk, entered[2].pk, entered[0].pk]
    rows = read_csv(editor_client.get(f"/export/reports.csv?{query}"))
    incidents = list(dict.fromkeys(int(row["incident_id"]) for row in rows))
    assert sorted(incidents) == sorted(expected)
    assert [int(row["report_id"]) for row in rows] == [
        pk for incident in incidents for pk in expected[incident]
    ]


class TestReportsCsv:
    def test_every_report_with_its_figures_and_whether_it_is_current(self, editor_client):
        incident = make_incident("Revised")
        source = make_source("Syrian Observatory for Human Rights", short_name="SOHR")
        make_report(incident, source, killed=100, published_on=datetime.date(2023, 10, 5))
        make_report(
            incident, source, killed=110, qualifier="between", killed_upper=130,
            published_on=datetime.date(2023, 10, 6), injured=40, injured_qualifier="about", civilians=90,
            url="https://example.org/a", quote="more than 100 \"martyrs\", says SOHR",
        )  # fmt: skip
        rows = read_csv(editor_client.get("/export/reports.csv"))
        assert list(rows[0]) == [
            "report_id", "incident_id", "incident_title", "incident_date", "admin1", "place", "source",
            "source_kind", "published_on", "killed_as_reported", "killed_qualifier", "killed", "killed_upper",
            "injured_as_reported", "injured", "injured_upper", "civilians", "children", "women", "is_current",
            "url", "quote", "killed_counts", "published_time", "killed_best", "archive_url", "note",
            "quote_language", "quote_translation", "translation_is_machine", "dataset_event_id",
        ]  # fmt: skip
        assert all(len(row) == 31 and None not in row.values() for row in rows)  # every line whole
        first, latest = rows
        assert (latest["killed_counts"], latest["published_time"], latest["note"]) == ("all", "", "")
        assert (first["killed_as_reported"], first["is_current"]) == ("100", "false")
        assert latest["killed_as_reported"] == "between 110 and 130"
        assert (latest["killed"], latest["killed_upper"], latest["killed_qualifier"]) == (
            "110",
            "130",
            "between",
        )
        assert latest["injured_as_reported"] == "about 40" and latest["civilians"] == "90"
        assert latest["is_current"] == "true" and latest["quote"] == 'more than 100 "martyrs", says SOHR'

    def test_awkward_text_and_large_figures_come_back_as_entered(self, editor_client):
        awkward = 'Line one\r\nline two, with "quotes"; and\ta tab'  # no formula character after ;
        governorate = make_location('Idlib, "north"', kind="admin1")
        incident = make_incident(awkward, location=governorate, place="near the mill, east")
        source = make_source('Source, "quoted"', short_name="SQ")
        make_report(
            incident, source, killed=1000, qualifier="between", killed_upper=1200, injured=0,
            injured_qualifier="exact", url="https://example.org/a,b", quote=awkward,
        )  # fmt: skip
        [row] = read_csv(editor_client.get("/export/reports.csv"))
        assert (row["incident_title"], row["quote"]) == (awkward, awkward)
        assert (row["admin1"], row["place"], row["source"]) == (
            'Idlib, "north"',
            "near the mill, east",
            'Source, "quoted"',
        )
        assert (row["incident_date"], row["published_on"], row["is_current"]) == (
            "2023-10-05",
            "2023-10-05",
            "true",
        )
        assert row["killed_as_reported"] == "between 1,000 and 1,200"
        assert (row["killed"], row["killed_upper"], row["injured_as_reported"], row["injured"]) == (
            "1000",
            "1200",
            "0",
            "0",
        )
        assert (row["injured_upper"], row["children"], row["url"]) == ("", "", "https://example.org/a,b")


FORMULA_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")


def neutralised_by_hand(text):
    """DESIGN.md's rule, one character at a time: a ' before a formula character that starts
    the cell or follows a ; or , past any whitespace."""
    out, at_a_start = [], True
    for character in text:
        if at_a_start and character in FORMULA_CHARACTERS:
            out.append("'")
            at_a_start = False
        elif character in ";,":
            at_a_start = True
        elif not character.isspace():
            at_a_start = False
        out.append(character)
    return "".join(out)


risky_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(list("=+-@\t\r\n ;,\"'a1\u00a0")), max_size=30),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(text=risky_text)
def test_a_hand_written_cell_reads_back_as_the_csv_module_would_write_it(text):
    safe = neutralised_by_hand(text)
    buffer = io.StringIO()
    csv.writer(buffer).writerow(["x", safe, "y"])
    line = f"x,{csv_cell(text)},y\r\n"
    assert line == buffer.getvalue()
    assert next(csv.reader(io.StringIO(line, newline=""))) == ["x", safe, "y"]


def belongs(incident_row, by, group_value):
    """Whether an incidents.csv row falls in a summary.csv group."""
    if by == "month":
        return incident_row["start_date"][:7] == group_value
    if by == "perpetrator":
        return group_value in incident_row["perpetrators"].split("; ") or (
            not group_value and not incident_row["perpetrators"]
        )
    if by == "source":
        label = Source.objects.get(name=group_value).label
        return any(figure.startswith(f"{label}: ") for figure in incident_row["figures"].split("; "))
    return incident_row[by] == group_value


class TestSummaryCsv:
    @pytest.mark.parametrize("by", ["admin1", "admin2", "month", "kind", "perpetrator"])
    def test_totals_equal_the_sums_of_the_incident_rows(self, editor_client, varied, by):
        incidents = read_csv(editor_client.get("/export/incidents.csv?location=syria"))
        summary = read_csv(editor_client.get(f"/export/summary.csv?by={by}&location=syria"))
        assert summary
        for group in summary:
            members = [row for row in incidents if belongs(row, by, group[by])]
            assert int(group["incidents"]) == len(members), group
            assert int(group["killed_lowest_total"]) == sum(int(r["killed_lowest"] or 0) for r in members)
            assert int(group["killed_highest_total"]) == sum(int(r["killed_highest"] or 0) for r in members)
            disputed = [
                r for r in members if r["killed_lowest"] != r["killed_highest"] and r["source_count"] != "1"
            ]
            assert int(group["disputed_incidents"]) == len(disputed)

    def test_by_source_each_source_adds_its_own_figures_not_the_incidents_range(self, editor_client, varied):
        summary = read_csv(editor_client.get("/export/summary.csv?by=source&location=syria"))
        assert summary
        for group in summary:
            own = [
                r.killed_figure
                for r in TollReport.objects.filter(
                    source__name=group["source"], is_current=True, killed_counts="all",
                    incident__status="published", incident__location__country__slug="syria",
                )
            ]  # fmt: skip
            assert int(group["incidents"]) == len(own), group
            assert int(group["killed_lowest_total"]) == sum(f.stated_low or 0 for f in own), group
            assert int(group["killed_highest_total"]) == sum(f.stated_high or 0 for f in own), group
            assert group["killed_highest_open"] == ("true" if any(f.is_open for f in own) else "false")

    def test_by_source_the_french_never_said_471(self, editor_client):
        place = make_location("Gaza City")
        french, moh = make_source("French military intelligence"), make_source("Gaza Ministry of Health")
        incident = make_incident("Al-Ahli hospital explosion", location=place)
        make_report(incident, french, killed=10, qualifier="between", killed_upper=50)
        make_report(incident, moh, killed=471)
        rows = {r["source"]: r for r in read_csv(editor_client.get("/export/summary.csv?by=source"))}
        assert (rows[french.name]["killed_lowest_total"], rows[french.name]["killed_highest_total"]) == (
            "10",
            "50",
        )
        assert (rows[moh.name]["killed_lowest_total"], rows[moh.name]["killed_highest_total"]) == (
            "471",
            "471",
        )

    def test_grouping_by_governorate_and_month(self, editor_client, demo):
        rows = read_csv(editor_client.get("/export/summary.csv?by=admin1&by=month"))
        columns = ["admin1", "admin1_pcode", "month", "incidents", "disputed_incidents",
                   "killed_lowest_total", "killed_highest_total", "sources",
                   "killed_highest_open"]  # fmt: skip
        assert [list(row) for row in rows] == [columns, columns]
        # The two-year-old is recorded as part of the Idlib shelling: counted within its 17.
        assert [list(row.values()) for row in rows] == [
            ["Homs", "SY04", "2023-10", "1", "1", "89", "120", "2", "true"],
            ["Idlib", "SY07", "2023-10", "3", "0", "19", "19", "1", "false"],
        ]

    def test_months_are_grouped_across_a_year(self, editor_client):
        place = make_location("Aleppo", kind="admin1")
        for day in [datetime.date(2023, 1, 31), datetime.date(2023, 2, 1), datetime.date(2024, 1, 15)]:
            make_report(make_incident(location=place, start_date=day), killed=2)
        rows = read_csv(editor_client.get("/export/summary.csv?by=month"))
        assert [(r["month"], r["incidents"]) for r in rows] == [
            ("2023-01", "1"),
            ("2023-02", "1"),
            ("2024-01", "1"),
        ]

    @pytest.mark.parametrize("query", ["", "by=country", "by=month&by=weather"])
    def test_an_unknown_grouping_is_explained(self, editor_client, query):
        response = editor_client.get(f"/export/summary.csv?{query}")
        assert response.status_code == 400
        assert "by=admin1, admin2, month, kind, perpetrator or source" in response.content.decode()


class TestSpreadsheetSafety:
    @pytest.mark.parametrize(
        "payload",
        ['=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx"],
    )
    def test_formula_injection_is_neutralised_in_every_text_column(self, editor_client, payload):
        place = make_location(payload, kind="admin1")
        incident = make_incident(payload, location=place, place=payload)
        make_attribution(incident, make_actor(payload))
        make_report(incident, make_source(payload, short_name=payload), killed=5, quote=payload, note=payload)
        for url in [
            "/export/incidents.csv",
            "/export/reports.csv",
            "/export/summary.csv?by=admin1&by=source&by=perpetrator",
        ]:
            for row in read_csv(editor_client.get(url)):
                for column, value in row.items():
                    assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (url, column, value)
        row = read_csv(editor_client.get("/export/incidents.csv"))[0]
        assert row["title"] == "'" + payload

    @pytest.mark.parametrize(
        "payload",
        ['ZZ;=HYPERLINK("http://evil.example","S5")', 'ZZ,=HYPERLINK("http://evil.example","S5")',
         "a;  +cmd|' /C calc'!A0", "x, -2+3", " =3+3", "  @SUM(A1)", "a;\t=1", "ok; fine;=1+1"],
    )  # fmt: skip
    def test_a_formula_after_a_separator_or_spaces_is_neutralised_in_both_dialects(
        self, editor_client, payload
    ):
        # A spreadsheet in a semicolon locale splits cells at ";": the CSV is read both ways (issue 15).
        place = make_location(payload, kind="admin1")
        hostile = make_incident(payload, location=place, place=payload, summary=payload)
        make_attribution(hostile, make_actor(payload))
        make_report(hostile, make_source(payload), killed=5, quote=payload, note=payload)
        # Text without a formula, even with separators and dashes, is left as it is.
        plain = make_incident("Shelling, then a strike; 3-4 dead", place="market, east side")
        make_report(plain, make_source("MoH"), killed=10, qualifier="between", killed_upper=15,
                    quote="killed 10-15, at least; said @ noon -- 3 wounded")  # fmt: skip
        for url in ["/export/incidents.csv", "/export/reports.csv",
                    "/export/summary.csv?by=admin1&by=source&by=perpetrator"]:  # fmt: skip
            body = raw_csv(editor_client.get(url))
            for delimiter in [",", ";"]:
                for row in csv.reader(io.StringIO(body, newline=""), delimiter=delimiter):
                    for cell in row:
                        assert not cell.lstrip(" ").startswith(FORMULA_CHARACTERS), (url, delimiter, cell)
        incidents = {row["id"]: row for row in read_csv(editor_client.get("/export/incidents.csv"))}
        assert incidents[str(hostile.pk)]["title"] == neutralised_by_hand(payload)
        assert incidents[str(hostile.pk)]["figures"] == f"{neutralised_by_hand(payload)}: 5 (2023-10-05)"
        assert incidents[str(plain.pk)]["title"] == "Shelling, then a strike; 3-4 dead"
        assert incidents[str(plain.pk)]["figures"] == "MoH: between 10 and 15 (2023-10-05)"
        reports = {row["incident_id"]: row for row in read_csv(editor_client.get("/export/reports.csv"))}
        assert (
            reports[str(hostile.pk)]["source"]
            == reports[str(hostile.pk)]["quote"]
            == neutralised_by_hand(payload)
        )
        assert reports[str(plain.pk)]["killed_as_reported"] == "between 10 and 15"
        assert reports[str(plain.pk)]["quote"] == "killed 10-15, at least; said @ noon -- 3 wounded"

    def test_numbers_stay_numbers(self, editor_client):
        make_homs()
        body = raw_csv(editor_client.get("/export/incidents.csv"))
        assert ",89,120,true,2," in body


class TestHxl:
    def test_the_hashtag_row_is_read_by_libhxl(self, editor_client, demo):
        body = raw_csv(editor_client.get("/export/incidents.csv?hxl=1&sort=toll"))
        dataset = hxl.data(io.BytesIO(body.encode("utf-8")))
        tags = [column.display_tag for column in dataset.columns]
        expected = [
            "#event+id", "#event+name", "#date+start", "#adm1+name", "#loc+code",
            "#group+name+perpetrator", "#affected+killed+min", "#affected+killed+max", "#meta+url",
        ]  # fmt: skip
        assert set(expected) <= set(tags)
        first = next(iter(dataset))
        assert first.get("#affected+killed+min") == "89" and first.get("#adm1+name") == "Homs"

    @pytest.mark.parametrize("url", ["/export/reports.csv?hxl=1", "/export/summary.csv?by=admin1&hxl=1"])
    def test_reports_and_summary_carry_hashtags_too(self, editor_client, demo, url):
        dataset = hxl.data(io.BytesIO(raw_csv(editor_client.get(url)).encode("utf-8")))
        assert "#affected+killed+max" in [c.display_tag for c in dataset.columns]

    def test_without_hxl_there_is_no_hashtag_row(self, editor_client, demo):
        assert "#event+id" not in raw_csv(editor_client.get("/export/incidents.csv"))


def bulk_incidents(n, place, moh, sohr, actor):
    """n published incidents with two reports each, inserted in bulk."""
    incidents = Incident.objects.bulk_create(
        [
            Incident(title=f"Bulk {i}", slug=f"bulk-{i}", kind="shelling",
                     start_date=datetime.date(2023, 1, 1) + datetime.timedelta(days=i % 365), location=place)
            for i in range(n)
        ]
    )  # fmt: skip
    Incident.perpetrators.through.objects.bulk_create(
        [Incident.perpetrators.through(incident_id=i.pk, actor_id=actor.pk) for i in incidents]
    )
    TollReport.objects.bulk_create(
        [
            TollReport(incident=i, source=s, published_on=i.start_date, killed=k, killed_qualifier="exact")
            for i in incidents
            for s, k in ((moh, 3), (sohr, 5))
        ]
    )
    publish_incidents(incidents=Incident.objects.all(), user=None, via="tests", keep_history=False)


@pytest.mark.parametrize(
    "url", ["/export/incidents.csv", "/export/reports.csv", "/export/summary.csv?by=admin1&by=month"]
)
def test_exports_cost_the_same_queries_for_10_and_1000_incidents(editor_client, url):
    def count():
        with CaptureQueriesContext(connection) as captured:
            rows = read_csv(editor_client.get(url))
        return len(captured), rows

    data = (make_tree()["city"], make_source("MoH"), make_source("SOHR"), make_actor())
    bulk_incidents(10, *data)
    few, rows = count()
    assert rows
    Incident.objects.all().delete()
    bulk_incidents(1000, *data)
    many, rows = count()
    assert many == few
    if "summary" not in url:
        assert len(rows) >= 1000


def test_editors_can_export_selected_incidents_from_the_admin(editor_client, demo):
    homs = Incident.objects.get(slug="homs-military-academy-drone-strike-2023-10-05")
    response = editor_client.post(
        "/admin/incidents/incident/", {"action": "export_incidents_csv", "_selected_action": [homs.pk]}
    )
    rows = read_csv(response)
    assert [r["title"] for r in rows] == [homs.title]
    reports = read_csv(
        editor_client.post(
            "/admin/incidents/incident/", {"action": "export_reports_csv", "_selected_action": [homs.pk]}
        )
    )
    assert {r["source"] for r in reports} == {
        "Syrian Ministry of Health",
        "Syrian Observatory for Human Rights",
    }


def test_incidents_chosen_by_one_of_their_reports_are_exported_with_every_report(editor_client):
    """The admin's "dataset" filter and search choose incidents by their reports: reports.csv of
    the incidents chosen still lists each one's every report, not only the ones that matched."""
    incident = make_incident("Homs military academy drone strike")
    moh, sohr = make_source("Syrian Ministry of Health"), make_source("Syrian Observatory for Human Rights")
    make_report(incident, moh, killed=89, qualifier="at_least")
    make_report(incident, sohr, killed=120, qualifier="more_than")
    chosen = Incident.objects.filter(reports__source=moh)
    body = "".join(report_lines(chosen))
    rows = list(csv.reader(io.StringIO(body)))
    assert sorted(row[6] for row in rows) == [
        "Syrian Ministry of Health",
        "Syrian Observatory for Human Rights",
    ]
    response = editor_client.post(
        "/admin/incidents/incident/?q=Ministry",
        {"action": "export_reports_csv", "_selected_action": [incident.pk]},
    )
    assert {row["killed_as_reported"] for row in read_csv(response)} == {"at least 89", "more than 120"}


def test_a_download_left_half_way_stops_its_reading_and_leaves_the_connection_as_it_was(
    editor_client, monkeypatch
):
    """A reader who goes away mid-download (the server closes the response): the thread that
    reads ahead ends, and the export's transaction with it, before the request is done."""
    monkeypatch.setattr("incidents.exports.reports.FETCH_ROWS", 2)
    source = make_source("Syrian Observatory for Human Rights")
    for n in range(10):
        make_report(make_incident(f"Strike {n}"), source, killed=n + 1)
    blocks_before = list(connection.atomic_blocks)
    response = editor_client.get("/export/reports.csv")
    content = iter(response.streaming_content)
    header, first = next(content), next(content)
    # The first batch's first incident: its second is held back, as it may go on in the next.
    assert header.startswith(b"report_id,") and first.count(b"\r\n") == 1
    # Closed as the server does; the connection is kept for the test's transaction, as the test
    # client keeps it when a download is read to its end.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert not [thread for thread in threading.enumerate() if thread.name == "export-fetch"]
    assert connection.atomic_blocks == blocks_before  # the export's transaction is over


class EndlessCursor:
    """A cursor whose rows never end, counting its fetches; or failing at the ``fail_at``th."""

    def __init__(self, fail_at=None):
        self.fetches, self.fail_at = 0, fail_at

    def execute(self, sql, params):
        pass

    def fetchmany(self, size):
        self.fetches += 1
        if self.fetches == self.fail_at:
            raise ZeroDivisionError("no more rows, by this test")
        return [(self.fetches,)] * size


def test_rows_fetched_ahead_come_in_order_and_stop_with_the_reader():
    cursor = EndlessCursor()
    batches = fetched_ahead(cursor, "SELECT", [], 3)
    taken = [next(batches) for _ in range(4)]
    batches.close()
    assert taken == [[(n,)] * 3 for n in (1, 2, 3, 4)]
    assert not [thread for thread in threading.enumerate() if thread.name == "export-fetch"]
    assert cursor.fetches <= 6  # one batch waiting, one being fetched: no more


def test_an_error_while_fetching_ahead_is_raised_to_the_reader_as_itself():
    batches = fetched_ahead(EndlessCursor(fail_at=3), "SELECT", [], 2)
    assert [next(batches), next(batches)] == [[(1,)] * 2, [(2,)] * 2]
    with pytest.raises(ZeroDivisionError, match="by this test"):
        next(batches)


def test_analysts_do_not_get_the_export_actions(analyst_client, demo):
    response = analyst_client.get("/admin/incidents/incident/")
    assert "export_incidents_csv" not in response.content.decode()


def test_no_export_is_kept_by_a_cache(editor_client, demo):
    # Exports can hold drafts (status=all): a shared proxy or the browser must never keep them (issue 15).
    responses = [
        editor_client.get(url)
        for url in [
            "/export/incidents.csv?status=all",
            "/export/reports.csv",
            "/export/summary.csv?by=kind",
            "/export/incidents.csv?min_killed=-3",  # 400
            "/export/summary.csv?by=nonsense",  # 400
        ]
    ]
    homs = Incident.objects.get(slug="homs-military-academy-drone-strike-2023-10-05")
    responses += [
        editor_client.post("/admin/incidents/incident/", {"action": action, "_selected_action": [homs.pk]})
        for action in ["export_incidents_csv", "export_reports_csv"]
    ]
    for response in responses:
        assert response.status_code in (200, 400)
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, (response.status_code, response["Cache-Control"])
