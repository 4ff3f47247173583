import os
import shutil
import tempfile

import pytest
from django.conf import settings as django_settings
from django.db import connections

from tests.factories import make_user

# Passwords hashed the fast way in tests: the production hasher (PBKDF2, about a second a hash on
# this machine by design) made every test with a user or a login slow. Production keeps PBKDF2.
django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# On SQLite the test database is a file, not Django's default in-memory database. With an
# in-memory database the live server (browser tests) shares the test thread's one connection
# object across its request threads, and Django's transaction state is not thread-safe: two
# requests at the same moment (a page and its script, a redirect and the test's own query)
# interleave their atomic blocks and leave the connection broken for every test after. A file
# gives every thread its own connection, as in production. Transactions take the write lock
# when they begin (IMMEDIATE), so that two threads' transactions queue for it rather than fail
# with "database is locked" when both upgrade to writing. Synchronous writes are off: nothing
# here needs to survive a power cut.
if connections.settings["default"]["ENGINE"].endswith("sqlite3"):
    connections.settings["default"]["TEST"] = {
        **connections.settings["default"]["TEST"],
        "NAME": os.path.join(tempfile.gettempdir(), f"casualty-tracker-tests-{os.getpid()}.sqlite3"),
    }
    connections.settings["default"]["OPTIONS"] = {
        **connections.settings["default"].get("OPTIONS", {}),
        "init_command": "PRAGMA synchronous=OFF",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

# A second database alias that mirrors the test database, as a read replica mirrors the primary
# (Django's TEST MIRROR): the replica router's tests count which connection each request used.
# Added here, before the test databases are set up; only tests that ask for it may use it.
REPLICA = "replica_for_tests"
connections.settings[REPLICA] = {
    **connections.settings["default"],
    "TEST": {**connections.settings["default"]["TEST"], "MIRROR": "default"},
}


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


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty page cache, no pages kept in this process's memory and no
    filter menus or counts kept under the names version either.

    A test's data is rolled back afterwards, and the data version with it, so the next test could
    otherwise find pages or menus kept under the same version with another test's names.
    """
    from django.core.cache import caches

    from casualty_tracker.public_cache import PageMemory
    from incidents.dataversion import KeptUnderNames

    for cache in caches.all():
        cache.clear()
    PageMemory.clear_everywhere()
    KeptUnderNames.clear_everywhere()


@pytest.fixture(autouse=True)
def english_after_each_test():
    """A request to an Arabic page leaves Arabic active in this thread (as a server's next request
    would reset it); a test that builds addresses afterwards expects the default language."""
    yield
    from django.utils import translation

    translation.activate("en")


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """Pages use the production static storage (hashed names), so collect once per run."""
    from django.conf import settings
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path_factory.mktemp("staticfiles")
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


# --- Tests that need a service: reported loudly as NOT RUN where it is missing ------------------

_browser_report = {"artifacts": []}
_not_run = {}  # what is missing: (number of tests, how to get it)

POSTGRES_HINT = (
    "run make test with DATABASE_URL=postgres://USER@127.0.0.1:5432/DB (a role that may CREATE DATABASE); "
    ".ci/run does this and requires these tests (CT_REQUIRE_POSTGRES=1)"
)


REDIS_URL = os.environ.get("CT_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_HINT = (
    f"no Redis answers at {REDIS_URL} (CT_REDIS_URL). Install and start Debian's redis-server; "
    ".ci/run does this and requires these tests (CT_REQUIRE_REDIS=1)"
)


def redis_answers():
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 (any failure means: not here)
        return False


def _set_aside(config, items, marker, missing, hint, required):
    """Deselect the tests marked ``marker`` when ``missing``; refuse to run at all when required."""
    marked = [item for item in items if item.get_closest_marker(marker)]
    if not marked or not missing:
        return
    if required:
        raise pytest.UsageError(
            f"{len(marked)} {marker} tests cannot run here, and they are required: {hint}"
        )
    _not_run[marker] = (len(marked), hint)
    config.hook.pytest_deselected(items=marked)
    items[:] = [item for item in items if not item.get_closest_marker(marker)]


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    from tests.browser import INSTALL_HINT, find_chromium

    # A new user's machine without a browser or PostgreSQL: say so loudly, but let the other tests count.
    _set_aside(
        config,
        items,
        "browser",
        not find_chromium(),
        f"no Chromium. Install: {INSTALL_HINT}",
        bool(os.environ.get("CI")),
    )
    _set_aside(
        config,
        items,
        "gettext",
        not shutil.which("xgettext"),
        "no GNU gettext (xgettext). Install: apt-get install gettext",
        bool(os.environ.get("CI")),
    )
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    _set_aside(
        config,
        items,
        "postgres",
        not on_postgres,
        f"the database is not PostgreSQL: {POSTGRES_HINT}",
        bool(os.environ.get("CT_REQUIRE_POSTGRES")),
    )
    marked_redis = any(item.get_closest_marker("redis") for item in items)
    _set_aside(
        config,
        items,
        "redis",
        marked_redis and not redis_answers(),
        REDIS_HINT,
        bool(os.environ.get("CT_REQUIRE_REDIS")),
    )


def pytest_terminal_summary(terminalreporter):
    from tests.browser import ARTIFACTS

    for marker, (count, hint) in _not_run.items():
        terminalreporter.section(f"{marker.upper()} TESTS NOT RUN", sep="!", red=True, bold=True)
        terminalreporter.write_line(f"{count} {marker} tests were NOT run: {hint}", red=True)
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
