"""The Arabic site in a real Chromium, right to left: it fits a phone and a laptop, it has no
serious accessibility fault, and the charts read from the right."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from tests.browser import ARTIFACTS
from tests.factories import make_incident, make_report, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOMS = "homs-military-academy-drone-strike-2023-10-05"
PAGES = {
    "home": "/ar/",
    "list": "/ar/incidents/",
    "list-bad-date": "/ar/incidents/?date_after=05/10/2023",
    "incident": f"/ar/incidents/{HOMS}/",
    "methodology": "/ar/methodology/",
}


@pytest.mark.parametrize("width", [390, 1280])
def test_arabic_pages_fit_the_screen_and_have_no_serious_accessibility_violations(
    live_server, new_page, width
):
    call_command("load_demo", verbosity=0)
    page = new_page(width=width, height=844 if width == 390 else 900)
    problems = {}
    for name, path in PAGES.items():
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"ar-{name}-{width}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if overflow > 0 or serious:
            problems[name] = {"overflow": overflow, "axe": serious}
    assert problems == {}


def test_the_phone_layout_labels_each_cell_in_arabic_on_the_right(live_server, new_page):
    call_command("load_demo", verbosity=0)
    page = new_page(width=390, height=844)
    page.goto(f"{live_server.url}/ar/incidents/")
    cell = page.locator("table.cards tbody td[data-label]").first
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"التاريخ: "'
    table = page.locator("table.cards").bounding_box()
    # Text starts at the right: more room is left on the cell's left than on its right.
    text = cell.evaluate(
        "td => { const r = document.createRange(); r.selectNodeContents(td);"
        " const b = r.getBoundingClientRect(); return {left: b.left, right: b.right}; }"
    )
    left_gap, right_gap = text["left"] - table["x"], table["x"] + table["width"] - text["right"]
    assert left_gap > right_gap, (text, table)


def test_the_source_chart_grows_from_the_right_in_arabic(live_server, new_page):
    incident = make_incident("Strike", title_ar="غارة")
    make_report(
        incident,
        make_source("Council", name_ar="المجلس المحلي"),
        killed=100,
        qualifier="between",
        killed_upper=300,
    )
    make_report(incident, make_source("Ministry", name_ar="الوزارة"), killed=10, qualifier="at_least")
    page = new_page(width=390, height=844)
    page.goto(f"{live_server.url}/ar{incident.get_absolute_url()}")
    chart = page.locator("svg.source-chart")
    chart.scroll_into_view_if_needed()
    svg = chart.bounding_box()
    ticks = {
        text: chart.locator("text.tick").filter(has_text=re.compile(f"^{text}$")).bounding_box()
        for text in ("0", "300")
    }
    # Zero on the right, the largest figure towards the left: the scale starts where Arabic reads.
    assert ticks["0"]["x"] > ticks["300"]["x"]
    # The open figure's arrow points left, past the end of the scale.
    arrow = chart.locator(".open-arrow").bounding_box()
    assert arrow["x"] < ticks["300"]["x"]
    # Each label starts at the right edge and stays inside the chart.
    for text in chart.locator("text.label, text.words").all():
        box = text.bounding_box()
        assert svg["x"] <= box["x"] and box["x"] + box["width"] <= svg["x"] + svg["width"] + 0.5
        assert box["x"] + box["width"] > svg["x"] + svg["width"] * 0.8, text.text_content()
    assert chart.locator("text.label").all_text_contents() == ["المجلس المحلي", "الوزارة"]
