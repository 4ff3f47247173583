"""The maps as people use them, in a real Chromium: /map/ with filters, markers, clusters and
popups; an incident's small map; the admin's map that fills the coordinates. The tiles come from
a port where nothing answers (pyproject.toml): the tests never reach the internet, and the
markers show on the map's plain background, as they would offline."""

import datetime
import re
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from incidents.models import Incident
from tests.browser import ARTIFACTS
from tests.factories import make_incident, make_location, make_report, make_source, make_tree, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"

# Whether what is on screen stands for `expected` incidents: single markers, and the number on each
# cluster. (A function: the page's CSP refuses to evaluate a string.)
MARKERS_ON_SCREEN = """expected => {
  const map = document.getElementById("incident-map");
  const single = map.querySelectorAll(".incident-marker").length;
  const grouped = [...map.querySelectorAll(".incident-cluster [aria-hidden=true]")]
    .reduce((sum, label) => sum + parseInt(label.textContent, 10), 0);
  return single + grouped === expected;
}"""


# Leaflet has drawn a map in the element.
DRAWN = re.compile(r"\bleaflet-container\b")


def log_in(page, base_url, username):
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def still_page(new_page, **options):
    """A browser that asks for reduced motion: the map jumps rather than glides, so that what is on
    screen is final as soon as the map says it is ready (static/js/map.js)."""
    return new_page(reduced_motion="reduce", **options)


def open_map(page, url):
    """Open /map/… and wait until the script has read every page of incidents."""
    page.goto(url)
    expect(page.locator("#incident-map")).to_have_attribute("data-state", "ready")


def center(locator):
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


@pytest.fixture
def strikes():
    """Air strikes spread over the Levant (each at its own point), three in one town (at the
    town's point: a cluster), shelling elsewhere; the academy strike's sources differ."""
    tree = make_tree()
    town = make_location(
        "Homs", parent=tree["homs"], latitude=Decimal("34.7324"), longitude=Decimal("36.7137")
    )
    academy = make_incident(
        "Strike on the academy",
        location=town,
        latitude=Decimal("31.0"),
        longitude=Decimal("44.0"),
        start_date=datetime.date(2023, 10, 5),
    )
    make_report(academy, make_source("MoH"), killed=89, qualifier="at_least")
    make_report(academy, make_source("SOHR"), killed=120, qualifier="more_than")
    for number, (latitude, longitude) in enumerate([(37.0, 38.0), (33.0, 40.0), (36.0, 42.0), (30.0, 36.0)]):
        incident = make_incident(
            f"Strike {number}", location=town, latitude=Decimal(latitude), longitude=Decimal(longitude)
        )
        make_report(incident, killed=10**number)
    for number in range(3):
        make_incident(f"Strike in town {number}", location=town)
    for number in range(2):
        make_incident(
            f"Shelling {number}", location=town, kind="shelling", latitude=35, longitude=39 + number
        )
    make_incident("Draft strike", location=town, status="draft", latitude=32, longitude=38)
    return {"academy": academy, "town": town}


def test_the_map_shows_every_filtered_incident_and_a_marker_opens_its_page(live_server, new_page, strikes):
    page = new_page()
    violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and violations.append(message.text),
    )
    open_map(page, f"{live_server.url}/map/?kind=air_strike")

    listed = page.locator("#map-list table.cards tbody tr")
    expected = Incident.objects.published().filter(kind="air_strike").count()
    assert expected == 8 and listed.count() == expected
    assert page.locator("#incident-map").get_attribute("data-markers") == str(expected)
    # What is drawn stands for every one of them: single markers and clusters' numbers.
    page.wait_for_function(MARKERS_ON_SCREEN, arg=expected)
    expect(page.locator(".incident-cluster")).to_have_count(1)  # the three in town
    expect(page.locator("#map-status")).to_have_text(f"Incidents on the map: {expected} of {expected}.")

    # Sized by the highest figure; dashed and striped where sources differ.
    sizes = [
        page.locator(f".incident-marker[title^='Strike {n}:']").bounding_box()["width"] for n in range(4)
    ]
    assert sizes == sorted(sizes) and sizes[0] < sizes[3]
    academy = page.locator(".incident-marker[title^='Strike on the academy']")
    expect(academy).to_have_attribute("title", "Strike on the academy: 89–120+ killed · sources differ")
    assert "incident-marker-disputed" in academy.get_attribute("class")
    assert page.locator(".incident-marker-disputed").count() == 1

    academy.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text("89–120+ killed · sources differ")
    expect(popup).to_contain_text("5 October 2023")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "map-popup.png")
    popup.get_by_role("link", name="Strike on the academy").click()
    page.wait_for_url(f"{live_server.url}{strikes['academy'].get_absolute_url()}")
    assert violations == []


def test_a_keyboard_opens_a_marker_and_a_cluster_zooms_in(live_server, new_page, strikes):
    page = still_page(new_page)
    open_map(page, f"{live_server.url}/map/?kind=air_strike")
    marker = page.locator(".incident-marker[title^='Strike 2:']")
    marker.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Strike 2")
    cluster = page.locator(".incident-cluster")
    expect(cluster).to_have_attribute("role", "button")
    expect(cluster).to_contain_text("3 incidents here: select to zoom in")
    cluster.click()
    # At the closest zoom the three at one point open out (spiderfy) rather than stay hidden.
    expect(page.locator(".incident-marker[title^='Strike in town']")).to_have_count(3)


def test_the_arabic_map_gives_arabic_titles_and_marks_an_english_one(live_server, new_page):
    town = make_location("Idlib", latitude=Decimal("35.93"), longitude=Decimal("36.63"))
    make_incident("Strike on a market", title_ar="غارة على سوق", location=town, latitude=35, longitude=37)
    make_incident("Shelling of a school", location=town, latitude=34, longitude=39)
    page = still_page(new_page)
    open_map(page, f"{live_server.url}/ar/map/")
    arabic = page.locator(".incident-marker[title^='غارة على سوق']")
    expect(arabic).to_have_count(1)
    arabic.focus()  # by keyboard: a marker at the map's edge may lie under the tiles' credit
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content")
    expect(popup.get_by_role("link", name="غارة على سوق")).to_be_visible()
    expect(popup.locator(".in-english")).to_have_count(0)
    page.keyboard.press("Escape")
    page.locator(".incident-marker[title^='Shelling of a school']").focus()
    page.keyboard.press("Enter")
    english = popup.get_by_role("link", name="Shelling of a school")
    expect(english).to_have_attribute("lang", "en")
    expect(popup.locator(".in-english")).to_have_text(" (بالإنجليزية)")


def test_an_incident_with_its_own_coordinates_shows_at_them(live_server, new_page):
    town = make_location("Idlib", latitude=Decimal("35.93"), longitude=Decimal("36.63"))
    make_incident("At the town's point", location=town)
    make_incident("At its own point", location=town, latitude=Decimal("35.93"), longitude=Decimal("37.63"))
    page = still_page(new_page)
    open_map(page, f"{live_server.url}/map/")
    # Were both at the town's point they would be one cluster; the own point lies due east.
    expect(page.locator(".incident-marker")).to_have_count(2)
    town_x, town_y = center(page.locator('.incident-marker[title^="At the town\'s point"]'))
    own_x, own_y = center(page.locator(".incident-marker[title^='At its own point']"))
    assert own_x > town_x + 50 and abs(own_y - town_y) <= 1


@pytest.mark.parametrize("width", [390, 1280])
def test_the_map_page_fits_the_screen_and_has_no_serious_accessibility_violation(
    live_server, new_page, strikes, width
):
    page = still_page(new_page, width=width, height=844 if width == 390 else 900)
    open_map(page, f"{live_server.url}/map/")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    map_box = page.locator("#incident-map").bounding_box()
    assert map_box["width"] <= width and map_box["height"] >= 300
    expect(page.locator("#incident-map")).to_have_attribute("aria-label", "Map of the incidents that match")
    page.locator(".incident-marker[title^='Strike 3:']").click()
    expect(page.locator(".leaflet-popup-content")).to_be_visible()
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_an_incident_page_shows_its_point_on_a_small_map_and_none_without_one(live_server, new_page):
    tree = make_tree()
    town = make_location(
        "Homs", parent=tree["homs"], latitude=Decimal("34.7324"), longitude=Decimal("36.7137")
    )
    placed = make_incident("Strike in Homs", location=town)
    unplaced = make_incident("Strike somewhere", location=tree["idlib"])
    page = new_page(width=390, height=844)
    page.goto(f"{live_server.url}{placed.get_absolute_url()}")
    small_map = page.locator(".map-point")
    expect(small_map).to_have_class(DRAWN)
    expect(small_map.locator("path.point-marker")).to_have_count(1)
    expect(page.locator(".point-map figcaption")).to_contain_text("Placed at the coordinates of its place")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.goto(f"{live_server.url}{unplaced.get_absolute_url()}")
    expect(page.locator("h1")).to_have_text("Strike somewhere")
    expect(page.locator(".map-point")).to_have_count(0)


def test_the_admin_map_fills_the_coordinate_boxes_and_follows_them(live_server, new_page):
    town = make_location("Homs", latitude=Decimal("34.7324"), longitude=Decimal("36.7137"))
    incident = make_incident("Strike", location=town)
    make_user("analyst", group="Analyst")
    page = new_page(width=1280, height=900)
    log_in(page, live_server.url, "analyst")
    page.goto(f"{live_server.url}/admin/incidents/incident/{incident.pk}/change/")
    picker = page.locator(".admin-point-map")
    expect(picker).to_have_class(DRAWN)
    picker.scroll_into_view_if_needed()
    expect(page.locator("#id_latitude")).to_have_value("")

    # The map starts at the town's point: a click at its middle fills both boxes near it.
    box = picker.bounding_box()
    picker.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    expect(page.locator("#id_latitude")).not_to_have_value("")
    latitude = float(page.locator("#id_latitude").input_value())
    longitude = float(page.locator("#id_longitude").input_value())
    assert abs(latitude - 34.7324) < 0.01 and abs(longitude - 36.7137) < 0.01
    pin = page.locator(".picker-marker")
    expect(pin).to_have_count(1)

    # Typing moves the marker: a tenth of a degree east at zoom 10 is about 70 pixels.
    before_x, before_y = center(pin)
    page.fill("#id_longitude", f"{longitude + 0.1:.6f}")
    page.wait_for_function(
        "x => { const r = document.querySelector('.picker-marker').getBoundingClientRect();"
        " return r.left + r.width / 2 > x + 50; }",
        arg=before_x,
    )
    after_x, after_y = center(pin)
    assert abs(after_y - before_y) <= 1

    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    incident.refresh_from_db()
    assert float(incident.latitude) == pytest.approx(latitude, abs=1e-6)
    assert float(incident.longitude) == pytest.approx(longitude + 0.1, abs=1e-6)
