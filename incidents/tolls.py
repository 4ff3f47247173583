"""The one writer of derived figures: which report of each source is current, and each
incident's stored range (``Incident.FIGURE_FIELDS``).

Every path that changes reports (a save or delete, a bulk delete or update, a restore, an
import, ``generate_data``) ends by calling ``refresh()`` in its own transaction, and nothing
else writes those columns (their ``update()`` refuses them). The arithmetic is
``incidents.figures``; this module only reads the reports and stores the results.
"""

from django.db import transaction
from django.db.models import Case, Value, When

from incidents import figures

# Incidents refreshed per round trip: a few thousand reports read, two UPDATEs written.
CHUNK = 1000
# Incidents whose range is written by one UPDATE (a CASE per column).
WRITE_BATCH = 200


def refresh(incident_ids):
    """Mark each source's current report and store the range of each of ``incident_ids``.

    The incidents' rows are locked first (``SELECT … FOR NO KEY UPDATE``, in id order so that
    two refreshes never wait on each other in a circle): a report saved at the same moment on
    the same incident waits, and its refresh then reads this one's report too. About four
    queries per thousand incidents.
    """
    ids = sorted({pk for pk in incident_ids if pk is not None})
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            _refresh_chunk(ids[start : start + CHUNK])


def _refresh_chunk(ids):
    # Imported here: the models call refresh() from their save().
    from incidents.models import Incident, TollReport

    stored = {
        row[0]: row[1:]
        for row in Incident.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", *Incident.FIGURE_FIELDS)
    }
    reports_by_incident = {pk: [] for pk in stored}
    for report in (
        TollReport.objects.filter(incident_id__in=stored)
        .order_by()
        .only("pk", "incident_id", "source_id", "published_on", "killed_qualifier", "killed", "killed_upper",
              "is_current")
    ):  # fmt: skip
        reports_by_incident[report.incident_id].append(report)

    now_current, no_longer_current, changed_incidents = [], [], []
    for pk, reports in reports_by_incident.items():
        current = figures.current_reports(reports)
        current_ids = {report.pk for report in current}
        for report in reports:
            if report.is_current and report.pk not in current_ids:
                no_longer_current.append(report.pk)
            elif not report.is_current and report.pk in current_ids:
                now_current.append(report.pk)
        toll = figures.incident_range(report.killed_figure for report in current)
        values = stored_values(toll)
        if tuple(values[name] for name in Incident.FIGURE_FIELDS) != stored[pk]:
            changed_incidents.append(Incident(pk=pk, **values))

    if now_current:
        TollReport.objects.filter(pk__in=now_current)._write_current(True)
    if no_longer_current:
        TollReport.objects.filter(pk__in=no_longer_current)._write_current(False)
    for start in range(0, len(changed_incidents), WRITE_BATCH):
        _write_ranges(Incident, changed_incidents[start : start + WRITE_BATCH])


def _write_ranges(Incident, incidents):
    """One UPDATE for a batch of incidents: each column a CASE over their ids (as bulk_update
    writes it; bulk_update itself goes through update(), which refuses these columns)."""
    if len(incidents) == 1:
        values = {name: getattr(incidents[0], name) for name in Incident.FIGURE_FIELDS}
    else:
        values = {
            name: Case(
                *[When(pk=incident.pk, then=Value(getattr(incident, name))) for incident in incidents],
                output_field=Incident._meta.get_field(name),
            )
            for name in Incident.FIGURE_FIELDS
        }
    Incident.objects.filter(pk__in=[incident.pk for incident in incidents])._write_derived(**values)


def stored_values(toll):
    """The ``Incident.FIGURE_FIELDS`` of a ``figures.TollRange``, in their order."""
    return {
        "killed_lowest": toll.lowest,
        "killed_highest": toll.highest,
        "killed_highest_open": toll.highest_open,
        "killed_spread": toll.spread,
        "figure_count": toll.figure_count,
        "source_count": toll.source_count,
        "is_disputed": toll.is_disputed,
    }
