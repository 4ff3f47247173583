"""/api/docs/ in a real Chromium: Swagger UI from our own files, under the strict CSP."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_homs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_work_under_the_strict_csp_and_try_a_request(live_server, new_page):
    homs = make_homs()
    page = new_page()
    refused = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:")
            else None
        ),
    )
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Casualty Tracker API")
    operation = page.locator(".opblock-summary-path[data-path='/api/incidents/']").first
    expect(operation).to_be_visible()
    operation.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tr.response .response-col_status").first).to_contain_text(
        "200"
    )
    expect(page.locator(".live-responses-table").first).to_contain_text(homs.title)
    assert refused == [] and outside == []
