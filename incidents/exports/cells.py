"""What every CSV export shares: spreadsheet-safe cells, streaming, the permission and the filters."""

import contextlib
import csv
import io
import queue
import re
import threading

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from incidents.filters import IncidentFilter
from incidents.models import Incident, Location
from incidents.roles import EXPORT_PERMISSION

CHUNK = 2000

# Spreadsheets run a cell that starts with one of these as a formula, also after spaces.
FORMULA_STARTS = frozenset(["=", "+", "-", "@", "\t", "\r"])
# A spreadsheet in a semicolon locale splits a cell at ";" (others at ","), so a formula
# character after a separator and any spaces starts a cell too.
FORMULA_AFTER_SEPARATOR = re.compile(r"[;,]\s*[=+\-@\t\r]")
# The place for a ' : before each formula character that starts the cell or a part of it, past
# any whitespace other than the formula characters tab and CR themselves.
FORMULA_START = re.compile(r"(?:^|[;,])[^\S\t\r]*(?=[=+\-@\t\r])")


def spreadsheet_safe(text):
    """``text`` with a ' before each formula character that starts it or follows a separator
    (past any spaces), so that a spreadsheet shows it as text. Nothing else changes.

    Every text cell of every export goes through here, so nearly all cells, which need
    nothing, cost only a look at their first character and, when they hold a separator, one
    regex scan (which, starting with a character set, skips quickly); only a risky cell is
    rewritten.
    """
    first = text[:1]
    if (
        first in FORMULA_STARTS
        or first.isspace()
        or (("," in text or ";" in text) and FORMULA_AFTER_SEPARATOR.search(text))
    ):
        return FORMULA_START.sub(r"\g<0>'", text)
    return text


def yes_no(value):
    return "true" if value else "false"


ROWS_PER_CHUNK = 500  # rows sent per write: fewer, larger writes to the socket


def csv_response(name, columns, rows, hxl=False):
    """Stream ``rows`` (lists, in the order of ``columns``) as a CSV download."""

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for count, row in enumerate(rows, start=1):
            # Text is made spreadsheet-safe; numbers stay numbers, None is an empty cell.
            writer.writerow([spreadsheet_safe(value) if value.__class__ is str else value for value in row])
            if count % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return csv_download(name, columns, chunks(), hxl)


def csv_lines_response(name, columns, chunks, hxl=False):
    """Stream ``chunks``, strings of CSV records already written (see ``csv_cell``), each of a
    few thousand lines, as a CSV download."""
    return csv_download(name, columns, chunks, hxl)


def csv_download(name, columns, chunks, hxl):
    """The streamed response: the header row, the HXL row when asked, then ``chunks``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column for column, _ in columns])
    if hxl:
        writer.writerow([tag for _, tag in columns])
    header = buffer.getvalue()

    def body():
        # A generator, which the response closes when the download ends or the reader goes
        # away: closing it closes ``chunks`` at once (an export's transaction, its thread).
        yield header
        yield from chunks

    response = StreamingHttpResponse(body(), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # An export can hold drafts: no proxy or browser may keep it (the admin's export actions
    # come here too).
    add_never_cache_headers(response)
    return response


def fetched_ahead(cursor, sql, params, size):
    """The rows of ``sql``, ``size`` at a time, executed and fetched on ``cursor`` by a thread
    that fetches each batch while the caller works on the one before.

    The database driver lets other threads run while it waits for the database, so the
    database's work and the caller's overlap: on a big export they take about as long as each
    other, so together nearly twice as long as either. At most one batch waits. When the caller
    stops early (an error, a reader gone), the thread ends after the fetch it is in, before this
    returns: the caller may then close the cursor. The caller must not use the connection
    meanwhile.
    """
    batches = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def fetch():
        try:
            cursor.execute(sql, params)
            while not stopped.is_set():
                batch = cursor.fetchmany(size)
                batches.put(batch)
                if not batch:
                    return
        except BaseException as error:  # noqa: BLE001 (raised again in the caller's thread)
            batches.put(error)

    fetcher = threading.Thread(target=fetch, name="export-fetch", daemon=True)
    fetcher.start()
    try:
        while (batch := batches.get()) != []:
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        stopped.set()
        # The fetcher puts at most one more batch after this (the one it may be fetching), and
        # finds the queue free for it: then it sees ``stopped`` and ends.
        with contextlib.suppress(queue.Empty):
            batches.get_nowait()
        fetcher.join()


def csv_cell(text):
    """A text cell as the csv module writes it, made spreadsheet-safe first, for exports that
    write their lines by hand."""
    if not text:  # None or empty, as most optional cells are: the fast way out
        return ""
    text = spreadsheet_safe(text)
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def place_text(place, location_name, location_kind):
    """The free-text place, then the named place when it is finer than a district (a
    sub-district, a town, a site such as a hospital)."""
    finer_kinds = (Location.Kind.ADMIN3, Location.Kind.LOCALITY, Location.Kind.SITE)
    finer = location_name if location_kind in finer_kinds else ""
    if finer and finer.lower() in place.lower():
        finer = ""
    return ", ".join(part for part in (place, finer) if part)


def export_view(view):
    """An export: GET or HEAD only; anonymous users go to the login page, logged-in users
    without the export permission (the Editor group) get 403. No answer, not even a 400 that
    repeats the filters, is kept by a cache."""
    return never_cache(
        require_safe(login_required(permission_required(EXPORT_PERMISSION, raise_exception=True)(view)))
    )


def filtered_for_export(request, *, drafts_allowed=True):
    """The incidents /incidents/ shows for the same query string, in the same order.

    ``status=all`` adds drafts in the editors' exports (``drafts_allowed``); the public
    downloads of /data/ never have them. Returns (incidents, error text).
    """
    incidents = Incident.objects.all()
    if not (drafts_allowed and request.GET.get("status") == "all"):
        incidents = incidents.published()
    filterset = IncidentFilter(request.GET, queryset=incidents, request=request)
    if not filterset.is_valid():
        problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.form.errors.items())
        return None, f"These filters could not be read, so nothing was exported. {problems}"
    return filterset.qs, None


def bad_request(message):
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def wants_hxl(request):
    return request.GET.get("hxl") in ("1", "true")
