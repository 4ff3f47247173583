"""reports.csv: one line per report, written by hand for speed (see ``report_lines``)."""

from contextlib import closing
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from django.db import connection, transaction
from django.db.models import DateField, FilteredRelation, Func

from incidents.exports.cells import (
    bad_request,
    csv_cell,
    csv_lines_response,
    export_view,
    fetched_ahead,
    filtered_for_export,
    place_text,
    wants_hxl,
    yes_no,
)
from incidents.figures import Figure
from incidents.models import Incident, Source

# reports.csv's rows fetched at a time (a few MB in memory; ``fetched_ahead`` holds up to three
# such batches): fewer, larger fetches cost fewer round trips.
FETCH_ROWS = 5000

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
INCIDENT_VALUES = len(INCIDENT_FIELDS_FOR_REPORTS)

# Each report's values, after its incident's: ``_lines`` takes them in this order.
REPORT_FIELDS = [
    "report__id", "report__source_id", "report_iso_date", "report__killed_qualifier", "report__killed",
    "report__killed_upper", "report__injured_qualifier", "report__injured", "report__injured_upper",
    "report__civilians", "report__children", "report__women", "report__is_current", "report__url",
    "report__quote", "report__killed_counts", "report__published_time", "report__archive_url",
    "report__note", "report__killed_best", "report__dataset_event_id", "report__quote_language",
    "report__quote_translation", "report__translation_is_machine",
]  # fmt: skip
# A DISTINCT query (the admin's, after a filter or search that may repeat an incident) also
# selects the columns it is ordered by, after these: a row's values end here.
ROW_VALUES = INCIDENT_VALUES + len(REPORT_FIELDS)
# An incident's reports, oldest first (their date as ISO text, then their id). Ordered here, not
# by the query: ordered by the incidents alone, PostgreSQL reads them in order from the date index
# (``incident_date_figures_idx``) and sorts nothing, where sorting each date's reports took a
# quarter of its time.
REPORT_ORDER = itemgetter(
    INCIDENT_VALUES + REPORT_FIELDS.index("report_iso_date"),
    INCIDENT_VALUES + REPORT_FIELDS.index("report__id"),
)


def report_lines(incidents):
    """reports.csv, one line per report: every report of the incidents, incident by incident
    in their order, oldest report first. Strings of many lines.

    One query joins each incident to its reports, in the incidents' order (each incident's
    reports are put in order here: ``REPORT_ORDER``), and its rows stream through a
    server-side cursor on PostgreSQL: memory stays flat however big the export. The reports
    are a relation of their own (``FilteredRelation``): a filter of the incidents on their
    reports (the admin's "dataset" filter) must not narrow the reports listed to the ones
    that matched. The export reads in one transaction, so one snapshot, and in it PostgreSQL
    runs the query as its rows are fetched (a cursor held past its transaction would run it
    whole first). A thread fetches each batch of rows while this one writes the last
    (``fetched_ahead``), so the database's work overlaps ours. The transaction lasts as long as
    the download: a slow reader keeps it open, which blocks no edit but holds back VACUUM and
    makes a migration's table lock wait for it (a deployment that sets PostgreSQL's
    ``idle_in_transaction_session_timeout`` ends downloads that pause longer than it).

    Rows come as the database driver returns them: Django's conversion of every value cost
    more than the rest of a big export's work. So a date (``UnparsedDate``) is ISO text, and
    ``is_current`` is 0 or 1 from SQLite; the export writes both the same way. Sources (a few
    dozen) are looked up in a dictionary rather than joined. Lines are written by hand
    (``csv_cell``), three times faster than through the csv module.
    """
    sources = {
        pk: f"{csv_cell(name)},{kind}" for pk, name, kind in Source.objects.values_list("pk", "name", "kind")
    }
    ordering = list(incidents.query.order_by or Incident._meta.ordering)
    if not {"pk", "-pk", "id", "-id"} & set(ordering):
        ordering.append("pk")  # each incident's rows together, whatever the order asked
    listed = (
        incidents.alias(report=FilteredRelation("reports"))
        .annotate(iso_date=UnparsedDate("start_date"), report_iso_date=UnparsedDate("report__published_on"))
        .order_by(*ordering)
        .values_list(*INCIDENT_FIELDS_FOR_REPORTS, *REPORT_FIELDS)
    )
    sql, params = listed.query.sql_with_params()
    with (
        transaction.atomic(),
        connection.chunked_cursor() as cursor,
        closing(fetched_ahead(cursor, sql, params, FETCH_ROWS)) as batches,  # its thread ends first
    ):
        for rows in _whole_incidents(batches):
            yield _lines(rows, sources)


def _whole_incidents(batches):
    """The rows of ``batches``, each incident's rows in one batch: the last incident of a batch
    may go on in the next one, and its reports are put in order together (``_lines``)."""
    held = []
    for batch in batches:
        rows = held + batch
        last = rows[-1][0]
        end = len(rows)
        while end and rows[end - 1][0] == last:
            end -= 1
        held = rows[end:]
        if end:
            yield rows[:end]
    if held:
        yield held


def _lines(rows, sources):
    """The lines of ``rows`` (an incident's values, then one of its reports' or, for an
    incident without reports, Nones): each incident's cells are written once, its reports
    oldest first."""
    lines = []
    for _, joined in groupby(rows, itemgetter(0)):
        joined = list(joined)
        if len(joined) > 1:
            joined.sort(key=REPORT_ORDER)
        pk, title, start_date, admin1, place, location_name, location_kind = joined[0][:INCIDENT_VALUES]
        incident_cells = (
            f"{pk},{csv_cell(title)},{start_date},{csv_cell(admin1)},"
            f"{csv_cell(place_text(place, location_name, location_kind))}"
        )
        lines += [
            f"{report_pk},{incident_cells},{sources[source_id]},{published_on},"
            f"{killed_cells(killed_qualifier, killed, killed_upper)},"
            f"{injured_cells(injured_qualifier, injured, injured_upper)},"
            f"{victim_cells(civilians, children, women)},{yes_no(is_current)},"
            f"{csv_cell(url)},{csv_cell(quote)},{killed_counts},{number(published_time)},"
            f"{number(killed_best)},{csv_cell(archive_url)},{csv_cell(note)},{quote_language},"
            f"{csv_cell(quote_translation)},{yes_no(translation_is_machine)},"
            f"{csv_cell(dataset_event_id)}\r\n"
            for (
                report_pk, source_id, published_on, killed_qualifier, killed, killed_upper,
                injured_qualifier, injured, injured_upper, civilians, children, women, is_current,
                url, quote, killed_counts, published_time, archive_url, note, killed_best,
                dataset_event_id, quote_language, quote_translation, translation_is_machine,
            ) in (row[INCIDENT_VALUES:ROW_VALUES] for row in joined)
            if report_pk is not None
        ]  # fmt: skip
    return "".join(lines)


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


@export_view
def export_reports(request):
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    return csv_lines_response("reports", REPORT_COLUMNS, report_lines(incidents), hxl=wants_hxl(request))
