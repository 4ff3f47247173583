"""The product as people use it, in a real Chromium: the admin, the public pages, the CSV link."""

import csv
import datetime
import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect

from incidents.models import Incident, TollReport
from incidents.workflow import unpublish_incident
from tests.browser import ARTIFACTS
from tests.factories import make_incident, make_location, make_report, make_source, make_tree, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password"


def log_in(page, base_url, username):
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")


def choose(page, select_id, text):
    """Pick an option in one of the admin's autocomplete (select2) widgets."""
    page.click(f"#{select_id} + .select2 .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.click(f".select2-container--open .select2-results__option:has-text('{text}')")


def add_report(page, row, source, qualifier, killed, published_on):
    page.click(".add-row a")
    choose(page, f"id_reports-{row}-source", source)
    page.fill(f"#id_reports-{row}-published_on", published_on)
    page.select_option(f"#id_reports-{row}-killed_qualifier", qualifier)
    page.fill(f"#id_reports-{row}-killed", killed)


def fill_incident(page, base_url, title, place, start_date):
    page.goto(f"{base_url}/admin/incidents/incident/add/")
    page.fill("#id_title", title)
    page.select_option("#id_kind", "air_strike")
    page.fill("#id_start_date", start_date)
    choose(page, "id_location", place)


def test_an_analyst_records_an_incident_with_conflicting_reports_and_is_warned_of_a_duplicate(
    live_server, new_page
):
    tree = make_tree()
    make_user("analyst", group="Analyst")
    page = new_page()
    base = live_server.url
    log_in(page, base, "analyst")

    page.goto(f"{base}/admin/incidents/location/add/")
    page.fill("#id_name", "Homs city")
    page.select_option("#id_kind", "locality")
    choose(page, "id_parent", "Homs")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    for name, short in [
        ("Syrian Ministry of Health", "MoH"),
        ("Syrian Observatory for Human Rights", "SOHR"),
    ]:
        page.goto(f"{base}/admin/incidents/source/add/")
        page.fill("#id_name", name)
        page.fill("#id_short_name", short)
        page.select_option("#id_kind", "government" if short == "MoH" else "monitoring_group")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")

    fill_incident(page, base, "Drone strike on the military academy", "Homs city", "2023-10-05")
    add_report(page, 0, "Syrian Ministry of Health", "at_least", "89", "2023-10-05")
    add_report(page, 1, "Syrian Observatory", "more_than", "120", "2023-10-06")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    incident = Incident.objects.get()
    assert incident.toll.short() == "89–120+" and incident.status == "draft"
    assert incident.location.parent == tree["homs"]

    fill_incident(page, base, "Attack on a graduation ceremony", "Homs city", "2023-10-06")
    page.click("input[name=_save]")
    warning = page.locator(".messagelist .warning").inner_text()
    assert "This may duplicate an incident already recorded within two days nearby" in warning
    assert (
        page.locator(".messagelist .warning a", has_text="Drone strike on the military academy").count() == 1
    )
    assert Incident.objects.count() == 2


def test_an_editor_publishes_and_a_reader_finds_the_figures_side_by_side(live_server, new_page):
    call_command("load_demo", verbosity=0)
    homs = Incident.objects.get(slug="homs-military-academy-drone-strike-2023-10-05")
    unpublish_incident(incident=homs, user=None, via="tests")
    make_user("editor", group="Editor")
    base = live_server.url

    editor = new_page()
    log_in(editor, base, "editor")
    editor.goto(f"{base}/admin/incidents/incident/")
    editor.check(f"input[name=_selected_action][value='{homs.pk}']")
    editor.select_option("select[name=action]", "publish_selected")
    editor.click("button[name=index]")
    expect(editor.locator(".messagelist")).to_contain_text("Published 1 incident.")

    reader = new_page(width=390, height=844)
    reader.goto(f"{base}/incidents/")
    # On a phone the filters wait behind their button, and the incidents come first.
    expect(reader.locator("#id_q")).to_be_hidden()
    reader.click("summary:has-text('Filter')")
    reader.fill("#id_q", "academy")
    reader.select_option("#id_kind", "air_strike")
    reader.select_option("#id_location", label="Homs, Syria (governorate)")
    reader.click("text=Show incidents")
    assert "1 incident matches." in reader.locator(".match-count").inner_text()
    reader.click(f"text={homs.title}")
    assert (
        "Between 89 and more than 120 people were reported killed"
        in reader.locator(".range-sentence").inner_text()
    )
    table = reader.locator("table").first.inner_text()
    assert "more than 120" in table and "at least 89" in table
    assert reader.locator("svg.source-chart .open-arrow").count() == 2


@pytest.mark.parametrize("width", [320, 1280])
def test_the_source_chart_fits_a_phone_and_a_desktop_with_every_label_inside_it(live_server, new_page, width):
    incident = make_incident("Strike on the market")
    long_name = "Syrian Network for Human Rights, field documentation network"  # 60 characters
    for name, figure in [
        ("French military intelligence", {"killed": 100, "qualifier": "between", "killed_upper": 300}),
        ("Local council", {"killed": 471}),
        ("Syrian Ministry of Health", {"killed": 10, "qualifier": "at_least"}),
        (long_name, {"killed": None, "qualifier": "dozens"}),
    ]:
        make_report(incident, make_source(name), **figure)
    page = new_page(width=width, height=900)
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")
    chart = page.locator("svg.source-chart")
    chart.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chart.locator("xpath=..").screenshot(path=ARTIFACTS / f"chart-{width}.png")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    svg = chart.bounding_box()
    assert svg["width"] <= width - 16  # the page's own margins stay
    texts = chart.locator("text")
    assert texts.count() == 4 * 2 + 3  # a label and a figure per source, three axis labels
    for index in range(texts.count()):
        box = texts.nth(index).bounding_box()
        inside_across = svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"]
        inside_down = svg["y"] <= box["y"] and box["y"] + box["height"] <= svg["y"] + svg["height"]
        assert inside_across and inside_down, (texts.nth(index).text_content(), box, svg)
    # Highest first, as in the table; the long name cut, whole in its row's tooltip.
    labels = chart.locator("text.label").all_text_contents()
    assert labels[:2] == ["Local council", "French military intelligence"]
    assert labels[2].endswith("…") and long_name.startswith(labels[2][:-1])
    assert labels[3] == "Syrian Ministry of Health"
    assert (
        chart.locator("g.source-row > title").nth(2).text_content()
        == f"{long_name}: dozens (counted as at least 24)"
    )
    assert chart.locator("text.words").all_text_contents() == [
        "471",
        "between 100 and 300",
        "dozens (counted as at least 24)",
        "at least 10",
    ]
    # Legible on the phone, not oversized on the desktop.
    font_px = chart.locator("text.label").first.evaluate("t => t.getBoundingClientRect().height")
    assert 12 <= font_px <= 24
    # Shapes, not colours: one dot, one range with two end caps, two arrows.
    assert chart.locator(".dot").count() == 1
    assert chart.locator(".interval").count() == 3 and chart.locator(".cap").count() == 4
    assert chart.locator(".open-arrow").count() == 2


def test_an_editor_downloads_exactly_the_filtered_incidents(live_server, new_page):
    call_command("load_demo", verbosity=0)
    make_user("editor", group="Editor")
    base = live_server.url
    page = new_page(accept_downloads=True)
    log_in(page, base, "editor")
    page.goto(f"{base}/incidents/")
    page.select_option("#id_kind", "shelling")
    page.click("text=Show incidents")
    expect(page.locator(".match-count")).to_contain_text("2 incidents match.")
    listed = page.locator("table.cards tbody th a").all_inner_texts()
    assert len(listed) == 2
    with page.expect_download() as download_info:
        page.click("text=Download CSV: incidents")
    download = download_info.value
    assert download.suggested_filename == f"incidents-{datetime.date.today():%Y-%m-%d}.csv"
    with open(download.path(), encoding="utf-8") as downloaded:
        rows = list(csv.DictReader(io.StringIO(downloaded.read())))
    assert [row["title"] for row in rows] == listed


def test_invalid_figures_and_dates_in_the_admin_show_the_message_and_save_nothing(live_server, new_page):
    place = make_location("Homs city")
    make_user("analyst", group="Analyst")
    from tests.factories import make_source

    make_source("Syrian Observatory for Human Rights", short_name="SOHR")
    page = new_page()
    base = live_server.url
    log_in(page, base, "analyst")

    fill_incident(page, base, "Strike", place.name, "2023-10-05")
    add_report(page, 0, "Syrian Observatory", "between", "15", "2023-10-05")
    page.fill("#id_reports-0-killed_upper", "10")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist", has_text="'between' needs an upper figure")).to_have_count(1)

    future = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    page.fill("#id_start_date", future)
    page.fill("#id_reports-0-killed_upper", "20")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist", has_text="This date is in the future")).to_have_count(1)
    assert Incident.objects.count() == 0 and TollReport.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/incidents/",
        "/incidents/?date_after=yesterday",
        "/map/",
        "/incidents/homs-military-academy-drone-strike-2023-10-05/",
        "/locations/syria/",
        "/sources/sohr/",
        "/methodology/",
    ],
)
def test_public_pages_have_no_serious_accessibility_violations(live_server, new_page, path):
    call_command("load_demo", verbosity=0)
    page = new_page()
    page.goto(f"{live_server.url}{path}")
    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
