"""The map (issue 20): /map/ with the list's filters and the incidents listed beside it, the small
maps of an incident and a place, the admin's coordinates, the tiles' setting and the CSP, and the
vendored Leaflet. In a real browser: tests/test_map_browser.py."""

import datetime
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casualty_tracker.env import OSM_ATTRIBUTION, OSM_TILES_URL, env_tiles_url, tile_origins
from incidents import maps
from incidents.models import Incident
from tests.admin_helpers import change_form_data
from tests.factories import make_incident, make_location, make_report, make_source, make_tree

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


def text(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def settings_of(page):
    """The JSON the page gives static/js/map.js."""
    found = re.search(r'<script id="map-settings" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1)) if found else None


@pytest.fixture
def places():
    tree = make_tree()
    homs = make_location(
        "Homs", parent=tree["homs"], latitude=Decimal("34.7324"), longitude=Decimal("36.7137")
    )
    idlib = tree["city"]
    idlib.latitude, idlib.longitude = Decimal("35.9306"), Decimal("36.6339")
    idlib.save()
    nowhere = make_location("A village without coordinates", parent=tree["district"])
    return {**tree, "homs_city": homs, "idlib_city": idlib, "nowhere": nowhere}


class TestMapPage:
    def test_it_lists_the_published_incidents_that_match_with_their_ranges(self, client, places):
        strike = make_incident("Strike on the academy", location=places["homs_city"])
        make_report(strike, killed=89, qualifier="at_least")
        make_report(strike, killed=120, qualifier="more_than")
        make_incident("Shelling of the market", location=places["idlib_city"], kind="shelling")
        make_incident("A draft strike", location=places["homs_city"], status="draft")
        html = text(client.get("/map/?kind=air_strike"))
        assert "Strike on the academy" in html and "89–120+ killed" in html
        assert "Shelling of the market" not in html and "A draft strike" not in html
        assert "1 incident matches; it has a place on the map." in html
        assert 'id="map-list"' in html and 'href="#map-list"' in html

    def test_the_map_is_fed_by_the_geojson_of_the_same_filters_without_the_list_s_page(self, client, places):
        make_incident(
            "Strike", location=places["idlib_city"]
        )  # a place no published incident uses is unknown
        html = text(client.get("/map/?kind=air_strike&location=idlib&page=1"))
        assert 'data-geojson="/api/incidents.geojson?kind=air_strike&amp;location=idlib"' in html
        assert 'data-map="incidents"' in html and 'role="region"' in html

    def test_the_geojson_it_reads_holds_exactly_the_incidents_listed(self, client, places):
        for day in range(3):
            make_incident(
                f"Strike {day}", location=places["homs_city"], start_date=datetime.date(2023, 10, day + 1)
            )
        make_incident("Elsewhere", location=places["idlib_city"])
        page = client.get("/map/?location=homs&sort=oldest")
        address = re.search(r'data-geojson="([^"]+)"', page.content.decode()).group(1).replace("&amp;", "&")
        features = client.get(address).json()["features"]
        listed = [incident.title for incident in page.context["page"].object_list]
        assert (
            [feature["properties"]["title"] for feature in features]
            == listed
            == ["Strike 0", "Strike 1", "Strike 2"]
        )

    def test_it_says_how_many_incidents_have_no_point_to_show(self, client, places):
        make_incident("Placed by its town", location=places["homs_city"])
        make_incident("Placed by its own point", location=places["nowhere"], latitude=35, longitude=36)
        make_incident("Nowhere to place", location=places["nowhere"])
        html = " ".join(text(client.get("/map/")).split())
        assert "3 incidents match; 2 of them can be placed on the map (the others have no coordinates" in html
        # All three are in the list beside the map.
        assert html.count('<th scope="row"><a href="/incidents/') == 3

    @pytest.mark.parametrize(
        "query",
        [
            "",
            "location=idlib",
            "location=homs",
            "location=syria",
            "kind=shelling",
            "location=idlib&kind=air_strike",
        ],
    )
    def test_its_counts_are_the_incidents_own_however_they_are_read(self, client, places, query):
        # Unfiltered or by place alone the counts come from the place totals (no count of the
        # incidents); with any other filter they are counted. Both say what count_placed says.
        for place in ("homs_city", "idlib_city", "nowhere"):
            make_incident(f"At {place}", location=places[place])
            make_incident(f"Shelling at {place}", location=places[place], kind="shelling")
        make_incident("Own point", location=places["nowhere"], latitude=35, longitude=36)
        make_incident(
            "Own point, draft", location=places["nowhere"], latitude=35, longitude=36, status="draft"
        )
        make_incident("Draft in Homs", location=places["homs_city"], status="draft")
        with CaptureQueriesContext(connection) as captured:
            page = client.get(f"/map/?{query}")
        counted = [q["sql"] for q in captured if 'COUNT("incidents_incident"."id")' in q["sql"]]
        assert bool(counted) == ("kind" in query)
        shown = {"total": page.context["page"].paginator.count, "placed": page.context["placed"]}
        listed = client.get(f"/incidents/?{query}").context["page"].paginator.object_list
        assert shown == listed.count_placed()
        assert shown["total"] > shown["placed"] > 0 or query.startswith("location=homs")

    def test_a_filter_that_cannot_be_read_gets_the_list_s_message_and_no_map(self, client, places):
        make_incident("Strike", location=places["homs_city"])
        html = text(client.get("/map/?date_after=05/10/2023&min_killed=many"))
        assert "Some filters could not be read, so no incidents are shown." in html
        assert "Enter a date as YYYY-MM-DD" in html and "Enter a whole number." in html
        assert 'data-map="incidents"' not in html and "/static/js/map." not in html and "Strike" not in html

    def test_the_list_and_the_map_link_to_each_other_keeping_the_filters(self, client, places):
        listing = text(client.get("/incidents/?kind=shelling&page=1"))
        assert 'href="/map/?kind=shelling"' in listing
        on_map = text(client.get("/map/?kind=shelling&disputed=true&page=1"))
        assert 'href="/incidents/?kind=shelling&amp;disputed=true"' in on_map
        assert '<a href="/map/" aria-current="page">Map</a>' in on_map  # in the site's menu

    def test_the_list_beside_the_map_is_paged_and_says_how_many_it_shows(self, client, places):
        for number in range(53):
            make_incident(f"Strike {number}", location=places["homs_city"])
        html = " ".join(text(client.get("/map/?page=2")).split())
        assert "Listed 50 at a time: 51–53 of 53" in html
        assert "Page 2 of 2" in html

    def test_it_costs_the_same_queries_for_few_and_many_incidents(self, client, places):
        def queries():
            with CaptureQueriesContext(connection) as captured:
                assert client.get("/map/?location=syria&sort=toll&q=strike").status_code == 200
            return len(captured)

        sources = [make_source(), make_source()]
        for number in range(3):
            for source in sources:
                make_report(make_incident(f"Strike {number}", location=places["homs_city"]), source)
        few = queries()
        for number in range(60):
            incident = make_incident(
                f"Strike more {number}", location=places["idlib_city"], latitude=35, longitude=36
            )
            make_report(incident, sources[number % 2], killed=number)
        assert queries() == few
        # The filter menus, the counts, the list's page, the data version, and the ids of the
        # places, sources and named people the search matches.
        assert few <= 10

    def test_it_has_an_arabic_address_right_to_left(self, client, places):
        make_incident("Strike", location=places["homs_city"])
        response = client.get("/ar/map/?kind=air_strike")
        html = text(response)
        assert '<html lang="ar" dir="rtl">' in html and "الخريطة" in html
        # Popups link to the incident pages in the page's language.
        assert settings_of(html)["incidentPages"] == "/ar/incidents/"

    def test_the_legend_draws_the_markers_scale(self, client, places):
        make_incident("Strike", location=places["homs_city"])
        html = text(client.get("/map/"))
        legend = html[html.index('id="map-legend"') :]
        radii = [
            float(r)
            for r in re.findall(r'class="legend-marker" cx="[^"]+" cy="[^"]+" r="([^"]+)"', legend)[:4]
        ]
        assert radii == [maps.marker_radius(figure) for figure in (1, 10, 100, 1000)]
        assert "Dashed outline and stripes: the sources differ." in legend
        assert settings_of(html)["markers"] == maps.MARKER_SCALE


class TestMarkerScale:
    def test_markers_grow_with_each_tenfold_and_stop_at_a_cap(self):
        radii = [maps.marker_radius(figure) for figure in (None, 0, 1, 10, 100, 1000, 10**7)]
        assert radii[0] == radii[1] == maps.MARKER_SCALE["smallest"]
        assert radii[1] < radii[2] < radii[3] < radii[4] < radii[5]
        assert radii[4] - radii[3] == pytest.approx(radii[5] - radii[4], abs=0.2)  # a log scale
        assert radii[6] == maps.MARKER_SCALE["largest"]


class TestSmallMaps:
    def test_an_incident_with_its_own_coordinates_is_shown_at_them_and_says_so(self, client, places):
        incident = make_incident(
            "Strike", location=places["homs_city"], latitude=Decimal("34.75"), longitude=Decimal("36.70")
        )
        html = " ".join(text(client.get(incident.get_absolute_url())).split())
        assert 'data-map="point" data-latitude="34.75" data-longitude="36.7"' in html
        assert "Placed at the incident's own coordinates, 34.7500, 36.7000." in html
        assert "/static/js/map." in html and settings_of(html)["tiles"]["url"] == settings.MAP_TILES_URL

    def test_an_incident_without_its_own_is_shown_at_its_place_s_and_says_so(self, client, places):
        incident = make_incident("Strike", location=places["homs_city"], location_precision="near")
        html = " ".join(text(client.get(incident.get_absolute_url())).split())
        assert 'data-latitude="34.7324" data-longitude="36.7137" data-zoom="12"' in html
        assert "Placed at the coordinates of its place, Homs, Syria (34.7324, 36.7137)" in html
        assert "Where in the place: near the place." in html

    def test_no_map_where_neither_the_incident_nor_its_place_has_coordinates(self, client, places):
        incident = make_incident("Strike", location=places["nowhere"])
        html = text(client.get(incident.get_absolute_url()))
        assert "data-map" not in html and "leaflet" not in html

    def test_a_place_page_shows_its_point_and_none_without_one(self, client, places):
        make_incident("Strike", location=places["homs_city"])
        make_incident("Shelling", location=places["nowhere"])
        homs = " ".join(text(client.get(places["homs_city"].get_absolute_url())).split())
        assert 'data-map="point" data-latitude="34.7324" data-longitude="36.7137"' in homs
        assert "Homs at 34.7324, 36.7137." in homs
        assert 'href="/map/?location=' in homs
        village = text(client.get(places["nowhere"].get_absolute_url()))
        assert "data-map" not in village and "leaflet" not in village


class TestAdminCoordinates:
    def test_the_incident_form_has_a_map_that_fills_the_coordinate_boxes(self, analyst_client, places):
        incident = make_incident("Strike", location=places["homs_city"])
        html = text(analyst_client.get(f"/admin/incidents/incident/{incident.pk}/change/"))
        picker = re.search(r'<div class="map admin-point-map"[^>]*>', html).group(0)
        assert (
            'data-latitude-input="id_latitude"' in picker and 'data-longitude-input="id_longitude"' in picker
        )
        # It starts at the place's point while the incident has none of its own.
        assert 'data-place-latitude="34.7324"' in picker
        assert 'id="id_latitude"' in html and 'id="id_longitude"' in html
        assert "/static/js/map." in html and 'id="map-settings"' in html

    def test_the_boxes_save_coordinates_without_the_map(self, analyst_client, places):
        incident = make_incident("Strike", location=places["homs_city"])
        url = f"/admin/incidents/incident/{incident.pk}/change/"
        data = {**change_form_data(analyst_client.get(url)), "latitude": "34.7411", "longitude": "36.7002"}
        response = analyst_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        incident.refresh_from_db()
        assert (incident.latitude, incident.longitude) == (Decimal("34.741100"), Decimal("36.700200"))


class TestTilesAndPolicy:
    def test_the_policy_allows_the_tiles_origin_for_images_and_nothing_else(self, client, places):
        make_incident("Strike", location=places["homs_city"])
        response = client.get("/map/")
        directives = dict(
            part.strip().split(" ", 1)
            for part in response["Content-Security-Policy"].split(";")
            if part.strip()
        )
        # The tests' tiles: a port on this machine where nothing answers (pyproject.toml).
        assert settings.MAP_TILES_URL == "http://127.0.0.1:9/tiles/{z}/{x}/{y}.png"
        assert directives["img-src"] == "'self' data: http://127.0.0.1:9"
        for name in ("default-src", "script-src", "connect-src", "font-src"):
            assert directives[name] == "'self'", name
        page = settings_of(text(response))
        assert page["tiles"] == {
            "url": settings.MAP_TILES_URL,
            "attribution": OSM_ATTRIBUTION,
            "subdomains": "abc",
        }

    @pytest.mark.parametrize(
        "tiles, img_src",
        [
            (None, "img-src 'self' data: https://tile.openstreetmap.org;"),
            (
                "https://tiles.example.org/osm/{z}/{x}/{y}.png",
                "img-src 'self' data: https://tiles.example.org;",
            ),
            ("/tiles/{z}/{x}/{y}.png", "img-src 'self' data:;"),
        ],
    )
    def test_changing_the_tiles_setting_changes_the_policy(self, tiles, img_src):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_MAP_")}
        if tiles:
            env["DJANGO_MAP_TILES_URL"] = tiles
        script = (
            "import django; django.setup(); from csp.utils import build_policy; "
            "from django.conf import settings; print(build_policy()); print(settings.MAP_TILES_URL)"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=BASE_DIR, capture_output=True, text=True, check=True,
            env={**env, "DJANGO_SETTINGS_MODULE": "casualty_tracker.settings", "DJANGO_SECRET_KEY": "x"},
        )  # fmt: skip
        policy, url = result.stdout.splitlines()
        assert img_src in policy + ";"
        assert url == (tiles or OSM_TILES_URL)

    def test_the_default_tiles_are_openstreetmap_s_with_the_credit_leaflet_documents(self):
        assert OSM_TILES_URL == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        assert OSM_ATTRIBUTION == (
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
        )
        assert tile_origins(OSM_TILES_URL) == ["https://tile.openstreetmap.org"]

    def test_a_subdomain_template_allows_exactly_leaflet_s_subdomains(self):
        assert tile_origins("https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png") == [
            "https://a.tiles.example.org:8443",
            "https://b.tiles.example.org:8443",
            "https://c.tiles.example.org:8443",
        ]

    @pytest.mark.parametrize(
        "value",
        [
            "tile.openstreetmap.org/{z}/{x}/{y}.png",
            "https://tiles.example.org/{z}/{x}.png",
            "https://tiles.example.org/{z}/{x}/{y}.png; script-src *",
            "https://tiles.example.org {z}/{x}/{y}",
            "https://user:secret@tiles.example.org/{z}/{x}/{y}.png",
            "javascript:alert(1)//{z}/{x}/{y}",
            "//tiles.example.org/{z}/{x}/{y}.png",
            "ftp://tiles.example.org/{z}/{x}/{y}.png",
        ],
    )
    def test_a_tiles_url_that_could_widen_the_policy_stops_the_server(self, value):
        with pytest.raises(ImproperlyConfigured, match="DJANGO_MAP_TILES_URL"):
            env_tiles_url("DJANGO_MAP_TILES_URL", OSM_TILES_URL, environ={"DJANGO_MAP_TILES_URL": value})

    def test_an_empty_tiles_url_means_the_default(self):
        assert env_tiles_url("X", OSM_TILES_URL, environ={"X": " "}) == OSM_TILES_URL


class TestVendoredLeaflet:
    def test_the_vendored_files_are_the_pinned_versions(self):
        pinned = json.loads((BASE_DIR / "package.json").read_text())["dependencies"]
        locked = json.loads((BASE_DIR / "package-lock.json").read_text())["packages"]
        assert pinned == {"leaflet": "1.9.4", "leaflet.markercluster": "1.5.3"}
        for name, version in pinned.items():
            assert locked[f"node_modules/{name}"]["version"] == version
            vendored = json.loads((BASE_DIR / "static" / "vendor" / name / "package.json").read_text())
            assert vendored["version"] == version, name
            assert (BASE_DIR / "static" / "vendor" / name / "LICENSE").exists()
        assert "Leaflet 1.9.4" in (BASE_DIR / "static/vendor/leaflet/leaflet.js").read_text()[:200]

    def test_pages_load_the_maps_from_this_site_only(self, client, places):
        incident = make_incident("Strike", location=places["homs_city"])
        for url in ("/map/", incident.get_absolute_url(), places["homs_city"].get_absolute_url()):
            html = text(client.get(url))
            sources = re.findall(r'<script[^>]* src="([^"]+)"', html) + re.findall(
                r'<link[^>]* href="([^"]+\.css)"', html
            )
            assert any("vendor/leaflet/leaflet" in source for source in sources), url
            assert all(source.startswith("/static/") for source in sources), (url, sources)

    def test_node_modules_stay_out_of_the_repository(self):
        assert "node_modules/" in (BASE_DIR / ".gitignore").read_text().splitlines()


def test_an_incident_s_own_coordinates_win_over_its_place_s_in_the_map_s_data(client, places):
    make_incident(
        "Own point", location=places["homs_city"], latitude=Decimal("34.9"), longitude=Decimal("36.9")
    )
    feature = client.get("/api/incidents.geojson").json()["features"][0]
    assert feature["geometry"]["coordinates"] == [36.9, 34.9]
    assert feature["properties"]["coordinates_of"] == "incident"
    assert Incident.objects.count_placed() == {"total": 1, "placed": 1}
