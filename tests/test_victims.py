"""Named victims (issue 22): every person counted, their names hidden until an editor releases them."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from incidents import stats
from incidents.models import Incident, Victim
from incidents.models.victims import describe
from incidents.workflow import corrections, set_victims_public
from tests.admin_helpers import change_form_data
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_tree,
    make_user,
    make_victim,
)

pytestmark = pytest.mark.django_db

HIDDEN = "Zaynab Qassem-Hidden"
HIDDEN_AR = "زينب قاسم"
RELEASED = "Omar Released-Name"
DAY = datetime.date(2023, 10, 5)


def text(response):
    assert response.status_code == 200, response.status_code
    if response.streaming:  # the CSV files
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def change_url(incident):
    return f"/admin/incidents/incident/{incident.pk}/change/"


def paste_url(incident):
    return f"/admin/incidents/incident/{getattr(incident, 'pk', incident)}/victims/paste/"


def read_csv(response):
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


# --- Validation: clean() gives the message, the database refuses the same rows --------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"age": 121}, "age", "An age over 120 is not possible"),
        ({"age": 1985}, "age", "1985 looks like a year of birth"),
        ({"age": -1}, "age", "An age cannot be negative."),
        ({"age": 2, "age_group": "adult"}, "age_group", "A person aged 2 is a child (under 18)"),
        ({"age": 40, "age_group": "elderly"}, "age_group", "A person aged 40 is an adult (18 to 59)"),
        ({"age": 60, "age_group": "adult"}, "age_group", "A person aged 60 is elderly (60 and over)"),
        ({"date_of_death": DAY - datetime.timedelta(days=1)}, "date_of_death", "cannot have died before it"),
        ({"date_of_death": datetime.date.today() + datetime.timedelta(days=2)}, "date_of_death", "future"),
    ],
)
def test_it_refuses_a_person_with_a_message_on_the_field_that_is_wrong(fields, field, message):
    incident = make_incident(start_date=DAY)
    victim = Victim(incident=incident, **fields)
    with pytest.raises(ValidationError) as error:
        victim.full_clean()
    assert message in " ".join(error.value.message_dict[field])


@pytest.mark.parametrize(
    "fields",
    [
        {},  # "unnamed": described only by what is known
        {"name": "Ahmad", "age": 34, "sex": "male", "status": "civilian"},
        {"name_ar": HIDDEN_AR, "age_group": "child"},
        {"age": 0},
        {"age": 120, "age_group": "elderly"},
        {"date_of_death": DAY + datetime.timedelta(days=20)},  # died of wounds later
    ],
)
def test_it_accepts_what_sources_say_of_a_person(fields):
    incident = make_incident(start_date=DAY)
    Victim(incident=incident, **fields).full_clean()


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"age": 130, "age_group": "elderly"}, "victim_age_0_to_120"),
        ({"age": -3, "age_group": "child"}, "victim_age_0_to_120"),
        ({"age": 2, "age_group": "adult"}, "victim_age_group_matches_age"),
        ({"age": 70, "age_group": "child"}, "victim_age_group_matches_age"),
    ],
)
def test_the_database_refuses_the_same_ages(fields, constraint):
    incident = make_incident()
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        Victim.objects.create(incident=incident, **fields)
    assert constraint in str(error.value) or "CHECK constraint failed" in str(error.value)


@pytest.mark.parametrize(
    ("age", "group"), [(0, "child"), (17, "child"), (18, "adult"), (59, "adult"), (60, "elderly")]
)
def test_an_age_fills_in_an_unknown_age_group(age, group):
    victim = Victim.objects.create(incident=make_incident(), age=age)
    assert Victim.objects.get(pk=victim.pk).age_group == group


@pytest.mark.parametrize(
    ("sex", "age", "group", "status", "words"),
    [
        ("unknown", 2, "child", "civilian", "a child aged 2, civilian"),
        ("female", 2, "child", "civilian", "a girl aged 2, civilian"),
        ("male", None, "adult", "combatant", "a man, combatant"),
        ("female", 71, "elderly", "civilian", "an elderly woman aged 71, civilian"),
        ("unknown", None, "unknown", "unknown", "a person, status unknown"),
        ("female", None, "unknown", "civilian", "a woman or girl, civilian"),
    ],
)
def test_a_hidden_person_is_described_by_what_is_known(sex, age, group, status, words):
    assert describe(sex, age, group, status) == words


# --- Only the workflow releases a name ------------------------------------------------------------


class TestReleasingNames:
    def test_a_new_person_is_hidden_whatever_the_script_says(self):
        victim = Victim(incident=make_incident(), name=HIDDEN, is_public=True)
        victim.save()
        assert Victim.objects.get(pk=victim.pk).is_public is False and victim.is_public is False

    def test_a_save_keeps_a_released_name_released(self):
        victim = make_victim(make_incident(), RELEASED, public=True)
        victim.is_public = False
        victim.note = "checked"
        victim.save()
        assert Victim.objects.get(pk=victim.pk).is_public is True

    def test_bulk_writes_never_release_a_name(self):
        incident = make_incident()
        created = Victim.objects.bulk_create([Victim(incident=incident, name=HIDDEN, is_public=True)])
        assert not Victim.objects.get(pk=created[0].pk).is_public
        with pytest.raises(ValueError, match="released only by"):
            Victim.objects.update(is_public=True)
        with pytest.raises(ValueError, match="released only by"):
            Victim.objects.bulk_update(created, ["is_public"])

    def test_only_an_editor_releases_a_name_and_history_says_who(self, analyst, editor):
        victim = make_victim(make_incident(), HIDDEN)
        with pytest.raises(PermissionDenied):
            set_victims_public(victims=Victim.objects.all(), user=analyst)
        assert set_victims_public(victims=Victim.objects.all(), user=editor) == 1
        assert Victim.objects.get(pk=victim.pk).is_public
        latest = victim.history.order_by("-history_date", "-history_id").first()
        assert (
            latest.history_user == editor
            and latest.is_public
            and latest.history_change_reason == "Name released"
        )
        assert set_victims_public(victims=Victim.objects.all(), user=editor, public=False) == 1
        assert not Victim.objects.get(pk=victim.pk).is_public


# --- Privacy: a hidden name is nowhere public -----------------------------------------------------


@pytest.fixture
def named_people(db):
    """A published incident with one hidden and one released person, its corrections noted."""
    tree = make_tree()
    source = make_source("Idlib Health Directorate", short_name="IHD", slug="ihd")
    actor = make_actor("Syrian government forces", slug="syrian-forces")
    incident = make_incident("Shelling of Idlib city", location=tree["city"])
    make_report(incident, source, killed=5)
    make_attribution(incident, actor, source)
    hidden = make_victim(incident, HIDDEN, name_ar=HIDDEN_AR, age=2, sex="female")
    released = make_victim(incident, RELEASED, age=40, sex="male", public=True)
    # After publication: the hidden person's record corrected, the released one removed.
    hidden.age = 3
    hidden.save()
    released.delete()
    make_victim(incident, RELEASED, age=40, sex="male", public=True)
    return incident


PUBLIC_URLS = [
    "/",
    "/incidents/",
    "/incidents/?q=Omar",  # the hidden names are searched for below: the page repeats what was asked
    "/incidents/feed/",
    "/locations/syria/",
    "/locations/idlib/",
    "/sources/ihd/",
    "/actors/syrian-forces/",
    "/methodology/",
    "/api/incidents/",
    f"/api/incidents/?q={HIDDEN}",
    "/api/reports/",
    "/api/incidents.geojson",
    "/data/incidents.csv",
    "/data/reports.csv",
    "/data/victims.csv",
    "/data/victims.csv?hxl=1",
]


@pytest.mark.parametrize("who", ["anonymous", "analyst", "editor"])
def test_a_hidden_name_is_on_no_public_page(named_people, who, analyst, editor):
    client = Client()
    if who != "anonymous":
        client.force_login(analyst if who == "analyst" else editor)
    for url in [*PUBLIC_URLS, named_people.get_absolute_url(), f"/api/incidents/{named_people.slug}/"]:
        html = text(client.get(url))
        assert "Zaynab" not in html and HIDDEN_AR not in html, url
        assert "Qassem" not in html, url


def test_the_incident_page_shows_released_names_and_describes_hidden_people(client, named_people):
    html = text(client.get(named_people.get_absolute_url()))
    assert "2 people identified" in html
    assert RELEASED in html
    assert "A girl aged 3, civilian" in html
    assert '<td data-label="Sex">female</td>' in html


def test_the_api_counts_people_by_group_and_lists_them_as_the_incident_page_does(client, named_people):
    listed = client.get("/api/incidents/").json()["results"][0]
    assert listed["victims_identified"] == {
        "total": 2,
        "by_sex": {"female": 1, "male": 1, "unknown": 0},
        "by_age_group": {"child": 1, "adult": 1, "elderly": 0, "unknown": 0},
        "by_status": {"civilian": 2, "combatant": 0, "unknown": 0},
    }
    detail = client.get(f"/api/incidents/{named_people.slug}/").json()
    assert detail["victims_identified"] == listed["victims_identified"]
    assert [(p["name"], p["name_ar"], p["description"], p["age"]) for p in detail["people"]] == [
        (None, None, "a girl aged 3, civilian", 3),
        (RELEASED, None, "a man aged 40, civilian", 40),
    ]


def test_the_open_victims_file_blanks_hidden_names_and_leaves_out_drafts(client, named_people):
    draft = make_incident("A draft", status="draft")
    make_victim(draft, "Draft Person", public=True)
    rows = list(csv.DictReader(io.StringIO(text(client.get("/data/victims.csv")))))
    assert [(row["name"], row["is_public"], row["description"]) for row in rows] == [
        ("", "false", "a girl aged 3, civilian"),
        (RELEASED, "true", "a man aged 40, civilian"),
    ]
    assert {row["incident_id"] for row in rows} == {str(named_people.pk)}


def test_search_finds_a_released_name_but_never_a_hidden_one(client, named_people):
    assert "Shelling of Idlib city" in text(client.get("/incidents/?q=Released-Name"))
    assert "Shelling of Idlib city" not in text(client.get("/incidents/?q=Qassem-Hidden"))
    assert "Shelling of Idlib city" not in text(client.get(f"/incidents/?q={HIDDEN_AR}"))


def test_the_corrections_note_describes_people_and_never_names_them(client, named_people):
    sentences = [c.sentence for c in corrections(named_people)]
    assert any(
        "the record of a person identified was corrected (now: a girl aged 3, civilian)" in s
        for s in sentences
    )
    assert any(
        "a person identified (a man aged 40, civilian) was removed from the list" in s for s in sentences
    )
    assert not any("Omar" in s or "Zaynab" in s for s in sentences)
    html = text(client.get(named_people.get_absolute_url()))
    assert "was removed from the list" in html


def test_adding_or_releasing_a_person_is_not_a_correction(named_people, editor):
    before = len(corrections(named_people))
    make_victim(named_people, "Someone New")
    set_victims_public(victims=named_people.victims.all(), user=editor)
    assert len(corrections(named_people)) == before


class TestVictimsExport:
    URL = "/export/victims.csv"

    def test_anonymous_users_log_in_and_analysts_are_refused(self, client, analyst, named_people):
        response = client.get(self.URL)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
        client.force_login(analyst)
        assert client.get(self.URL).status_code == 403

    def test_editors_get_every_person_with_the_columns_of_design_md(self, editor_client, named_people):
        rows = read_csv(editor_client.get(self.URL + "?hxl=1"))
        assert rows[0] == [
            "victim_id", "incident_id", "incident_title", "name", "name_ar", "sex", "age", "age_group",
            "status", "date_of_death", "is_public", "sources",
        ]  # fmt: skip
        assert rows[1][0] == "#affected+id" and rows[1][3] == "#affected+name"
        people = {row[3]: row for row in rows[2:]}
        assert people[HIDDEN][4] == HIDDEN_AR and people[HIDDEN][10] == "false"
        assert people[HIDDEN][5:10] == ["female", "3", "child", "civilian", ""]
        assert people[RELEASED][10] == "true"

    def test_the_list_filters_choose_the_incidents(self, editor_client, named_people):
        elsewhere = make_incident("Strike in Homs", location=make_location("Homs town"))
        make_victim(elsewhere, "Homs Person")
        names = [row[3] for row in read_csv(editor_client.get(self.URL + "?location=idlib"))[1:]]
        assert sorted(names) == sorted([HIDDEN, RELEASED])
        assert read_csv(editor_client.get(self.URL + "?date_after=2024-01-01")) == [
            read_csv(editor_client.get(self.URL))[0]
        ]
        assert editor_client.get(self.URL + "?date_after=5/10/2023").status_code == 400

    def test_names_and_sources_are_safe_in_a_spreadsheet(self, editor_client):
        incident = make_incident()
        report = make_report(incident, make_source("Local council", short_name="LC"), killed=1)
        victim = make_victim(incident, '=HYPERLINK("http://x")')
        victim.reports.add(report)
        row = read_csv(editor_client.get(self.URL))[1]
        assert row[3] == '\'=HYPERLINK("http://x")'
        assert row[11] == f"LC ({incident.start_date.isoformat()})"

    def test_incidents_csv_counts_the_people_identified(self, editor_client, named_people):
        make_incident("No one named")
        rows = read_csv(editor_client.get("/export/incidents.csv"))
        counts = {row[1]: row[rows[0].index("victims_identified")] for row in rows[1:]}
        assert counts == {"Shelling of Idlib city": "2", "No one named": "0"}

    def test_exports_cost_the_same_queries_for_few_and_many_people(self, editor_client, named_people):
        def queries(url):
            with CaptureQueriesContext(connection) as captured:
                b"".join(editor_client.get(url).streaming_content)
            return len(captured)

        few = (queries(self.URL), queries("/export/incidents.csv"))
        report = named_people.reports.get()
        for i in range(30):
            make_victim(named_people, f"Person {i}").reports.add(report)
            make_victim(make_incident(f"Other {i}"), f"Other person {i}")
        assert (queries(self.URL), queries("/export/incidents.csv")) == few


# --- The incident page: the count, the note, a fixed cost -----------------------------------------


@pytest.mark.parametrize(
    ("qualifier", "killed", "people", "note"),
    [
        ("exact", 1, 2, True),
        ("exact", 2, 2, False),
        ("at_least", 1, 3, False),  # "at least 1" allows any number
        ("between", 1, 3, False),  # 1 to 3
        ("up_to", 2, 3, True),
    ],
)
def test_the_page_notes_more_people_identified_than_the_highest_figure(
    client, qualifier, killed, people, note
):
    incident = make_incident()
    make_report(
        incident, killed=killed, qualifier=qualifier, killed_upper=3 if qualifier == "between" else None
    )
    for _ in range(people):
        make_victim(incident)
    html = text(client.get(incident.get_absolute_url()))
    assert f"{people} people identified" in html
    assert ("More people are identified than the highest figure" in html) is note


def test_a_page_without_people_identified_says_nothing_of_them(client):
    incident = make_incident()
    make_report(incident, killed=3)
    html = text(client.get(incident.get_absolute_url()))
    assert "identified" not in html and "People identified" not in html


def test_the_page_costs_the_same_queries_for_few_and_many_people(client):
    incident = make_incident(location=make_tree()["city"])
    make_report(incident, killed=50)
    make_victim(incident, "One", public=True)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = (queries(incident.get_absolute_url()), queries("/locations/syria/"))
    for i in range(40):
        make_victim(incident, f"Person {i}", public=i % 2 == 0, sex="female")
    assert (queries(incident.get_absolute_url()), queries("/locations/syria/")) == few


def test_place_pages_count_people_by_sex_age_group_and_status(client):
    tree = make_tree()
    incident = make_incident(location=tree["city"])
    make_victim(incident, age=2, sex="female")
    make_victim(incident, age=40, sex="male", status="combatant")
    make_victim(incident, age_group="adult", sex="male")
    make_victim(make_incident(location=tree["homs"]), age=70, sex="female")
    make_victim(
        make_incident(location=tree["city"], status="draft"), age=5
    )  # a draft's people are not counted
    html = " ".join(text(client.get("/locations/idlib/")).split())
    assert "3 people identified: 1 female, 2 male; 1 child, 2 adults; 2 civilians, 1 combatant." in html


def test_the_public_record_of_a_hidden_person_has_no_name_and_no_note():
    incident = make_incident()
    hidden = make_victim(incident, HIDDEN, name_ar=HIDDEN_AR, age=2, note="family asked")
    released = make_victim(incident, RELEASED, public=True)
    assert hidden.public_record() == {
        "name": None, "name_ar": None, "description": "a child aged 2, civilian", "sex": "unknown",
        "age": 2, "age_group": "child", "status": "civilian",
    }  # fmt: skip
    assert released.public_record()["name"] == RELEASED


def test_victim_counts_give_every_value_for_the_api():
    tree = make_tree()
    incident = make_incident(location=tree["city"])
    make_victim(incident, age=2, sex="female")
    make_victim(incident, age=75, status="unknown")
    counts = stats.victim_counts(Incident.objects.published())
    assert counts.as_dict() == {
        "total": 2,
        "by_sex": {"female": 1, "male": 0, "unknown": 1},
        "by_age_group": {"child": 1, "adult": 0, "elderly": 1, "unknown": 0},
        "by_status": {"civilian": 1, "combatant": 0, "unknown": 1},
    }
    assert stats.victim_counts(Incident.objects.none()).total == 0


# --- Admin: the inline, the paste-in form, the duplicate warning ----------------------------------


def inline_row(data, index, **fields):
    """Add row ``index`` of the victims inline to the change form's POST ``data``."""
    data["victims-TOTAL_FORMS"] = str(index + 1)
    defaults = {"sex": "unknown", "age_group": "unknown", "status": "unknown"}
    for name, value in {**defaults, **fields}.items():
        data[f"victims-{index}-{name}"] = value
    return data


class TestInline:
    def test_an_analyst_records_a_person_who_stays_hidden_even_with_a_forged_box(self, analyst_client):
        incident = make_incident(status="draft")
        page = analyst_client.get(change_url(incident))
        assert 'name="victims-TOTAL_FORMS"' in text(page)
        data = inline_row(change_form_data(page), 0, name=HIDDEN, age="2", is_public="on")
        response = analyst_client.post(change_url(incident), data)
        assert response.status_code == 302, response.context and response.context["errors"]
        victim = incident.victims.get()
        assert (victim.name, victim.age_group, victim.is_public) == (HIDDEN, "child", False)
        assert victim.history.get().history_user.username == "ana"

    def test_analysts_see_the_box_but_cannot_tick_it(self, analyst, editor):
        incident = make_incident(status="draft")
        make_victim(incident, HIDDEN)
        as_analyst, as_editor = Client(), Client()
        as_analyst.force_login(analyst)
        as_editor.force_login(editor)
        html = text(as_analyst.get(change_url(incident)))
        assert 'name="victims-0-is_public"' not in html and "Name is public" in html
        assert 'name="victims-0-is_public"' in text(as_editor.get(change_url(incident)))

    def test_an_editor_releases_a_name_from_the_inline(self, editor_client):
        incident = make_incident(status="draft")
        victim = make_victim(incident, RELEASED)
        data = change_form_data(editor_client.get(change_url(incident)))
        data["victims-0-is_public"] = "on"
        assert editor_client.post(change_url(incident), data).status_code == 302
        victim.refresh_from_db()
        assert victim.is_public

    def test_the_inline_shows_an_error_on_the_field_that_is_wrong(self, analyst_client):
        incident = make_incident(status="draft")
        data = inline_row(change_form_data(analyst_client.get(change_url(incident))), 0, name="X", age="1985")
        response = analyst_client.post(change_url(incident), data)
        assert response.status_code == 200
        assert "1985 looks like a year of birth" in response.content.decode()
        assert not incident.victims.exists()

    def test_it_warns_when_the_same_name_and_date_of_death_is_in_another_incident(self, analyst_client):
        other = make_incident("Earlier record", start_date=DAY)
        make_victim(other, "Ahmad Khalil")
        incident = make_incident("New record", status="draft", start_date=DAY)
        data = inline_row(change_form_data(analyst_client.get(change_url(incident))), 0, name="ahmad khalil")
        response = analyst_client.post(change_url(incident), data, follow=True)
        assert "is already recorded in “Earlier record”" in response.content.decode()

    def test_no_warning_for_the_same_name_on_another_day(self, analyst_client):
        make_victim(make_incident("Earlier record", start_date=DAY), "Ahmad Khalil")
        incident = make_incident("New record", status="draft", start_date=DAY + datetime.timedelta(days=3))
        data = inline_row(change_form_data(analyst_client.get(change_url(incident))), 0, name="Ahmad Khalil")
        response = analyst_client.post(change_url(incident), data, follow=True)
        assert "already recorded" not in response.content.decode()


class TestPasteIn:
    def test_a_preview_shows_each_line_and_saves_nothing(self, analyst_client):
        incident = make_incident(status="draft")
        lines = "Ahmad Khalil, 34, male\nunnamed, 2, f\n\nفاطمة, 6 months, female\n"
        html = text(
            analyst_client.post(paste_url(incident), {"lines": lines, "status": "civilian", "_preview": "1"})
        )
        assert "Preview: 3 people" in html and "Save these 3 people" in html
        assert "Ahmad Khalil" in html and "(unnamed)" in html and "فاطمة" in html
        assert not Victim.objects.exists()

    @pytest.mark.parametrize(
        ("line", "message"),
        [
            ("Ahmad, 1985, male", "1985 looks like a year of birth"),
            ("Ahmad, 130, male", "An age over 120 is not possible"),
            ("Ahmad, two, male", "Could not read the age “two”"),
            ("Ahmad, 3, yes", "Could not read the sex “yes”"),
            ("Khalil, Ahmad, 3, male", "Too many commas"),
        ],
    )
    def test_a_bad_line_is_explained_and_blocks_the_save(self, analyst_client, line, message):
        incident = make_incident(status="draft")
        data = {"lines": f"Good Person, 30, f\n{line}", "status": "civilian"}
        html = text(analyst_client.post(paste_url(incident), {**data, "_preview": "1"}))
        assert message in html and "1 line cannot be read" in html and "Save these" not in html
        html = text(analyst_client.post(paste_url(incident), {**data, "_save": "1"}))  # a forged save
        assert message in html and not Victim.objects.exists()

    def test_a_date_of_death_before_the_incident_is_refused(self, analyst_client):
        incident = make_incident(status="draft", start_date=DAY)
        data = {"lines": "A, 3, m", "status": "civilian", "date_of_death": "2023-10-01", "_preview": "1"}
        assert "cannot have died before it started" in text(analyst_client.post(paste_url(incident), data))

    def test_fifty_names_are_saved_at_once_with_what_they_share(self, analyst_client):
        incident = make_incident(status="draft", start_date=DAY)
        report = make_report(incident, killed=60)
        lines = "\n".join(f"Person {i}, {i}, {'f' if i % 2 else 'm'}" for i in range(1, 51))
        data = {"lines": lines, "status": "civilian", "date_of_death": "2023-10-06", "reports": [report.pk]}
        response = analyst_client.post(paste_url(incident), {**data, "_save": "1"})
        assert response.status_code == 302 and response["Location"] == change_url(incident)
        people = list(incident.victims.order_by("pk"))
        assert len(people) == 50 and {p.status for p in people} == {"civilian"}
        assert people[0].name == "Person 1" and people[0].sex == "female" and people[0].age_group == "child"
        assert people[-1].age == 50 and people[-1].age_group == "adult"
        assert {p.date_of_death for p in people} == {datetime.date(2023, 10, 6)}
        assert not any(p.is_public for p in people)
        assert all(list(p.reports.all()) == [report] for p in people)
        assert people[0].history.get().history_user.username == "ana"

    def test_a_spreadsheet_paste_and_arabic_names(self, analyst_client):
        incident = make_incident(status="draft")
        lines = "Khalil, Ahmad\t34\tmale\nفاطمة\t6 months\tأنثى"
        analyst_client.post(paste_url(incident), {"lines": lines, "status": "unknown", "_save": "1"})
        first, second = incident.victims.order_by("pk")
        assert (first.name, first.age, first.sex) == ("Khalil, Ahmad", 34, "male")
        assert (second.name, second.name_ar, second.age, second.sex) == ("", "فاطمة", 0, "female")

    def test_the_preview_warns_of_the_same_person_elsewhere_and_twice_in_the_list(self, analyst_client):
        make_victim(make_incident("Earlier record", start_date=DAY), "Ahmad Khalil", date_of_death=DAY)
        incident = make_incident(status="draft", start_date=DAY)
        data = {"lines": "Ahmad Khalil, 34, m\nSara, 5, f\nsara, 5, f", "status": "civilian", "_preview": "1"}
        html = text(analyst_client.post(paste_url(incident), data))
        assert "is already recorded in “Earlier record”" in html
        assert "The same name and date of death as line 2 of this list." in html
        assert "Save these 3 people" in html  # a warning, not an error

    def test_a_preview_and_a_save_cost_the_same_queries_for_5_and_50_lines(self, analyst_client):
        incident = make_incident(status="draft")
        make_victim(make_incident("Elsewhere"), "Person 3")

        def queries(action, count):
            lines = "\n".join(f"Person {i}, {i}, f" for i in range(count))
            with CaptureQueriesContext(connection) as captured:
                analyst_client.post(paste_url(incident), {"lines": lines, "status": "civilian", action: "1"})
            return len(captured)

        assert queries("_preview", 5) == queries("_preview", 50)
        assert queries("_save", 5) == queries("_save", 50)
        assert incident.victims.count() == 55

    def test_only_those_who_may_add_people_reach_the_form(self, analyst_client):
        incident = make_incident(status="draft")
        assert Client().get(paste_url(incident)).status_code == 302  # to the login page
        staff = Client()
        staff.force_login(make_user("staff-without-group"))
        assert staff.get(paste_url(incident)).status_code == 403
        html = text(analyst_client.get(change_url(incident)))
        assert paste_url(incident) in html
        assert analyst_client.get(paste_url(incident.pk + 1000)).status_code == 404


class TestVictimAdmin:
    def test_analysts_see_hidden_names_in_the_admin(self, analyst_client):
        make_victim(make_incident(), HIDDEN)
        assert HIDDEN in text(analyst_client.get("/admin/incidents/victim/"))
        assert HIDDEN in text(analyst_client.get("/admin/incidents/victim/?q=Qassem"))

    def test_an_editor_releases_names_with_the_action_and_an_analyst_cannot(self, analyst_client, editor):
        victim = make_victim(make_incident(), HIDDEN)
        data = {"action": "release_names", "_selected_action": [victim.pk]}
        analyst_client.post("/admin/incidents/victim/", data)
        assert not Victim.objects.get(pk=victim.pk).is_public
        as_editor = Client()
        as_editor.force_login(editor)
        as_editor.post("/admin/incidents/victim/", data)
        assert Victim.objects.get(pk=victim.pk).is_public

    def test_a_revert_to_a_released_version_does_not_release_the_name(self, editor_client):
        victim = make_victim(make_incident(), RELEASED, public=True)
        released_version = victim.history.order_by("-history_date", "-history_id").first()
        set_victims_public(victims=Victim.objects.filter(pk=victim.pk), user=None, public=False, via="tests")
        url = f"/admin/incidents/victim/{victim.pk}/history/{released_version.history_id}/"
        data = change_form_data(editor_client.get(url))
        data.pop("is_public", None)
        editor_client.post(url, data)
        assert not Victim.objects.get(pk=victim.pk).is_public


# --- History and restore --------------------------------------------------------------------------


class TestRestore:
    def test_an_editor_restores_a_deleted_person_with_the_name_hidden_again(self, editor_client):
        incident = make_incident()
        victim = make_victim(incident, RELEASED, public=True, age=40)
        pk = victim.pk
        victim.delete()
        html = text(editor_client.get("/admin/incidents/incident/deleted/"))
        deletion = Victim.history.get(id=pk, history_type="-")
        assert f"/deleted/restore/victim/{deletion.history_id}/" in html and RELEASED in html
        response = editor_client.post(
            f"/admin/incidents/incident/deleted/restore/victim/{deletion.history_id}/"
        )
        assert response.status_code == 302
        restored = Victim.objects.get(pk=pk)
        assert (restored.name, restored.age, restored.is_public) == (RELEASED, 40, False)

    def test_analysts_cannot_restore_a_person(self, analyst_client):
        victim = make_victim(make_incident(), HIDDEN)
        pk = victim.pk
        victim.delete()
        deletion = Victim.history.get(id=pk, history_type="-")
        url = f"/admin/incidents/incident/deleted/restore/victim/{deletion.history_id}/"
        assert analyst_client.post(url).status_code == 403
        assert not Victim.objects.filter(pk=pk).exists()

    def test_people_deleted_with_their_incident_come_back_with_it(self, editor_client):
        incident = make_incident(status="draft")
        make_victim(incident, HIDDEN)
        make_victim(incident, RELEASED, public=True)
        pk = incident.pk
        editor_client.post(f"/admin/incidents/incident/{pk}/delete/", {"post": "yes"})
        assert not Victim.objects.exists()
        deletion = Incident.history.get(id=pk, history_type="-")
        editor_client.post(f"/admin/incidents/incident/deleted/restore/incident/{deletion.history_id}/")
        assert sorted(Victim.objects.filter(incident_id=pk).values_list("name", "is_public")) == [
            (RELEASED, False),
            (HIDDEN, False),
        ]


# --- Demo data ------------------------------------------------------------------------------------


def test_load_demo_records_the_seed_articles_people_once(client):
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    child = Victim.objects.get(incident__slug="jaftallak-haj-hamoud-air-attack-2023-10")
    assert (child.name, child.age, child.age_group, child.status, child.sex) == (
        "",
        2,
        "child",
        "civilian",
        "unknown",
    )
    couple = Victim.objects.filter(incident__slug="idlib-city-artillery-married-couple-2023-10")
    assert couple.count() == 2 and {v.status for v in couple} == {"civilian"}
    assert all(v.reports.count() == 1 for v in Victim.objects.all())
    html = text(client.get("/incidents/jaftallak-haj-hamoud-air-attack-2023-10/"))
    assert "1 person identified" in html and "A child aged 2, civilian" in html
    assert "More people are identified" not in text(
        client.get("/incidents/idlib-city-artillery-married-couple-2023-10/")
    )


def test_the_methodology_states_the_privacy_policy(client):
    html = " ".join(text(client.get("/methodology/")).split())
    assert "A name is published only after an editor has released it." in html
    assert "“a child aged 2, civilian”" in html


def test_the_homs_demo_is_unchanged_by_victims(client):
    homs = make_homs()
    assert "identified" not in text(client.get(homs.get_absolute_url()))
