"""reports.csv: one line per report, written by hand for speed (see ``report_lines``)."""

from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from django.db import connection
from django.db.models import DateField, Func

from incidents.exports.cells import (
    bad_request,
    csv_cell,
    csv_lines_response,
    export_view,
    filtered_for_export,
    place_text,
    wants_hxl,
    yes_no,
)
from incidents.figures import Figure
from incidents.models import Source, TollReport

# reports.csv reads the reports of this many incidents at a time (a few MB in memory): fewer,
# larger queries than CHUNK, as each query costs a round trip and the planning of its IN list.
REPORTS_CHUNK = 5000

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
    # Appended (DESIGN.md); a column whose feature has not landed yet is present and empty.
    ("killed_counts", "#affected+killed+population"),
    ("published_time", "#date+reported+time"),
    ("killed_best", "#affected+killed+best"),
    ("archive_url", "#meta+url+archive"),
    ("note", "#description+note"),
    ("quote_language", "#description+quote+language"),
    ("quote_translation", "#description+quote+i_en"),
    ("translation_is_machine", "#description+quote+machine"),
    ("dataset_event_id", "#meta+id+dataset"),
]


class UnparsedDate(Func):
    """A date column that the database driver hands over without parsing it.

    SQLite's date() returns the stored ISO text, which the driver would otherwise turn into a
    ``date`` for every row (a sixth of the time of the biggest export on SQLite). PostgreSQL
    writes the ISO text itself (to_char), which spares the driver a ``date`` per row too.
    """

    function = "date"
    output_field = DateField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')")


INCIDENT_FIELDS_FOR_REPORTS = [
    "pk", "title", "iso_date", "location__admin1__name", "place", "location__name", "location__kind",
]  # fmt: skip

REPORT_FIELDS = [
    "incident_id", "pk", "source_id", "iso_date", "killed_qualifier", "killed", "killed_upper",
    "injured_qualifier", "injured", "injured_upper", "civilians", "children", "women", "is_current",
    "url", "quote", "killed_counts", "published_time", "archive_url", "note", "killed_best",
    "dataset_event_id", "quote_language", "quote_translation", "translation_is_machine",
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
            f"{csv_cell(place_text(place, location_name, location_kind))}"
        )
        yield "".join(
            [
                f"{report_pk},{incident_cells},{sources[source_id]},{published_on},"
                f"{killed_cells(killed_qualifier, killed, killed_upper)},"
                f"{injured_cells(injured_qualifier, injured, injured_upper)},"
                f"{victim_cells(civilians, children, women)},{yes_no(is_current)},"
                f"{csv_cell(url)},{csv_cell(quote)},{killed_counts},{number(published_time)},"
                f"{number(killed_best)},{csv_cell(archive_url)},{csv_cell(note)},{quote_language},"
                f"{csv_cell(quote_translation)},{yes_no(translation_is_machine)},"
                f"{csv_cell(dataset_event_id)}\r\n"
                for (
                    _, report_pk, source_id, published_on, killed_qualifier, killed, killed_upper,
                    injured_qualifier, injured, injured_upper, civilians, children, women, is_current,
                    url, quote, killed_counts, published_time, archive_url, note, killed_best,
                    dataset_event_id, quote_language, quote_translation, translation_is_machine,
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


@export_view
def export_reports(request):
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    return csv_lines_response("reports", REPORT_COLUMNS, report_lines(incidents), hxl=wants_hxl(request))
