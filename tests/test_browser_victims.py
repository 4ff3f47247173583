"""Named victims in a real Chromium: an analyst pastes a list, an editor releases the names on a
1,280 px screen, a reader sees them (issue 22)."""

import pytest
from playwright.sync_api import expect

from incidents.models import Victim
from tests.factories import make_incident, make_report, make_user
from tests.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_pastes_fifty_names_an_editor_releases_one_and_a_reader_sees_it(live_server, new_page):
    incident = make_incident("Shelling of a market")
    make_report(incident, killed=40)
    make_user("analyst", group="Analyst")
    make_user("editor", group="Editor")
    base = live_server.url

    analyst = new_page()
    log_in(analyst, base, "analyst")
    analyst.goto(f"{base}/admin/incidents/incident/{incident.pk}/change/")
    analyst.click("text=Paste a list of people killed")
    names = "\n".join(f"Person {i}, {20 + i}, {'f' if i % 2 else 'm'}" for i in range(1, 51))
    analyst.fill("#id_lines", names + "\nBad Line, 1990, m")
    analyst.select_option("#id_status", "civilian")
    analyst.click("input[name=_preview]")
    expect(analyst.locator(".errornote")).to_contain_text("1 line cannot be read")
    assert "1990 looks like a year of birth" in analyst.locator("tr.errors").inner_text()
    assert analyst.locator("input[name=_save]").count() == 0
    analyst.fill("#id_lines", names)
    analyst.click("input[name=_preview]")
    analyst.click("input[name=_save]")
    expect(analyst.locator(".messagelist .success")).to_contain_text("Recorded 50 people")
    assert Victim.objects.filter(incident=incident).count() == 50

    editor = new_page(width=1280, height=900)
    log_in(editor, base, "editor")
    editor.goto(f"{base}/admin/incidents/incident/{incident.pk}/change/")
    # The victims' rows fit the screen: nothing runs off to the right.
    overflow = editor.evaluate(
        "() => { const rows = document.querySelector('#victims-group table');"
        " return rows.getBoundingClientRect().right - document.documentElement.clientWidth; }"
    )
    assert overflow <= 0, f"the victims' rows overflow a 1,280 px screen by {overflow} px"
    editor.check("#id_victims-0-is_public")
    editor.click("input[name=_save]")
    expect(editor.locator(".messagelist .success")).to_be_visible()

    reader = new_page(width=390, height=844)
    reader.goto(f"{base}{incident.get_absolute_url()}")
    expect(reader.locator(".victims-identified")).to_contain_text("50 people identified")
    table = reader.locator("section[aria-labelledby=victims-heading] table").inner_text()
    assert "Person 1" in table and "Person 2" not in table and "A man aged 22, civilian" in table
    assert "More people are identified than the highest figure (40)" in reader.content()
