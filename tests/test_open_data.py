"""/data/ and citations: the published data for everyone, described, licensed and citable."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from frictionless import Package

from incidents.citations import stamp
from incidents.models import Incident
from incidents.workflow import publish_incident
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_report,
    make_source,
    make_victim,
)
from tests.test_exports import raw_csv, read_csv, varied  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


def body(response):
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.usefixtures("varied")
def test_the_data_package_validates_with_frictionless_against_the_served_files(client, tmp_path):
    awkward = make_incident("=cmd|' /C calc'!A0, “quoted”, and\nnew lines", summary="x")
    make_report(awkward, make_source("Source, with a comma"), killed=5, qualifier="between", killed_upper=9,
                quote='He said "-5" @ noon', published_time=datetime.time(14, 30))  # fmt: skip
    make_victim(awkward, "=Hidden, Name", age=2, sex="female")
    make_victim(awkward, "Released, Name", public=True, age=40, sex="male", date_of_death=awkward.start_date)
    package = json.loads(body(client.get("/data/datapackage.json")))
    assert package["licenses"] == [
        {"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0 International",
         "path": "https://creativecommons.org/licenses/by/4.0/"}
    ]  # fmt: skip
    assert {s["title"] for s in package["sources"]} >= {
        "Syrian Observatory for Human Rights",
        "Source, with a comma",
    }
    for resource in package["resources"]:
        # The package names the files where they are served; they are checked here from a copy.
        path = resource["path"].removeprefix("http://testserver")
        assert path in ("/data/incidents.csv", "/data/reports.csv", "/data/victims.csv")
        (tmp_path / f"{resource['name']}.csv").write_bytes(body(client.get(path)))
        resource["path"] = f"{resource['name']}.csv"
    report = Package(package, basepath=str(tmp_path)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    rows = {
        resource.name: resource.read_rows() for resource in Package(package, basepath=str(tmp_path)).resources
    }
    assert len(rows["incidents"]) == Incident.objects.published().count() == 13
    assert {row["killed_upper"] for row in rows["reports"]} >= {9}
    assert any(row["published_time"] == datetime.time(14, 30) for row in rows["reports"])
    people = {(row["name"], row["age"], row["is_public"], row["description"]) for row in rows["victims"]}
    assert people == {
        (None, 2, False, "a girl aged 2, civilian"),
        ("Released, Name", 40, True, "a man aged 40, civilian"),
    }


def test_every_column_of_both_files_has_a_type(client):
    package = json.loads(body(client.get("/data/datapackage.json")))
    for resource in package["resources"]:
        header = raw_csv(client.get(resource["path"].removeprefix("http://testserver"))).splitlines()[0]
        assert [field["name"] for field in resource["schema"]["fields"]] == header.split(",")
        assert all(field["description"] for field in resource["schema"]["fields"])


@pytest.mark.usefixtures("varied")
@pytest.mark.parametrize("name", ["incidents", "reports"])
@pytest.mark.parametrize("query", ["", "hxl=1", "location=idlib&sort=toll", "hxl=1&kind=shelling"])
def test_the_public_files_are_the_editors_exports_of_published_data(client, editor_client, name, query):
    make_incident("A draft", status="draft")
    public = raw_csv(client.get(f"/data/{name}.csv?{query}"))
    assert public == raw_csv(editor_client.get(f"/export/{name}.csv?{query}"))
    assert public == raw_csv(client.get(f"/data/{name}.csv?{query}&status=all"))  # never drafts
    assert "A draft" not in public


def test_the_public_files_are_for_everyone_and_say_when_a_filter_is_wrong(client):
    make_homs()
    assert len(read_csv(client.get("/data/incidents.csv"))) == 1
    response = client.get("/data/reports.csv?date_after=10/05/2023")
    assert response.status_code == 400
    assert "date_after: Enter a date as YYYY-MM-DD" in response.content.decode()


def test_the_page_gives_the_files_the_licence_when_the_data_changed_and_how_to_cite(client, settings):
    homs = make_homs()
    settings.OPEN_DATA_LICENCE = {
        "name": "ODbL-1.0",
        "title": "Open Database License",
        "path": "https://odbl.example/",
    }
    html = body(client.get("/data/")).decode()
    for link in ("/data/incidents.csv", "/data/reports.csv", "/data/datapackage.json", "/api/docs/"):
        assert f'href="{link}"' in html
    assert '<a href="https://odbl.example/" rel="license">Open Database License</a> (ODbL-1.0)' in html
    changed = homs.reports.order_by("-updated_at").first().updated_at
    assert f'The data last changed on <time datetime="{changed:%Y-%m-%d}' in html
    assert (
        "Casualty Tracker. Published incidents and reports (CSV, ODbL-1.0). http://testserver/data/." in html
    )
    assert json.loads(body(client.get("/data/datapackage.json")))["licenses"][0]["name"] == "ODbL-1.0"


def test_the_data_last_changed_when_a_report_was_deleted(client):
    homs = make_homs()
    before = json.loads(body(client.get("/data/datapackage.json")))["created"]
    homs.reports.first().delete()
    assert json.loads(body(client.get("/data/datapackage.json")))["created"] > before


# --- Cite this record ---------------------------------------------------------------------------


def test_every_incident_page_shows_how_to_cite_it(client):
    homs = make_homs()
    html = body(client.get(homs.get_absolute_url())).decode()
    assert '<h2 id="cite-heading">Cite this record</h2>' in html
    assert f"<code>incident:{homs.pk}</code>" in html
    today = datetime.date.today()
    title = "“Drone strike on the Homs military academy”"
    assert (
        f"Casualty Tracker. {title}, 5 October 2023 (incident:{homs.pk}). "
        f"http://testserver/incidents/{homs.slug}/. Version of " in html
    )
    assert f"Accessed {today:%-d %B %Y}." in html
    assert f'href="http://testserver/incidents/{homs.slug}/versions/' in html


def permalink(client, incident):
    citation = json.loads(body(client.get(f"/api/incidents/{incident.slug}/")))["citation"]
    return citation["version"]["permalink"].removeprefix("http://testserver")


def test_the_permalink_shows_the_version_that_was_cited_after_the_record_changed(client):
    homs = make_homs()
    cited = permalink(client, homs)
    assert cited == client.get(homs.get_absolute_url()).context["citation"]["version"][
        "permalink"
    ].removeprefix("http://testserver")
    homs.title = "Renamed later"
    homs.save()
    make_report(homs, make_source("Later source"), killed=200, qualifier="exact")
    then = body(client.get(cited)).decode()
    assert "Drone strike on the Homs military academy" in then and "Renamed later" not in then
    assert "Later source" not in then and "at least 89" in then and "more than 120" in then
    now = permalink(client, homs)
    assert now != cited
    assert (
        "Renamed later" in body(client.get(now)).decode() and "Later source" in body(client.get(now)).decode()
    )


def test_no_version_from_before_publication_or_of_a_draft_is_shown(client):
    incident = make_incident("Draft words", status="draft")
    make_report(incident, killed=3)
    draft_moment = Incident.history.filter(id=incident.pk).latest("history_date").history_date
    draft_version = f"/incidents/{incident.slug}/versions/{stamp(draft_moment)}/"
    assert client.get(draft_version).status_code == 404  # a draft incident
    publish_incident(incident=incident, user=None, via="tests")
    assert client.get(draft_version).status_code == 404  # published now, but a draft then
    assert client.get(permalink(client, incident)).status_code == 200
    assert client.get(f"/incidents/{incident.slug}/versions/yesterday/").status_code == 404
    assert client.get(f"/incidents/{incident.slug}/versions/19990101T000000000000Z/").status_code == 404


def test_a_version_costs_the_same_queries_for_one_report_and_for_thirty(client):
    """The cited version is read from the history in a fixed number of queries, however many
    sources, revisions and attributions the incident has."""

    def queries(incident):
        cache.clear()
        url = permalink(client, incident)
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = make_incident("Few")
    one_source = make_source("One source")
    make_report(few, one_source, killed=3)
    make_attribution(few, make_actor("One actor"), one_source)
    many = make_incident("Many")
    for number in range(10):
        source = make_source(f"Source {number}")
        make_attribution(many, make_actor(f"Actor {number}"), source)
        for revision in range(3):
            make_report(
                many, source, killed=number + revision, published_on=datetime.date(2023, 10, 5 + revision)
            )
    assert queries(few) == queries(many)


def test_a_cited_version_gives_a_quote_with_its_translation_as_the_page_does(client):
    incident = make_incident("Shelling of a market")
    make_report(
        incident,
        make_source("Local council"),
        killed=7,
        quote="قتل سبعة مدنيين",
        quote_language="ar",
        quote_translation="Seven civilians were killed",
        translation_is_machine=True,
    )
    html = body(client.get(permalink(client, incident))).decode()
    assert '<blockquote dir="auto" lang="ar">“قتل سبعة مدنيين”</blockquote>' in html
    assert "Machine translation:" in html and "“Seven civilians were killed”" in html
