"""The public API: published data only, the list's filters exactly, the pages' figures and words."""

import datetime
import json

import jsonschema
import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_openapi
from rest_framework.throttling import AnonRateThrottle

from casualty_tracker.env import env_rate
from incidents.models import Incident, TollReport
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
from tests.test_exports import bulk_incidents, read_csv, varied  # noqa: F401 (a fixture)
from tests.test_security import FILTERS, hostile_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The throttle counts requests in the cache: each test starts with none counted."""
    cache.clear()
    yield
    cache.clear()


def get_json(client, url, status=200, **headers):
    response = client.get(url, **headers)
    assert response.status_code == status, response.content
    return json.loads(response.content)


def walk(client, url):
    """Every item of a paginated endpoint, following ``next``."""
    items = []
    while url:
        page = get_json(client, url)
        items += page["results"] if "results" in page else page["features"]
        url = page["next"]
    return items


# --- Parity with /incidents/ and the editors' incidents.csv ------------------------------------

PARITY_QUERIES = [
    "",
    "q=SOHR",
    "q=incident 1",
    "date_after=2023-10-06",
    "date_before=2023-10-05",
    "date_after=2023-10-03&date_before=2023-10-08",
    "location=idlib",
    "location=syria&kind=shelling",
    "kind=armed_clash",
    "perpetrator=gunmen",
    "source=sohr&sort=oldest",
    "disputed=true",
    "disputed=false&min_killed=10",
    "contradictory=false&sort=toll",
    "attribution=agreed&sort=disputed",
    "min_killed=17&location=homs&sort=oldest",
]


@pytest.mark.usefixtures("varied")
@pytest.mark.parametrize("query", PARITY_QUERIES)
def test_the_api_lists_what_the_list_page_and_the_csv_list_in_the_same_order(client, editor_client, query):
    assert len(PARITY_QUERIES) == 16
    listed = [i.pk for i in client.get(f"/incidents/?{query}").context["page"].object_list]
    exported = [int(row["id"]) for row in read_csv(editor_client.get(f"/export/incidents.csv?{query}"))]
    api = [item["id"] for item in walk(client, f"/api/incidents/?{query}&page_size=3")]
    geojson = [feature["id"] for feature in walk(client, f"/api/incidents.geojson?{query}")]
    assert api == listed == exported == geojson
    assert listed


@pytest.mark.usefixtures("varied")
def test_the_parity_queries_each_choose_some_incidents(client):
    counts = [get_json(client, f"/api/incidents/?{q}")["count"] for q in PARITY_QUERIES]
    assert counts[0] == Incident.objects.published().count() == 12
    assert all(counts) and min(counts) < 12


# --- Malformed filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("date_after=05/10/2023", "date_after", "YYYY-MM-DD"),
        ("location=nowhere", "location", "no such place"),
        ("perpetrator=nobody", "perpetrator", "no such actor"),
        ("min_killed=2.5", "min_killed", "whole number"),
        ("kind=picnic", "kind", "not one of the available choices"),
        ("date_after=2023-10-09&date_before=2023-10-01", "date_before", "before the “from” date"),
    ],
)
@pytest.mark.parametrize("endpoint", ["/api/incidents/", "/api/incidents.geojson", "/api/reports/"])
def test_a_malformed_filter_is_a_400_that_says_why(client, endpoint, query, field, words):
    body = get_json(client, f"{endpoint}?{query}", status=400)
    assert words.lower() in " ".join(body["errors"][field]).lower()
    assert field in body["detail"] and words.lower() in body["detail"].lower()


# --- What an incident says ----------------------------------------------------------------------


def test_an_incident_gives_its_range_agreement_and_each_figure_as_stated_and_as_an_interval(client):
    homs = make_homs()
    item = get_json(client, "/api/incidents/")["results"][0]
    assert item["id"] == homs.pk and item["url"] == f"http://testserver/incidents/{homs.slug}/"
    assert item["killed"] == {
        "lowest": 89, "highest": 120, "highest_open": True, "short": "89–120+", "agreement": "differ",
        "figure_count": 2, "source_count": 2, "is_floor": False,
    }  # fmt: skip
    assert item["disputed"] is True and item["contradictory"] is False
    stated = {f["source"]["short_name"]: f for f in item["current_figures"]}
    assert stated["MoH"]["as_stated"] == "at least 89"
    assert stated["MoH"]["interval"] == {"low": 89, "high": None}
    assert stated["SOHR"]["as_stated"] == "more than 120"
    assert stated["SOHR"]["interval"] == {"low": 121, "high": None}
    assert (stated["SOHR"]["stated_low"], stated["SOHR"]["open"]) == (120, True)
    assert item["civilians"]["lowest"] is None and item["civilians"]["short"] == "unknown"


@pytest.mark.parametrize(
    ("qualifier", "killed", "upper", "as_stated", "counted_as", "interval"),
    [
        ("exact", 0, None, "0", "", {"low": 0, "high": 0}),
        ("about", 50, None, "about 50", "", {"low": 50, "high": 50}),
        ("up_to", 30, None, "up to 30", "", {"low": 0, "high": 30}),
        ("between", 10, 15, "between 10 and 15", "", {"low": 10, "high": 15}),
        ("dozens", None, None, "dozens", "at least 24", {"low": 24, "high": None}),
        ("unknown", None, None, "unknown", "", None),
    ],
)
def test_each_wording_comes_as_stated_and_as_the_interval_it_allows(
    client, qualifier, killed, upper, as_stated, counted_as, interval
):
    incident = make_incident()
    make_report(incident, killed=killed, qualifier=qualifier, killed_upper=upper)
    figure = get_json(client, f"/api/incidents/{incident.slug}/")["reports"][0]["killed"]
    assert (figure["as_stated"], figure["counted_as"], figure["interval"]) == (
        as_stated,
        counted_as,
        interval,
    )


def test_the_api_says_what_the_incident_page_says(client):
    homs = make_homs()
    moh = homs.reports.get(source__short_name="MoH").source
    make_report(homs, moh, killed=95, qualifier="at_least", published_on=datetime.date(2023, 10, 7))
    make_report(homs, make_source("Airwars"), killed=30, killed_counts="civilians")
    gunmen, said = make_actor("Gunmen", kind="non_state_group"), make_source("Witness")
    make_attribution(homs, gunmen, said)
    make_attribution(homs, gunmen, gunmen_source := make_source("Gunmen media"), stance="denied")
    page = client.get(homs.get_absolute_url()).context
    detail = get_json(client, f"/api/incidents/{homs.slug}/")
    assert detail["sentences"] == [page["sentence"], *page["more_sentences"]]
    assert detail["revisions"] == page["revisions"] and detail["revisions"]
    assert detail["attribution"]["sentence"] == page["blame_sentence"]
    assert detail["attribution"]["disputed"] is True
    assert {(s["source"]["name"], s["stance"]) for s in detail["attribution"]["stances"]} == {
        ("Witness", "alleged"),
        (gunmen_source.name, "denied"),
    }
    assert [r["id"] for r in detail["reports"]] == list(
        homs.reports.order_by("published_on", "pk").values_list("pk", flat=True)
    )
    assert sum(r["is_current"] for r in detail["reports"]) == 3
    assert detail["civilians"]["lowest"] == 30
    assert detail["citation"] == {**page["citation"], "accessed": page["citation"]["accessed"].isoformat(),
                                  "version": detail["citation"]["version"]}  # fmt: skip
    assert detail["citation"]["version"]["permalink"] == page["citation"]["version"]["permalink"]


@pytest.mark.parametrize("filters", ["", "&location={place}", "&kind=air_strike"])
def test_the_reports_list_walks_every_report_however_few_incidents_hold_them(client, filters):
    homs = make_homs()
    make_report(homs, make_source("Homs health directorate", short_name="HHD"), killed=95)
    expected = list(homs.reports.order_by("pk").values_list("pk", flat=True))
    assert len(expected) == 3  # on one incident: a count of incidents would stop after the first
    url = "/api/reports/?page_size=1" + filters.format(place=homs.location.parent.slug)
    seen = []
    while url:
        body = get_json(client, url)
        assert body["count"] == 3
        seen += [report["id"] for report in body["results"]]
        url = body["next"]
    assert seen == expected


# --- Drafts -------------------------------------------------------------------------------------


@pytest.fixture
def with_drafts(db):
    """A published incident whose whole, part and related incident are drafts, and a draft that
    alone names a secret source, actor and place."""
    tree = make_tree()
    published = make_incident("Published strike", location=tree["city"])
    make_report(published, make_source("Open source"))
    secret_place = make_location("Secretplace", parent=tree["district"], latitude=35.0, longitude=36.0)
    draft = make_incident("Secretdraft title", location=secret_place, status="draft")
    make_report(draft, make_source("Secretsource"), quote="Secretquote")
    make_attribution(draft, make_actor("Secretactor"), make_source("Secretblamer"))
    Incident.objects.filter(pk=published.pk).update(part_of=draft)
    make_incident("Secretpart", location=tree["city"], status="draft", part_of=published)
    published.related.add(draft)
    return published


SECRETS = ["Secretdraft", "Secretsource", "Secretquote", "Secretactor", "Secretblamer", "Secretplace",
           "secretpart", "Secretpart"]  # fmt: skip


def test_drafts_and_names_only_drafts_use_appear_nowhere(client, editor_client, with_drafts):
    published = with_drafts
    urls = [
        "/api/", "/api/incidents/", "/api/incidents.geojson", f"/api/incidents/{published.slug}/",
        "/api/reports/", "/api/locations/", "/api/sources/", "/api/actors/", "/api/schema/",
        "/data/", "/data/datapackage.json", "/data/incidents.csv", "/data/reports.csv",
        "/data/incidents.csv?status=all", "/data/reports.csv?status=all",
    ]  # fmt: skip
    for reader in (client, editor_client):  # logged in or not, the API and /data/ are for readers
        for url in urls:
            response = reader.get(url)
            assert response.status_code == 200, url
            body = b"".join(response.streaming_content) if response.streaming else response.content
            for secret in SECRETS:
                assert secret.encode() not in body, (url, secret)
    detail = get_json(client, f"/api/incidents/{published.slug}/")
    assert detail["part_of"] is None and detail["parts"] == [] and detail["related"] == []
    assert get_json(client, "/api/incidents.geojson")["features"][0]["properties"]["part_of"] is None
    assert read_csv(client.get("/data/incidents.csv"))[0]["part_of"] == ""
    draft = Incident.objects.get(title="Secretdraft title")
    assert client.get(f"/api/incidents/{draft.slug}/").status_code == 404
    assert editor_client.get(f"/api/incidents/{draft.slug}/").status_code == 404
    for filters in ("source=secretsource", "perpetrator=secretactor", "location=secretplace"):
        assert "no such" in get_json(client, f"/api/incidents/?{filters}", status=400)["detail"]


def test_a_published_whole_and_parts_are_linked(client):
    whole = make_incident("Wave of shelling")
    part = make_incident("Thursday", part_of=whole)
    item = get_json(client, f"/api/incidents/{whole.slug}/")
    assert item["parts"] == [{"id": part.pk, "slug": part.slug, "title": "Thursday"}]
    assert get_json(client, f"/api/incidents/{part.slug}/")["part_of"]["id"] == whole.pk


# --- GeoJSON ------------------------------------------------------------------------------------

POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
# RFC 7946 for what this endpoint can give: a FeatureCollection of Points or of no geometry.
GEOJSON_SCHEMA = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"const": "Feature"},
                    "id": {"type": ["number", "string"]},
                    "properties": {"type": ["object", "null"]},
                    "geometry": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["type", "coordinates"],
                                "properties": {"type": {"const": "Point"}, "coordinates": POSITION},
                            },
                        ]
                    },
                },
            },
        },
    },
}


def test_the_geojson_is_a_valid_feature_collection_longitude_first_with_the_precision_stated(client):
    homs = make_homs()  # its place has no coordinates
    placed = make_incident(
        "Placed",
        location=make_location("Saraqib", latitude=35.8625, longitude=36.8006),
        location_precision="near",
    )
    response = client.get("/api/incidents.geojson")
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(response.content)
    jsonschema.validate(collection, GEOJSON_SCHEMA)
    features = {f["id"]: f for f in collection["features"]}
    assert features[placed.pk]["geometry"] == {"type": "Point", "coordinates": [36.8006, 35.8625]}
    assert features[placed.pk]["properties"]["location_precision"] == "near"
    assert features[placed.pk]["properties"]["coordinates_of"] == "place"
    assert features[homs.pk]["geometry"] is None
    assert features[homs.pk]["properties"]["killed"] == "89–120+"


def test_an_incident_placed_by_its_own_coordinates_is_mapped_there_not_at_its_place(client):
    """A dataset's event (or an analyst) may place an incident more precisely than its place."""
    placed = make_incident(
        "Strike on a farm outside Saraqib",
        location=make_location("Saraqib", latitude=35.8625, longitude=36.8006),
        latitude=35.87,
        longitude=36.81,
    )
    features = {f["id"]: f for f in client.get("/api/incidents.geojson").json()["features"]}
    assert features[placed.pk]["geometry"]["coordinates"] == [36.81, 35.87]
    assert features[placed.pk]["properties"]["coordinates_of"] == "incident"
    detail = client.get(f"/api/incidents/{placed.slug}/").json()
    assert detail["coordinates"] == {"latitude": 35.87, "longitude": 36.81, "of": "incident"}


def test_the_geojson_comes_in_pages_of_1000_with_a_link_to_the_next(client):
    tree = make_tree()
    bulk_incidents(1001, tree["city"], make_source(), make_source(), make_actor())
    first = get_json(client, "/api/incidents.geojson")
    assert len(first["features"]) == 1000 and first["count"] == 1001
    assert len(get_json(client, first["next"])["features"]) == 1
    assert len(get_json(client, "/api/incidents.geojson?page_size=5000")["features"]) == 1000


# --- Schema and docs ----------------------------------------------------------------------------


def test_the_schema_validates_as_openapi_3_1_and_every_documented_path_answers(client):
    homs = make_homs()
    schema = get_json(client, "/api/schema/?format=json")
    validate_openapi(schema)
    assert schema["openapi"] == "3.1.0"
    paths = list(schema["paths"])
    assert {"/api/incidents/", "/api/incidents/{slug}/", "/api/incidents.geojson", "/api/reports/",
            "/api/locations/", "/api/sources/", "/api/actors/"} <= set(paths)  # fmt: skip
    for path in paths:
        assert "get" in schema["paths"][path]
        response = client.get(path.replace("{slug}", homs.slug))
        assert response.status_code == 200, path
        assert json.loads(response.content), path


def test_every_answer_has_the_shape_the_schema_documents(client):
    homs = make_homs()
    make_attribution(homs, make_actor("Gunmen"), make_source("Witness"))
    make_incident("Thursday", location=homs.location, part_of=homs)
    make_report(homs, make_source("Airwars"), killed=None, qualifier="dozens", killed_counts="civilians")
    schema = get_json(client, "/api/schema/?format=json")
    for path, operations in schema["paths"].items():
        documented = operations["get"]["responses"]["200"]["content"]
        media_type = next(iter(documented))
        response = client.get(path.replace("{slug}", homs.slug))
        assert response["Content-Type"].startswith(media_type), path
        body = json.loads(response.content)
        wanted = {**documented[media_type]["schema"], "components": schema["components"]}
        OAS31Validator(wanted).validate(body)


def test_the_docs_are_served_from_our_own_static_files_under_the_strict_csp(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<script>" not in html  # no inline script: the start-up script is a file
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle" in html
    assert "http" not in html.split("<body>")[1].replace("http-equiv", "")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and b"/api/schema/" in script.content


# --- Throttling and conditional requests --------------------------------------------------------


def test_too_many_requests_get_a_clear_429(client, monkeypatch):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/minute"})
    # Three answers that had to be made (an answer the page cache already holds costs nothing,
    # and is not counted): a client walking the pages is throttled.
    for size in (10, 20, 30):
        assert client.get(f"/api/incidents/?page_size={size}").status_code == 200
    response = client.get("/api/sources/")
    assert response.status_code == 429
    body = json.loads(response.content)
    assert "3/minute" in body["detail"] and "Try again in" in body["detail"]
    assert 0 < body["retry_after"] <= 60 and response["Retry-After"] == str(body["retry_after"])


def test_asking_again_gives_304_until_something_changes(client):
    homs = make_homs()
    for url in ("/api/incidents/", f"/api/incidents/{homs.slug}/", "/api/incidents.geojson"):
        first = client.get(url)
        etag = first["ETag"]
        assert "no-cache" in first["Cache-Control"]
        again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b""
    etags = {url: client.get(url)["ETag"] for url in ("/api/incidents/", f"/api/incidents/{homs.slug}/")}
    make_report(homs, make_source("Later source"), killed=130, qualifier="at_least")
    for url, etag in etags.items():
        changed = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert changed.status_code == 200 and b"Later source" in changed.content


# --- Fixed number of queries --------------------------------------------------------------------

COUNTED = [
    "/api/", "/api/incidents/", "/api/incidents/?location=idlib&sort=toll&q=bulk", "/api/incidents.geojson",
    "/api/reports/", "/api/reports/?kind=shelling", "/api/locations/", "/api/sources/", "/api/actors/",
    "/api/incidents/{slug}/", "/data/", "/data/datapackage.json", "/data/incidents.csv", "/data/reports.csv",
]  # fmt: skip


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        assert response.status_code == 200, url
        if response.streaming:
            b"".join(response.streaming_content)
    return len(captured)


def test_each_answer_costs_the_same_queries_for_10_and_1000_incidents(client):
    tree = make_tree()
    data = (tree["city"], make_source("MoH"), make_source("SOHR"), make_actor())

    def counts(n, reports):
        Incident.objects.filter(part_of__isnull=False).delete()
        Incident.objects.all().delete()
        bulk_incidents(n, *data)
        first = Incident.objects.get(slug="bulk-0")
        make_attribution(first, data[3], data[1])
        make_incident("A part", location=tree["city"], part_of=first)
        TollReport.objects.bulk_create(
            [
                TollReport(incident=first, source=data[1], published_on=first.start_date, killed=k)
                for k in range(reports)
            ]
        )
        cache.clear()
        return {url: queries_for(client, url.replace("{slug}", first.slug)) for url in COUNTED}

    assert counts(10, 1) == counts(1000, 50)


@pytest.mark.parametrize(
    ("raw", "rate"), [("", "120/minute"), ("30/minute", "30/minute"), (" 5/second ", "5/second")]
)
def test_the_throttle_rate_is_a_setting(raw, rate):
    assert (
        env_rate("DJANGO_API_THROTTLE_RATE", "120/minute", environ={"DJANGO_API_THROTTLE_RATE": raw}) == rate
    )


@pytest.mark.parametrize("raw", ["120", "120/min", "many/minute", "0/minute", "-5/day"])
def test_a_throttle_rate_that_cannot_be_read_stops_the_server_with_a_clear_message(raw):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_API_THROTTLE_RATE=.* is not a rate"):
        env_rate("DJANGO_API_THROTTLE_RATE", "120/minute", environ={"DJANGO_API_THROTTLE_RATE": raw})


@hypothesis_settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=st.dictionaries(st.sampled_from([*FILTERS, "page_size", "format"]), hostile_text, max_size=4))
def test_fuzzed_filters_never_give_a_500(client, monkeypatch, params):
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute"})
    for url in ["/api/incidents/", "/api/incidents.geojson", "/api/reports/", "/data/incidents.csv"]:
        response = client.get(url, params)
        assert response.status_code in (200, 400, 404), (url, params, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
        elif response.status_code != 200:
            assert json.loads(response.content)["detail"] if url.startswith("/api/") else response.content
