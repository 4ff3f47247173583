import os

import pytest

from tests.factories import make_user


@pytest.fixture
def analyst(db):
    return make_user("ana", group="Analyst")


@pytest.fixture
def editor(db):
    return make_user("eddie", group="Editor")


@pytest.fixture
def analyst_client(client, analyst):
    client.force_login(analyst)
    return client


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """Pages use the production static storage (hashed names), so collect once per run."""
    from django.conf import settings
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path_factory.mktemp("staticfiles")
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


# --- Browser tests -------------------------------------------------------------------------------

_browser_report = {"missing": False, "artifacts": []}


def pytest_collection_modifyitems(config, items):
    from tests.browser import INSTALL_HINT, find_chromium

    browser_items = [item for item in items if item.get_closest_marker("browser")]
    if not browser_items or find_chromium():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(
            f"No Chromium for the browser tests, and CI must run them. Install: {INSTALL_HINT}"
        )
    # A new user's machine without a browser: say so loudly, but let the other tests count.
    _browser_report["missing"] = len(browser_items)
    config.hook.pytest_deselected(items=browser_items)
    items[:] = [item for item in items if not item.get_closest_marker("browser")]


def pytest_terminal_summary(terminalreporter):
    from tests.browser import ARTIFACTS, INSTALL_HINT

    if _browser_report["missing"]:
        terminalreporter.section("BROWSER TESTS NOT RUN", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            f"{_browser_report['missing']} browser tests were NOT run: no Chromium was found.", red=True
        )
        terminalreporter.write_line(f"Install one, then run make test again: {INSTALL_HINT}", red=True)
    if _browser_report["artifacts"]:
        terminalreporter.section("Browser failure artifacts", sep="-", red=True)
        terminalreporter.write_line(f"Screenshots and page HTML of failed browser tests: {ARTIFACTS}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    from tests.browser import LAUNCH_ARGS, find_chromium

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def plain_static(settings):
    """The live server serves static files through the finders, which know no hashed names."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def new_page(chromium, request, plain_static):
    """Pages in fresh browser contexts (one per user); on failure each leaves a screenshot and its HTML."""
    from tests.browser import ARTIFACTS

    contexts = []

    def open_page(width=1280, height=900, **options):
        context = chromium.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    failed = getattr(request.node, "report_call", None) and request.node.report_call.failed
    for number, context in enumerate(contexts):
        for page in context.pages:
            if failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                stem = ARTIFACTS / f"{request.node.name}-{number}"
                page.screenshot(path=f"{stem}.png", full_page=True)
                stem.with_suffix(".html").write_text(page.content())
                _browser_report["artifacts"].append(stem)
        context.close()


# Hypothesis explores new random inputs on developers' machines; in CI it replays a fixed set,
# so that a landing never depends on luck (a bug it finds locally gets a regression test).
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
