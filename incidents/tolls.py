"""The one writer of derived data: which report of each source is current (per population),
each incident's stored figures (``Incident.FIGURE_FIELDS``), and its alleged perpetrators and
claims (``Incident.perpetrators`` and ``claimed_by``, from the attributions).

Every path that changes reports (a save or delete, a bulk delete or update, a restore, an
import, ``generate_data``) or part trees (``Incident.part_of``) ends by calling ``refresh()``
in its own transaction, and nothing else writes those columns (their ``update()`` refuses
them). The arithmetic is ``incidents.figures``; this module only reads and stores.
"""

from django.db import connection, transaction

from incidents import blame, figures

# Incidents refreshed per round trip: a few thousand reports read, two UPDATEs written.
CHUNK = 1000

# What the arithmetic reads of a report.
REPORT_FIELDS = [
    "pk", "incident_id", "source_id", "published_on", "published_time", "killed_qualifier", "killed",
    "killed_upper", "killed_counts", "civilians", "is_current",
]  # fmt: skip


ATTRIBUTION_FIELDS = ["pk", "incident_id", "source_id", "actor_id", "stance", "published_on"]


def lock(incident_ids):
    """Lock the incidents' rows (``FOR NO KEY UPDATE``, in id order) for the rest of the transaction.

    Every writer of an incident's reports or attributions takes its incident first, then the
    rows beneath it: so a report page, the incident page with its inline rows, and a refresh
    never wait on each other in a circle (PostgreSQL would kill one with "deadlock detected").
    """
    from incidents.models import Incident

    ids = sorted({pk for pk in incident_ids if pk is not None})
    if ids:
        list(
            Incident.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk")
        )


def refresh(incident_ids):
    """Mark each source's current reports and store the figures of each of ``incident_ids``.

    The incidents' rows are locked first (``SELECT … FOR NO KEY UPDATE``, in id order so that
    two refreshes never wait on each other in a circle): a report saved at the same moment on
    the same incident waits, and its refresh then reads this one's report too. About five
    queries per thousand incidents.
    """
    ids = sorted({pk for pk in incident_ids if pk is not None})
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            _refresh_chunk(ids[start : start + CHUNK])


def _refresh_chunk(ids):
    # Imported here: the models call refresh() from their save().
    from incidents.models import Attribution, Incident, TollReport

    stored = {
        row[0]: row[1:]
        for row in Incident.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "part_of", *Incident.FIGURE_FIELDS)
    }
    wholes = set(Incident.objects.filter(part_of__in=stored).order_by().values_list("part_of", flat=True))
    reports_by_incident = {pk: [] for pk in stored}
    for report in TollReport.objects.filter(incident_id__in=stored).order_by().only(*REPORT_FIELDS):
        reports_by_incident[report.incident_id].append(report)
    attributions = {pk: [] for pk in stored}
    for attribution in (
        Attribution.objects.filter(incident_id__in=stored).order_by().only(*ATTRIBUTION_FIELDS)
    ):
        attributions[attribution.incident_id].append(attribution)
    blames = {pk: blame.blame(attributions[pk]) for pk in stored}

    now_current, no_longer_current, changed_incidents = [], [], []
    for pk, reports in reports_by_incident.items():
        current_ids = {report.pk for report in figures.current_reports(reports)}
        for report in reports:
            if report.is_current and report.pk not in current_ids:
                no_longer_current.append(report.pk)
            elif not report.is_current and report.pk in current_ids:
                now_current.append(report.pk)
        part_of, *old_values = stored[pk]
        values = stored_values(figures.incident_figures_of_reports(reports))
        values["in_part_tree"] = part_of is not None or pk in wholes
        values["attribution_disputed"] = blames[pk].is_disputed
        if tuple(values[name] for name in Incident.FIGURE_FIELDS) != tuple(old_values):
            changed_incidents.append(Incident(pk=pk, **values))

    if now_current:
        TollReport.objects.filter(pk__in=now_current)._write_current(True)
    if no_longer_current:
        TollReport.objects.filter(pk__in=no_longer_current)._write_current(False)
    _write_figures(Incident, changed_incidents)
    _write_actors(Incident.perpetrators.through, {pk: b.alleged for pk, b in blames.items()})
    _write_actors(Incident.claimed_by.through, {pk: b.claimed for pk, b in blames.items()})


def _write_actors(through, wanted):
    """Make the incident-actor rows of ``through`` be ``wanted`` ({incident id: actor ids})."""
    held = {pk: set() for pk in wanted}
    for incident_id, actor_id in through.objects.filter(incident_id__in=wanted).values_list(
        "incident_id", "actor_id"
    ):
        held[incident_id].add(actor_id)
    for pk, actors in wanted.items():
        if held[pk] - actors:
            through.objects.filter(incident_id=pk, actor_id__in=held[pk] - actors).delete()
    through.objects.bulk_create(
        [
            through(incident_id=pk, actor_id=actor)
            for pk, actors in wanted.items()
            for actor in actors - held[pk]
        ]
    )


def _write_figures(Incident, incidents):
    """One UPDATE statement, run for each changed incident (executemany).

    Plain SQL: Django's update() refuses these columns outside this module, and its
    bulk_update builds a CASE per column and row, which took most of a bulk refresh's time.
    """
    if not incidents:
        return
    quote = connection.ops.quote_name
    fields = [Incident._meta.get_field(name) for name in Incident.FIGURE_FIELDS]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    # Only our own table and column names, quoted; every value is a parameter.
    sql = f"UPDATE {quote(Incident._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608
    rows = [
        [field.get_db_prep_save(getattr(incident, field.attname), connection) for field in fields]
        + [incident.pk]
        for incident in incidents
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def stored_values(incident_figures):
    """The ``Incident.FIGURE_FIELDS`` (but ``in_part_tree``) of a ``figures.IncidentFigures``."""
    killed, civilians = incident_figures.killed, incident_figures.civilians
    return {
        "killed_lowest": killed.lowest,
        "killed_highest": killed.highest,
        "killed_highest_open": killed.highest_open,
        "killed_spread": killed.spread,
        "figure_count": killed.figure_count,
        "source_count": incident_figures.source_count,
        "is_disputed": incident_figures.is_disputed,
        "killed_agreement": killed.agreement or "",
        "killed_is_floor": killed.is_floor,
        "killed_contradictory": incident_figures.killed_contradictory,
        "civilians_lowest": civilians.lowest,
        "civilians_highest": civilians.highest,
        "civilians_highest_open": civilians.highest_open,
        "is_contradictory": incident_figures.is_contradictory,
    }
