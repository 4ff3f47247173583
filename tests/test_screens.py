"""Screens that fit their users, in a real Chromium: every public page on a 390 px phone and a
1,280 px laptop without sideways scrolling, the admin's incident form at 1,280 px, the figure's
reading beside the entry. Each screen is saved in test-artifacts/browser/screens/ to be looked at."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from incidents.figures import Figure
from incidents.models import Attribution, Incident
from tests.browser import ARTIFACTS
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"
SCREENS = ARTIFACTS / "screens"
HOMS = "homs-military-academy-drone-strike-2023-10-05"


def log_in(page, base_url, username):
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def sideways_overflow(page):
    """How many pixels the page is wider than the window (0 when nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def save_screen(page, name, width):
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENS / f"{name}-{width}.png", full_page=True)


def public_paths():
    actor = Attribution.objects.filter(incident__status=Incident.Status.PUBLISHED).first().actor
    return {
        "home": "/",
        "incidents": "/incidents/",
        "incidents-bad-date": "/incidents/?date_after=05/10/2023",
        "map": "/map/",
        "map-filtered": "/map/?kind=shelling",
        "incident": f"/incidents/{HOMS}/",
        "location": "/locations/syria/",
        "source": "/sources/sohr/",
        "actor": actor.get_absolute_url(),
        "methodology": "/methodology/",
        "not-found": "/incidents/no-such-incident/",
        "open-data": "/data/",
        # Right to left: an element pushed off to the left scrolls the page sideways there.
        "ar-home": "/ar/",
        "ar-incidents": "/ar/incidents/",
        "ar-map": "/ar/map/",
        "ar-incident": f"/ar/incidents/{HOMS}/",
        "ar-methodology": "/ar/methodology/",
    }


@pytest.mark.parametrize("width", [390, 1280])
def test_every_public_page_fits_the_screen_and_loads_everything_it_asks_for(live_server, new_page, width):
    call_command("load_demo", verbosity=0)
    page = new_page(width=width, height=844 if width == 390 else 900)
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    for name, path in public_paths().items():
        page.goto(f"{live_server.url}{path}")
        if page.locator("#incident-map").count():  # the map has read its incidents and shows them
            expect(page.locator("#incident-map")).to_have_attribute("data-state", "ready")
        save_screen(page, name, width)
        assert sideways_overflow(page) <= 0, (path, sideways_overflow(page))
    # Only the page meant to be missing is missing: no favicon, stylesheet or script 404s.
    assert failed == [f"{live_server.url}/incidents/no-such-incident/"]


def test_on_a_phone_the_filters_wait_behind_a_button_and_open_fit(live_server, new_page):
    call_command("load_demo", verbosity=0)
    page = new_page(width=390, height=844)
    page.goto(f"{live_server.url}/incidents/")
    expect(page.locator("form.filters")).to_be_hidden()
    # The first screen shows incidents, not a form.
    assert page.locator("table.cards tbody tr").first.bounding_box()["y"] < 844
    page.click("summary:has-text('Filter')")
    expect(page.locator("#id_q")).to_be_visible()
    save_screen(page, "incidents-filters-open", 390)
    assert sideways_overflow(page) <= 0
    wide = new_page(width=1280)
    wide.goto(f"{live_server.url}/incidents/")
    expect(wide.locator("#id_q")).to_be_visible()
    expect(wide.locator("summary:has-text('Filter')")).to_be_hidden()


def test_a_date_that_cannot_be_read_stays_in_its_box_with_the_format_to_use(live_server, new_page):
    call_command("load_demo", verbosity=0)
    page = new_page(width=390, height=844)
    page.goto(f"{live_server.url}/incidents/?date_after=05/10/2023")
    expect(page.locator("#id_date_after")).to_be_visible()  # shown open: there is an error
    expect(page.locator("#id_date_after")).to_have_value("05/10/2023")
    expect(page.locator("#id_date_after")).to_have_attribute("placeholder", "YYYY-MM-DD")
    expect(page.locator("#id_date_after-errors")).to_contain_text("Enter a date as YYYY-MM-DD")


def test_an_analyst_without_the_editor_role_is_told_whom_to_ask_for_an_export(live_server, new_page):
    call_command("load_demo", verbosity=0)
    make_user("analyst", group="Analyst")
    page = new_page(width=390, height=844)
    log_in(page, live_server.url, "analyst")
    response = page.goto(f"{live_server.url}/export/incidents.csv")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text(
        "You need the Editor role to export CSV files; ask an administrator"
    )
    save_screen(page, "forbidden-export", 390)
    assert sideways_overflow(page) <= 0


@pytest.mark.parametrize("width", [390, 1280])
def test_the_admin_incident_form_fits_a_laptop_screen_and_a_phone(live_server, new_page, width):
    call_command("load_demo", verbosity=0)
    make_user("analyst", group="Analyst")
    homs = Incident.objects.get(slug=HOMS)
    page = new_page(width=width, height=900)
    log_in(page, live_server.url, "analyst")
    page.goto(f"{live_server.url}/admin/incidents/incident/{homs.pk}/change/")
    save_screen(page, "admin-incident-form", width)
    assert sideways_overflow(page) <= 0
    # Every box of every report and attribution, the delete boxes and long texts too, is on screen.
    boxes = page.locator(
        "#reports-group .inline-related:not(.empty-form) :is(input:not([type=hidden]), select, textarea), "
        "#attributions-group .inline-related:not(.empty-form) :is(input:not([type=hidden]), select, textarea)"
    )
    assert boxes.count() >= 2 * 17
    for index in range(boxes.count()):
        box = boxes.nth(index).bounding_box()
        if box is None:  # hidden by the admin's own widgets (select2 keeps the select hidden)
            continue
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (
            boxes.nth(index).get_attribute("name"),
            box,
        )
    for name in (
        "reports-0-url",
        "reports-0-quote",
        "reports-0-note",
        "reports-0-DELETE",
        "attributions-0-quote",
    ):
        box = page.locator(f"[name='{name}']").bounding_box()
        assert box["x"] + box["width"] <= width, name


@pytest.mark.parametrize(
    "qualifier, killed, upper",
    [
        ("more_than", "120", ""),
        ("at_least", "89", ""),
        ("exact", "0", ""),
        ("about", "50", ""),
        ("up_to", "1500", ""),
        ("between", "10", "15"),
        ("dozens", "", ""),
        ("thousands", "", ""),
        ("unknown", "", ""),
    ],
)
def test_the_figure_reads_as_the_site_reads_it_while_the_analyst_types(
    live_server, new_page, qualifier, killed, upper
):
    make_user("analyst", group="Analyst")
    page = new_page(width=1280, height=900)
    log_in(page, live_server.url, "analyst")
    page.goto(f"{live_server.url}/admin/incidents/incident/add/")
    page.click("#reports-group .add-row a")
    reading = page.locator("#reports-0 output.figure-reading[data-figure='killed']")
    page.select_option("#id_reports-0-killed_qualifier", qualifier)
    if qualifier == "between":
        page.fill("#id_reports-0-killed", killed)
        expect(reading).to_have_text("enter the upper figure")
    if killed:
        page.fill("#id_reports-0-killed", "")
        expect(reading).to_have_text("enter the figure")
        page.fill("#id_reports-0-killed", killed)
    page.fill("#id_reports-0-killed_upper", upper)
    figure = Figure(qualifier, int(killed) if killed else None, int(upper) if upper else None)
    expected = f"reads as {figure.reading()}" if figure.is_known else figure.reading()
    expect(reading).to_have_text(expected)
    assert expected != ""
