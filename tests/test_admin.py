"""Data entry in the admin, as an analyst and an editor would do it."""

import datetime

import pytest
from django.core.management import call_command

from incidents.models import Incident, Location, TollReport
from tests.factories import make_homs, make_incident, make_location, make_source, make_tree

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/incidents/incident/add/"


def report_row(source, /, **fields):
    return {
        "source": source.pk,
        "published_on": "2023-10-05",
        "killed_qualifier": "exact",
        "killed": "",
        "killed_upper": "",
        "killed_counts": "all",
        "published_time": "",
        "injured_qualifier": "unknown",
        "injured": "",
        "injured_upper": "",
        "civilians": "",
        "children": "",
        "women": "",
        "url": "",
        "archive_url": "",
        "quote": "",
        "note": "",
        **fields,
    }


def incident_form(location, reports=(), **fields):
    data = {
        "title": "Drone strike on the military academy",
        "slug": "",
        "kind": "air_strike",
        "summary": "",
        "start_date": "2023-10-05",
        "end_date": "",
        "date_precision": "day",
        "location": location.pk,
        "place": "military academy",
        "location_precision": "exact",
        "reports-TOTAL_FORMS": str(len(reports)),
        "reports-INITIAL_FORMS": "0",
        "reports-MIN_NUM_FORMS": "0",
        "reports-MAX_NUM_FORMS": "1000",
        "attributions-TOTAL_FORMS": "0",
        "attributions-INITIAL_FORMS": "0",
        "victims-TOTAL_FORMS": "0",
        "victims-INITIAL_FORMS": "0",
        **fields,
    }
    for index, row in enumerate(reports):
        data.update({f"reports-{index}-{key}": value for key, value in row.items()})
    return data


@pytest.fixture
def homs_city(db):
    tree = make_tree()
    return make_location("Homs", kind="locality", parent=tree["homs"])


@pytest.fixture
def moh_and_sohr(db):
    return (
        make_source("Syrian Ministry of Health", short_name="MoH", kind="government"),
        make_source("Syrian Observatory for Human Rights", short_name="SOHR"),
    )


def test_an_analyst_records_an_incident_with_two_conflicting_reports(analyst_client, homs_city, moh_and_sohr):
    moh, sohr = moh_and_sohr
    data = incident_form(
        homs_city,
        [
            report_row(moh, killed="89", killed_qualifier="at_least"),
            report_row(sohr, killed="120", killed_qualifier="more_than", published_on="2023-10-06"),
        ],
    )
    response = analyst_client.post(ADD_URL, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    incident = Incident.objects.get()
    assert incident.status == "draft"  # analysts cannot publish
    assert incident.toll.short() == "89–120+" and incident.is_disputed
    assert incident.reports.count() == 2


def test_an_analyst_cannot_publish_by_posting_the_status(analyst_client, homs_city):
    response = analyst_client.post(ADD_URL, incident_form(homs_city, status="published"))
    assert response.status_code == 302
    assert Incident.objects.get().status == "draft"


def test_an_analyst_cannot_publish_with_a_forged_publish_button(analyst_client, homs_city):
    response = analyst_client.post(ADD_URL, {**incident_form(homs_city), "_publish": "Save and publish"})
    assert response.status_code == 403
    assert not Incident.objects.exists()  # nothing half-done: the save is undone with the refusal


def test_an_editor_can_save_and_publish_from_the_form(editor_client, editor, homs_city):
    response = editor_client.post(ADD_URL, {**incident_form(homs_city), "_publish": "Save and publish"})
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.status == "published" and incident.published_by == editor
    assert "Save and unpublish" in editor_client.get(f"/admin/incidents/incident/{incident.pk}/change/").text


def test_posting_the_status_field_changes_nothing_even_for_an_editor(editor_client, homs_city):
    editor_client.post(ADD_URL, incident_form(homs_city, status="published"))
    assert Incident.objects.get().status == "draft"


@pytest.mark.parametrize(
    "row, field, message",
    [
        (
            {"killed": "15", "killed_qualifier": "between", "killed_upper": "10"},
            "killed_upper",
            "'between' needs an upper figure larger than the lower one.",
        ),
        ({"killed": "-4"}, "killed", "A figure cannot be negative."),
        (
            {"killed": "5", "killed_qualifier": "unknown"},
            "killed_qualifier",
            "'unknown' cannot go with a number",
        ),
        ({"killed": ""}, "killed", "Enter the number of people killed"),
        ({"killed": "3", "civilians": "4"}, "civilians", "This cannot be more than the number killed (3)"),
        ({"killed": "3", "published_on": "2023-10-01"}, "published_on", "before the incident started"),
        ({"killed": "3", "published_on": "2999-01-01"}, "published_on", "This date is in the future."),
        ({"killed": "3", "source": ""}, "source", "This field is required."),
        ({"killed": "many"}, "killed", "Enter a whole number."),
    ],
)
def test_each_invalid_report_is_rejected_with_its_message_and_nothing_is_saved(
    analyst_client, homs_city, moh_and_sohr, row, field, message
):
    response = analyst_client.post(ADD_URL, incident_form(homs_city, [report_row(moh_and_sohr[0], **row)]))
    assert response.status_code == 200
    form_errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert any(message in error for error in form_errors[field]), form_errors
    assert Incident.objects.count() == 0 and TollReport.objects.count() == 0


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"end_date": "2023-10-01"}, "end_date", "The end date cannot be before the start date."),
        ({"start_date": "2999-10-05"}, "start_date", "This date is in the future"),
        ({"start_date": "5/10/2023x"}, "start_date", "Enter the date as YYYY-MM-DD, e.g. 2023-10-05."),
        # 05/10/2023 is 5 October to some and 10 May to others: refused, never guessed at.
        ({"start_date": "05/10/2023"}, "start_date", "Enter the date as YYYY-MM-DD, e.g. 2023-10-05."),
        ({"title": ""}, "title", "This field is required."),
    ],
)
def test_each_invalid_incident_field_is_rejected_with_its_message(
    analyst_client, homs_city, fields, field, message
):
    response = analyst_client.post(ADD_URL, incident_form(homs_city, **fields))
    assert response.status_code == 200
    assert any(message in e for e in response.context["adminform"].form.errors[field])
    assert Incident.objects.count() == 0


def test_entering_a_likely_duplicate_warns_with_a_link_but_saves(analyst_client, homs_city):
    original = make_incident(
        "Strike on the academy", location=homs_city, start_date=datetime.date(2023, 10, 5)
    )
    response = analyst_client.post(ADD_URL, incident_form(homs_city, start_date="2023-10-06"), follow=True)
    assert Incident.objects.count() == 2
    html = response.content.decode()
    assert "This may duplicate an incident already recorded within two days nearby" in html
    assert f'href="/admin/incidents/incident/{original.pk}/change/"' in html


def test_no_duplicate_warning_for_an_incident_elsewhere(analyst_client, homs_city):
    make_incident("Elsewhere", location=make_location("Far away"), start_date=datetime.date(2023, 10, 5))
    response = analyst_client.post(ADD_URL, incident_form(homs_city), follow=True)
    assert "may duplicate" not in response.content.decode()


def test_the_change_form_lists_possible_duplicates(analyst_client, homs_city):
    first = make_incident("First", location=homs_city)
    second = make_incident("Second", location=homs_city)
    html = analyst_client.get(f"/admin/incidents/incident/{second.pk}/change/").content.decode()
    assert f'href="/admin/incidents/incident/{first.pk}/change/"' in html


def test_the_incident_list_shows_ranges_and_filters_by_governorate(analyst_client):
    homs = make_homs()
    elsewhere = make_incident(
        "Idlib shelling", location=make_tree.__globals__["Location"].objects.get(pcode="SY07")
    )
    response = analyst_client.get("/admin/incidents/incident/")
    html = response.content.decode()
    assert "89–120+" in html
    filtered = analyst_client.get(f"/admin/incidents/incident/?admin1={homs.location.admin1_id}")
    assert list(filtered.context["cl"].result_list) == [homs]
    assert elsewhere not in filtered.context["cl"].result_list


@pytest.mark.parametrize("value", ["abc", "", "1.5", str(2**70), "99999"])
def test_a_governorate_filter_value_not_in_the_menu_is_ignored_with_a_message(analyst_client, value):
    homs = make_homs()
    response = analyst_client.get("/admin/incidents/incident/", {"admin1": value or " "})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [homs]
    assert "There is no such admin 1 area, so the list is not filtered by one." in response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["start_date__year=9999&start_date__month=12", "start_date__year=9999", "start_date__year=abc",
     "kind__exact=a%00b", "_facets=&status__exact=%00"],
)  # fmt: skip
def test_a_filter_value_that_cannot_be_read_is_ignored_with_a_message(analyst_client, query):
    make_homs()
    response = analyst_client.get(f"/admin/incidents/incident/?{query}", follow=True)
    assert response.status_code == 200
    assert (
        "A filter in the address could not be read, so the list is unfiltered." in response.content.decode()
    )


@pytest.mark.parametrize("selected", [[""], ["abc"], [str(2**70)], ["1", " 2"]])
def test_an_action_on_an_empty_or_forged_selection_changes_nothing_and_says_so(editor_client, selected):
    draft = make_incident("Unchecked", status="draft")
    response = editor_client.post(
        "/admin/incidents/incident/",
        {"action": "publish_selected", "_selected_action": selected},
        follow=True,
    )
    assert response.status_code == 200
    assert "The selected items could not be read, so nothing was changed." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"


@pytest.mark.parametrize("query", ["Homs", "SOHR", "Observatory", "military"])
def test_incident_search_covers_title_place_and_source_names(analyst_client, query):
    homs = make_homs()
    response = analyst_client.get("/admin/incidents/incident/", {"q": query})
    assert list(response.context["cl"].result_list) == [homs]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/incidents/incident/?is_disputed__exact=1",
        "/admin/incidents/incident/?status__exact=published&kind__exact=air_strike",
        "/admin/incidents/tollreport/?q=SOHR",
        "/admin/incidents/location/?q=SY07",
        "/admin/incidents/source/?q=MoH",
        "/admin/incidents/actor/",
        "/admin/autocomplete/?app_label=incidents&model_name=incident&field_name=location&term=hom",
        "/admin/autocomplete/?app_label=incidents&model_name=tollreport&field_name=incident&term=drone",
    ],
)
def test_admin_lists_search_and_autocomplete_answer(analyst_client, url):
    make_homs()
    assert analyst_client.get(url).status_code == 200


def test_location_search_finds_arabic_names(analyst_client):
    place = make_location(
        "Idlib", kind="admin1", name_ar="إدلب", parent=make_location("Syria", kind="country")
    )
    response = analyst_client.get("/admin/incidents/location/", {"q": "إدلب"})
    assert list(response.context["cl"].result_list) == [place]


def test_an_analyst_cannot_delete_a_published_incident_but_an_editor_can(client, analyst, editor):
    incident = make_incident(status="published")
    url = f"/admin/incidents/incident/{incident.pk}/delete/"
    client.force_login(analyst)
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()
    client.force_login(editor)
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Incident.objects.filter(pk=incident.pk).exists()


def test_an_analyst_can_delete_a_draft(analyst_client):
    incident = make_incident(status="draft")
    response = analyst_client.post(f"/admin/incidents/incident/{incident.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Incident.objects.exists()


def test_bulk_deleting_reports_refreshes_the_incident_range(editor_client):
    homs = make_homs()
    sohr_report = homs.reports.get(source__short_name="SOHR")
    editor_client.post(
        "/admin/incidents/tollreport/",
        {"action": "delete_selected", "_selected_action": [sohr_report.pk], "post": "yes"},
    )
    homs.refresh_from_db()
    assert homs.toll.short() == "89+" and not homs.is_disputed


def test_groups_exist_after_migrate_with_their_permissions(db):
    from django.contrib.auth.models import Group

    analyst = set(Group.objects.get(name="Analyst").permissions.values_list("codename", flat=True))
    editor = set(Group.objects.get(name="Editor").permissions.values_list("codename", flat=True))
    assert {"add_incident", "change_tollreport", "add_source", "change_location", "add_actor"} <= analyst
    assert "publish_incident" not in analyst and "export_data" not in analyst
    assert {"publish_incident", "export_data"} <= editor and analyst <= editor


class TestLoadDemo:
    def test_it_loads_the_seed_incidents_published(self):
        call_command("load_demo", verbosity=0)
        homs = Incident.objects.get(slug="homs-military-academy-drone-strike-2023-10-05")
        assert homs.status == "published"
        assert homs.toll.short() == "89–120+"
        assert {r.killed_figure.as_stated() for r in homs.reports.all()} == {"at least 89", "more than 120"}
        assert homs.claimed_by.count() == 0
        assert Incident.objects.count() == 4
        idlib = Incident.objects.get(slug="idlib-shelling-2023-10-05")
        assert idlib in homs.related.all()
        village = Incident.objects.get(slug="jaftallak-haj-hamoud-air-attack-2023-10")
        assert village.location.chain == "Jaftallak Haj Hamoud, Idlib, Syria"
        assert village.reports.get().children == 1

    def test_running_it_twice_changes_nothing(self):
        call_command("load_demo", verbosity=0)
        counts = [m.objects.count() for m in (Incident, TollReport)] + [Incident.history.count()]
        call_command("load_demo", verbosity=0)
        assert [m.objects.count() for m in (Incident, TollReport)] + [Incident.history.count()] == counts

    def test_demo_users_are_refused_outside_debug(self):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="only with DJANGO_DEBUG=1"):
            call_command("load_demo", demo_users=True, verbosity=0)


class TestSitesAndLevels:
    """The al-Ahli hospital is a place of its own, inside Gaza City; Palestine names its levels."""

    def gaza(self):
        palestine = make_location(
            "Palestine", kind="country", admin1_name="region", admin2_name="governorate"
        )
        strip = make_location("Gaza Strip", kind="admin1", parent=palestine)
        governorate = make_location("Gaza", kind="admin2", parent=strip)
        return governorate, make_location("Gaza City", kind="locality", parent=governorate)

    def add_place(self, analyst_client, **fields):
        other_names = {"names-TOTAL_FORMS": "0", "names-INITIAL_FORMS": "0"}
        return analyst_client.post(
            "/admin/incidents/location/add/", {"name": "Al-Ahli Arab Hospital", **other_names, **fields}
        )

    def test_an_analyst_records_a_hospital_as_a_site_under_its_city(self, analyst_client):
        governorate, city = self.gaza()
        response = self.add_place(analyst_client, kind="site", parent=governorate.pk)
        assert response.status_code == 200
        assert "A site lies inside a city, town or village, not directly in a governorate" in (
            response.content.decode()
        )
        response = self.add_place(analyst_client, kind="site", parent=city.pk)
        assert response.status_code == 302
        hospital = Location.objects.get(name="Al-Ahli Arab Hospital")
        assert (hospital.kind, hospital.parent, hospital.admin2) == ("site", city, governorate)

    def test_a_country_names_its_levels_and_the_place_menu_uses_them(self, analyst_client):
        governorate, _ = self.gaza()
        response = analyst_client.get(
            "/admin/autocomplete/",
            {"app_label": "incidents", "model_name": "incident", "field_name": "location", "term": "Gaza"},
        )
        names = [result["text"] for result in response.json()["results"]]
        assert (
            "Gaza Strip, Palestine (region)" in names and "Gaza, Gaza Strip, Palestine (governorate)" in names
        )
        form = analyst_client.get("/admin/incidents/location/add/").content.decode()
        assert (
            "Admin 1 (governorate, province, state…)" in form and "name of its admin 1 level" in form.lower()
        )


def test_the_incident_list_costs_the_same_queries_for_few_and_many_places(analyst_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert analyst_client.get("/admin/incidents/incident/").status_code == 200
        return len(captured)

    def add(n):
        for i in range(n):
            country = make_location(f"Country {i}", kind="country", admin1_name="province")
            make_incident(location=make_location(f"Province {i}", kind="admin1", parent=country))

    add(2)
    few = queries()
    add(20)
    assert queries() == few
