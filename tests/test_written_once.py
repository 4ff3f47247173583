"""Rows of the incidents tables and the map's features are written once for what they show, and
a page rendered again after a revision writes only what changed: never an out-of-date row."""

import json

import pytest
from django.template import loader
from django.utils import translation

from incidents.api import views as api_views
from incidents.models import Incident, TollReport
from incidents.templatetags import written_once
from tests.factories import make_actor, make_attribution, make_incident, make_report, make_source


@pytest.fixture
def two_strikes(db):
    academy = make_incident("Strike on the academy")
    make_report(academy, source=make_source("Ministry of Health"), killed=89, qualifier="at_least")
    market = make_incident("Shelling of the market")
    make_report(market, source=make_source("Civil Defence"), killed=12)
    return academy, market


@pytest.fixture
def rows_rendered(monkeypatch):
    """The facts of each row a row template renders, in order (the rows kept are forgotten first)."""
    written_once.ROWS_WRITTEN.clear()
    rendered = []

    class Counting:
        def __init__(self, name):
            self.template = loader.get_template(name)

        def render(self, context):
            if "row" in context:  # not the filter box
                rendered.append(context["row"])
            return self.template.render(context)

    monkeypatch.setattr(written_once, "get_template", Counting)
    return rendered


def row_of(text, title):
    start = text.index(title)
    return text[text.rindex("<tr>", 0, start) : text.index("</tr>", start)]


def test_a_revised_figure_is_in_its_row_and_only_that_row_is_rendered_again(
    client, two_strikes, rows_rendered
):
    academy, market = two_strikes
    first = client.get("/incidents/").content.decode()
    assert "89+ killed" in row_of(first, "Strike on the academy")
    assert sorted(row.title for row in rows_rendered) == ["Shelling of the market", "Strike on the academy"]
    report = academy.reports.get()
    report.killed = 91
    report.save()
    rows_rendered.clear()
    again = client.get("/incidents/").content.decode()
    assert "91+ killed" in row_of(again, "Strike on the academy")
    assert "12 killed" in row_of(again, "Shelling of the market")
    assert [row.title for row in rows_rendered] == ["Strike on the academy"]
    # The same rows on the home page and the map's list: written already.
    rows_rendered.clear()
    client.get("/")
    client.get("/map/")
    assert rows_rendered == []


def test_a_row_is_written_again_for_a_new_title_place_name_or_whole(client, two_strikes, rows_rendered):
    academy, market = two_strikes
    client.get("/incidents/")
    academy.title = "Drone strike on the military academy"
    academy.save()
    place = market.location
    place.name = "Old Market Quarter"
    place.save()
    text = client.get("/incidents/").content.decode()
    assert "Drone strike on the military academy" in text
    assert "Old Market Quarter" in row_of(text, "Shelling of the market")
    whole = make_incident("Homs offensive")
    market.part_of = whole
    market.save()
    text = client.get("/incidents/").content.decode()
    assert "part of" in row_of(text, "Shelling of the market")
    whole.title = "Homs offensive, October 2023"
    whole.save()
    text = client.get("/incidents/").content.decode()
    assert "Homs offensive, October 2023" in row_of(text, "Shelling of the market")


def test_rows_are_kept_apart_by_language(client, two_strikes, rows_rendered):
    english = client.get("/incidents/").content.decode()
    arabic = client.get("/ar/incidents/").content.decode()
    assert 'data-label="Reported killed"' in english
    assert 'data-label="Reported killed"' not in arabic
    assert len(rows_rendered) == 4  # two rows in each language


def test_rows_differing_only_in_whether_sources_agree_are_two_rows(db, rows_rendered):
    """120 and "more than 120" from two sources give the same stored ends as two sources both
    saying 120; only the stored agreement tells the row to say that the sources differ."""
    academy = make_incident("Strike on the academy")
    stored = {"killed_lowest": 120, "killed_highest": 120, "figure_count": 2, "source_count": 2}
    agreeing = Incident.objects.select_related("location").get(pk=academy.pk)
    differing = Incident.objects.select_related("location").get(pk=academy.pk)
    for incident, agreement in ((agreeing, "agree"), (differing, "differ")):
        for name, value in {
            **stored,
            "killed_agreement": agreement,
            "is_disputed": agreement == "differ",
        }.items():
            setattr(incident, name, value)
    with translation.override("en"):
        agreed = written_once.incident_rows([agreeing])
        differ = written_once.incident_rows([differing])
    assert "sources differ" not in agreed
    assert "sources differ" in differ and 'class="badge">disputed' in differ
    assert len(rows_rendered) == 2


def test_a_sources_page_writes_again_only_its_revised_figure(client, two_strikes, rows_rendered):
    academy, market = two_strikes
    moh = academy.reports.get().source
    make_report(market, source=moh, killed=11, published_on=market.start_date)
    make_attribution(market, actor=make_actor("Drone operators"), source=moh)
    url = f"/sources/{moh.slug}/"
    first = client.get(url).content.decode()
    assert "at least 89" in first and "Ministry of Health alleges" in first
    report = academy.reports.get()
    report.killed = 91
    report.save()
    rows_rendered.clear()
    again = client.get(url).content.decode()
    assert "at least 91" in again and "at least 89" not in again and "Drone operators" in again
    assert [type(row).__name__ for row in rows_rendered] == ["FigureFacts"]
    assert rows_rendered[0].incident.title == "Strike on the academy"


@pytest.fixture
def features_written(monkeypatch):
    api_views.FEATURES_WRITTEN.clear()
    written = []
    feature = api_views.feature
    monkeypatch.setattr(
        api_views, "feature", lambda row, pages: written.append(row["slug"]) or feature(row, pages)
    )
    return written


def test_the_map_writes_again_only_the_revised_feature(client, two_strikes, features_written):
    academy, market = two_strikes
    first = client.get("/api/incidents.geojson").json()
    assert {f["properties"]["killed"] for f in first["features"]} == {"89+", "12"}
    assert sorted(features_written) == sorted([academy.slug, market.slug])
    report = academy.reports.get()
    report.killed = 91
    report.save()
    features_written.clear()
    again = client.get("/api/incidents.geojson").json()
    killed = {f["properties"]["slug"]: f["properties"]["killed"] for f in again["features"]}
    assert killed == {academy.slug: "91+", market.slug: "12"}
    assert features_written == [academy.slug]
    assert again["count"] == 2 and again["next"] is None and again["type"] == "FeatureCollection"


def test_the_map_is_written_as_the_api_writes_json(client, db, features_written):
    """UTF-8 as it is, compact, and the two line separators that JavaScript cannot read in a
    string escaped (as DRF's renderer writes every other answer)."""
    make_incident("قصف السوق\u2028second line")
    response = client.get("/api/incidents.geojson")
    body = response.content.decode()
    assert response["Content-Type"] == "application/geo+json"
    assert "قصف السوق\\u2028second line" in body and "\u2028" not in body
    assert body.startswith('{"type":"FeatureCollection","features":[{"type":"Feature",')
    assert json.loads(body)["features"][0]["properties"]["title"] == "قصف السوق\u2028second line"


@pytest.mark.django_db(transaction=True)  # kept outside transactions only, as the menus
def test_the_filter_box_is_kept_with_the_menus_and_says_back_each_filter_asked(
    client, two_strikes, monkeypatch
):
    from incidents import filters

    filters.RENDERED_MENUS.clear()
    boxes = []
    render = written_once.filter_box

    monkeypatch.setattr(
        written_once, "get_template", lambda name: boxes.append(name) or loader.get_template(name)
    )
    first = client.get("/incidents/?kind=shelling").content.decode()
    academy, market = two_strikes
    TollReport.objects.filter(incident=academy).update(killed=91)  # a revision: not the box's
    again = client.get("/incidents/?kind=shelling").content.decode()
    assert boxes.count("includes/incident_filters.html") == 1
    assert 'value="shelling" selected' in first and 'value="shelling" selected' in again
    assert "Filter (1 set)" in again
    # Another filter, a bad one, another language, the map: each its own box.
    assert 'value="air_strike" selected' in client.get("/incidents/?kind=air_strike").content.decode()
    assert "Some filters could not be read" in client.get("/incidents/?date_after=yesterday").content.decode()
    arabic = client.get("/ar/incidents/?kind=shelling").content.decode()
    assert (
        'value="shelling" selected' in arabic and "امسح المرشِّحات" in arabic and "Clear filters" not in arabic
    )
    client.get("/map/?kind=shelling")
    assert boxes.count("includes/incident_filters.html") == 5
    assert render is written_once.filter_box


@pytest.mark.parametrize(
    "url", ["/api/incidents/", "/api/incidents/?page_size=1&page=2", "/api/incidents.geojson"]
)
def test_answers_written_by_hand_are_what_drfs_renderer_writes(client, db, url):
    """The API's list and the map are written around records and features kept as JSON: byte
    for byte what DRF's JSONRenderer writes for the same data (key order, compact, UTF-8, the
    line separators escaped)."""
    from rest_framework.renderers import JSONRenderer

    make_report(make_incident("قصف السوق\u2028second line"), killed=12)
    make_report(make_incident("Strike on the academy"), killed=89, qualifier="at_least")
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == JSONRenderer().render(response.json())
