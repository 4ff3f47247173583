"""CSV exports for editors (DESIGN.md, "CSV exports").

Every export is streamed from an iterator that reads the database in chunks, so the
server's memory stays flat and the number of queries grows with the chunks, never per row.
"""

import csv
import io
from functools import lru_cache, wraps
from itertools import chain, groupby, islice
from operator import itemgetter

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, DateField, F, Func, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from incidents.figures import Figure
from incidents.filters import IncidentFilter
from incidents.models import Incident, Location, Source, TollReport

CHUNK = 2000
# reports.csv reads the reports of this many incidents at a time (a few MB in memory): fewer,
# larger queries than CHUNK, as each query costs a round trip and the planning of its IN list.
REPORTS_CHUNK = 5000

# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_STARTS = frozenset(["=", "+", "-", "@", "\t", "\r"])

INCIDENT_COLUMNS = [
    ("id", "#event+id"),
    ("title", "#event+name"),
    ("start_date", "#date+start"),
    ("end_date", "#date+end"),
    ("kind", "#event+type"),
    ("country", "#country+name"),
    ("admin1", "#adm1+name"),
    ("admin2", "#adm2+name"),
    ("place", "#loc+name"),
    ("pcode", "#loc+code"),
    ("latitude", "#geo+lat"),
    ("longitude", "#geo+lon"),
    ("perpetrators", "#group+name+perpetrator"),
    ("killed_lowest", "#affected+killed+min"),
    ("killed_highest", "#affected+killed+max"),
    ("killed_highest_open", "#affected+killed+max+open"),
    ("source_count", "#meta+source+num"),
    ("figures", "#meta+source"),
    ("url", "#meta+url"),
]

# report_lines() writes its cells by hand in this order; keep the two together.
REPORT_COLUMNS = [
    ("report_id", "#meta+id"),
    ("incident_id", "#event+id"),
    ("incident_title", "#event+name"),
    ("incident_date", "#date+start"),
    ("admin1", "#adm1+name"),
    ("place", "#loc+name"),
    ("source", "#meta+source"),
    ("source_kind", "#meta+source+type"),
    ("published_on", "#date+reported"),
    ("killed_as_reported", "#affected+killed+text"),
    ("killed_qualifier", "#affected+killed+qualifier"),
    ("killed", "#affected+killed"),
    ("killed_upper", "#affected+killed+max"),
    ("injured_as_reported", "#affected+injured+text"),
    ("injured", "#affected+injured"),
    ("injured_upper", "#affected+injured+max"),
    ("civilians", "#affected+killed+civilians"),
    ("children", "#affected+killed+children"),
    ("women", "#affected+killed+f"),
    ("is_current", "#meta+current"),
    ("url", "#meta+url"),
    ("quote", "#description+quote"),
]

# ?by= value: its columns, each (name, HXL tag, expression to group on).
GROUPINGS = {
    "admin1": [
        ("admin1", "#adm1+name", F("location__admin1__name")),
        ("admin1_pcode", "#adm1+code", F("location__admin1__pcode")),
    ],
    "admin2": [
        ("admin2", "#adm2+name", F("location__admin2__name")),
        ("admin2_pcode", "#adm2+code", F("location__admin2__pcode")),
    ],
    "month": [("month", "#date+month", TruncMonth("start_date"))],
    "kind": [("kind", "#event+type", F("kind"))],
    "perpetrator": [("perpetrator", "#group+name+perpetrator", F("perpetrators__name"))],
    "source": [("source", "#meta+source", F("reports__source__name"))],
}

SUMMARY_COLUMNS = [
    ("incidents", "#event+num"),
    ("disputed_incidents", "#event+num+disputed"),
    ("killed_lowest_total", "#affected+killed+min"),
    ("killed_highest_total", "#affected+killed+max"),
    ("sources", "#meta+source+num"),
]


def yes_no(value):
    return "true" if value else "false"


ROWS_PER_CHUNK = 500  # rows sent per write: fewer, larger writes to the socket


def csv_response(name, columns, rows, hxl=False):
    """Stream ``rows`` (lists, in the order of ``columns``) as a CSV download."""

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for count, row in enumerate(rows, start=1):
            # Text that a spreadsheet would run as a formula gets a leading ' (numbers stay numbers;
            # None is written as an empty cell). Inline rather than a function call: it runs per cell.
            writer.writerow(
                [
                    "'" + value if value.__class__ is str and value[:1] in FORMULA_STARTS else value
                    for value in row
                ]
            )
            if count % ROWS_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return csv_download(name, columns, chunks(), hxl)


def csv_lines_response(name, columns, lines, hxl=False):
    """Stream ``lines``, CSV records already written (see ``csv_cell``), as a CSV download."""

    def chunks():
        lines_left = iter(lines)
        while batch := list(islice(lines_left, ROWS_PER_CHUNK)):
            yield "".join(batch)

    return csv_download(name, columns, chunks(), hxl)


def csv_download(name, columns, chunks, hxl):
    """The streamed response: the header row, the HXL row when asked, then ``chunks``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column for column, _ in columns])
    if hxl:
        writer.writerow([tag for _, tag in columns])
    response = StreamingHttpResponse(
        chain([buffer.getvalue()], chunks), content_type="text/csv; charset=utf-8"
    )
    filename = f"{name}-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_cell(text):
    """A text cell as the csv module writes it, made spreadsheet-safe first, for exports that
    write their lines by hand."""
    if text is None:
        return ""
    if text[:1] in FORMULA_STARTS:
        text = "'" + text
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def export_permission_required(view):
    """Anonymous users go to the login page; logged-in users without the permission get 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm("incidents.export_data"):
            raise PermissionDenied("Exporting needs the export permission (the Editor group).")
        return view(request, *args, **kwargs)

    return wrapper


def filtered_for_export(request):
    """The incidents /incidents/ shows for the same query string, in the same order.

    ``status=all`` adds drafts (exports are for editors only). Returns (incidents, error text).
    """
    incidents = Incident.objects.all()
    if request.GET.get("status") != "all":
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


# --- incidents.csv ------------------------------------------------------------------------------


def incident_rows(incidents, absolute_url):
    """One row per incident. Queries: one per chunk of incidents, plus two prefetches per chunk."""
    incidents = incidents.select_related(
        "location", "location__country", "location__admin1", "location__admin2"
    ).prefetch_related(
        "perpetrators",
        Prefetch(
            "reports",
            queryset=TollReport.objects.filter(is_current=True)
            .select_related("source")
            .order_by("published_on", "pk"),
            to_attr="current",
        ),
    )
    for incident in incidents.iterator(chunk_size=CHUNK):
        location = incident.location
        yield [
            incident.pk,
            incident.title,
            incident.start_date.isoformat(),
            incident.end_date.isoformat() if incident.end_date else "",
            incident.kind,
            _name(location.country),
            _name(location.admin1),
            _name(location.admin2),
            _place(incident),
            location.pcode or "",
            location.latitude,
            location.longitude,
            "; ".join(actor.name for actor in incident.perpetrators.all()),
            incident.killed_lowest,
            incident.killed_highest,
            yes_no(incident.killed_highest_open),
            incident.source_count,
            "; ".join(
                f"{r.source.label}: {r.killed_figure.as_stated()} ({r.published_on.isoformat()})"
                for r in incident.current
            ),
            absolute_url(incident.get_absolute_url()),
        ]


def _name(location):
    return location.name if location else ""


def _place(incident):
    return _place_text(incident.place, incident.location.name, incident.location.kind)


def _place_text(place, location_name, location_kind):
    """The free-text place, then the named place when it is finer than a district."""
    finer = location_name if location_kind in (Location.Kind.ADMIN3, Location.Kind.LOCALITY) else ""
    if finer and finer.lower() in place.lower():
        finer = ""
    return ", ".join(part for part in (place, finer) if part)


# --- reports.csv --------------------------------------------------------------------------------


class UnparsedDate(Func):
    """A date column that the database driver hands over without parsing it.

    SQLite's date() returns the stored ISO text, which the driver would otherwise turn into a
    ``date`` for every row (a sixth of the time of the biggest export on SQLite). PostgreSQL
    reads date(x) as a cast and returns a ``date`` as before. Both print as YYYY-MM-DD.
    """

    function = "date"
    output_field = DateField()


INCIDENT_FIELDS_FOR_REPORTS = [
    "pk", "title", "iso_date", "location__admin1__name", "place", "location__name", "location__kind",
]  # fmt: skip

REPORT_FIELDS = [
    "incident_id", "pk", "source_id", "iso_date", "killed_qualifier", "killed", "killed_upper",
    "injured_qualifier", "injured", "injured_upper", "civilians", "children", "women", "is_current",
    "url", "quote",
]  # fmt: skip


def report_lines(incidents):
    """reports.csv, one line per report: every report of the incidents, incident by incident
    in their order, oldest report first.

    The incidents are read in chunks, in their order, and each chunk's reports with one more
    query. Sorting every report of a large export in one query would cost the database a sort
    on disk before the first row; this way memory stays flat and rows flow at once. Rows come
    as the database driver returns them (see ``reports_of``). Each incident's cells are
    written once, not once per report; sources (a few dozen) are looked up in a dictionary
    rather than joined. Lines are written by hand (``csv_cell``), three times faster than
    through the csv module.
    """
    sources = {
        pk: f"{csv_cell(name)},{kind}" for pk, name, kind in Source.objects.values_list("pk", "name", "kind")
    }
    listed = incidents.annotate(iso_date=UnparsedDate("start_date")).values_list(*INCIDENT_FIELDS_FOR_REPORTS)
    sql, params = listed.query.sql_with_params()
    # A server-side cursor on PostgreSQL, so that memory stays flat however many incidents.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(REPORTS_CHUNK):
            yield from _incident_lines(chunk, reports_of([incident[0] for incident in chunk]), sources)


def _incident_lines(incidents, reports, sources):
    """One string per incident: the lines of its reports."""
    for pk, title, start_date, admin1, place, location_name, location_kind in incidents:
        incident_cells = (
            f"{pk},{csv_cell(title)},{start_date},{csv_cell(admin1)},"
            f"{csv_cell(_place_text(place, location_name, location_kind))}"
        )
        yield "".join(
            [
                f"{report_pk},{incident_cells},{sources[source_id]},{published_on},"
                f"{killed_cells(killed_qualifier, killed, killed_upper)},"
                f"{injured_cells(injured_qualifier, injured, injured_upper)},"
                f"{victim_cells(civilians, children, women)},{yes_no(is_current)},"
                f"{csv_cell(url)},{csv_cell(quote)}\r\n"
                for (
                    _, report_pk, source_id, published_on, killed_qualifier, killed, killed_upper,
                    injured_qualifier, injured, injured_upper, civilians, children, women, is_current,
                    url, quote,
                ) in reports.get(pk, ())
            ]
        )  # fmt: skip


def number(value):
    return "" if value is None else value


# A big export states the same few thousand figures over and over: their cells are remembered.


@lru_cache(maxsize=4096)
def killed_cells(qualifier, value, upper):
    """killed_as_reported, killed_qualifier, killed, killed_upper."""
    as_stated = csv_cell(Figure(qualifier, value, upper).as_stated())  # "between 1,000 and 1,200"
    return f"{as_stated},{qualifier},{number(value)},{number(upper)}"


@lru_cache(maxsize=4096)
def injured_cells(qualifier, value, upper):
    """injured_as_reported, injured, injured_upper."""
    return f"{csv_cell(Figure(qualifier, value, upper).as_stated())},{number(value)},{number(upper)}"


@lru_cache(maxsize=4096)
def victim_cells(civilians, children, women):
    """civilians, children, women (mostly not known)."""
    return f"{number(civilians)},{number(children)},{number(women)}"


def reports_of(incident_ids):
    """{incident id: its reports as ``REPORT_FIELDS`` tuples, oldest first}. One query.

    The rows are what the database driver returns: Django's conversion of every value cost
    more than the rest of a big export's work. So the date (``UnparsedDate``) is a ``date``
    from PostgreSQL but ISO text from SQLite, and ``is_current`` is 0 or 1 from SQLite; the
    export writes both the same way.
    """
    with connection.cursor() as cursor:
        cursor.execute(_reports_sql(len(incident_ids)), incident_ids)
        # Sorted by incident first, so that grouping is one pass of groupby.
        return {incident_id: list(rows) for incident_id, rows in groupby(cursor.fetchall(), itemgetter(0))}


@lru_cache(maxsize=4)
def _reports_sql(count):
    """The SQL of ``reports_of`` for ``count`` incidents, written by Django once: building it
    anew for each chunk of ids took a tenth of the export's time. Its only parameters are the
    ids of the IN list, in order."""
    query = (
        TollReport.objects.filter(incident_id__in=range(count))
        .annotate(iso_date=UnparsedDate("published_on"))
        .order_by("incident_id", "published_on", "pk")
        .values_list(*REPORT_FIELDS)
    )
    return query.query.sql_with_params()[0]


# --- summary.csv --------------------------------------------------------------------------------


def summary_rows(incidents, groupings):
    """One row per group: totals as ranges (DESIGN.md). Two queries whatever the data size.

    Grouping by source counts an incident once for each source with a current report on it;
    grouping by perpetrator, once for each alleged perpetrator.
    """
    columns = [column for key in groupings for column in GROUPINGS[key]]
    # Prefixed so that a group called "kind" does not clash with the field.
    expressions = {f"group_{name}": expression for name, _, expression in columns}
    names = list(expressions)
    base = incidents.order_by()
    if "source" in groupings:
        base = base.filter(reports__is_current=True)
    totals = (
        base.annotate(**expressions)
        .values(*names)
        .annotate(
            incidents=Count("pk", distinct=True),
            disputed_incidents=Count("pk", distinct=True, filter=Q(is_disputed=True)),
            killed_lowest_total=Coalesce(Sum("killed_lowest"), Value(0)),
            killed_highest_total=Coalesce(Sum("killed_highest"), Value(0)),
        )
        .order_by(*names)
    )
    # Counted apart: joining the reports into the sums above would count incidents twice.
    source_counts = {
        tuple(row[n] for n in names): row["sources"]
        for row in base.annotate(**expressions)
        .values(*names)
        .annotate(sources=Count("reports__source", distinct=True, filter=Q(reports__is_current=True)))
    }
    for row in totals:
        key = tuple(row[n] for n in names)
        values = [f"{row[n]:%Y-%m}" if n == "group_month" and row[n] else row[n] for n in names]
        yield [
            *values,
            row["incidents"],
            row["disputed_incidents"],
            row["killed_lowest_total"],
            row["killed_highest_total"],
            source_counts.get(key, 0),
        ]


# --- views --------------------------------------------------------------------------------------


@require_safe
@export_permission_required
def export_incidents(request):
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    rows = incident_rows(incidents, request.build_absolute_uri)
    return csv_response("incidents", INCIDENT_COLUMNS, rows, hxl=wants_hxl(request))


@require_safe
@export_permission_required
def export_reports(request):
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    return csv_lines_response("reports", REPORT_COLUMNS, report_lines(incidents), hxl=wants_hxl(request))


@require_safe
@export_permission_required
def export_summary(request):
    groupings = list(dict.fromkeys(request.GET.getlist("by")))
    unknown = [g for g in groupings if g not in GROUPINGS]
    if not groupings or unknown:
        return bad_request(
            "Say how to group the summary with by=admin1, admin2, month, kind, perpetrator or source "
            "(several allowed, e.g. by=admin1&by=month)."
            + (f" Not understood: {', '.join(unknown)}." if unknown else "")
        )
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    columns = [(name, tag) for g in groupings for name, tag, _ in GROUPINGS[g]] + SUMMARY_COLUMNS
    name = "summary-by-" + "-".join(groupings)
    return csv_response(name, columns, summary_rows(incidents, groupings), hxl=wants_hxl(request))
