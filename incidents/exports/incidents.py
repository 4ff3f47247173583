"""incidents.csv: one row per incident, its range and its sources' current figures."""

from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce

from incidents import figures
from incidents.exports.cells import (
    CHUNK,
    bad_request,
    csv_response,
    export_view,
    filtered_for_export,
    place_text,
    wants_hxl,
    yes_no,
)
from incidents.models import Incident, TollReport, Victim

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
    # Appended (DESIGN.md); a column whose feature has not landed yet is present and empty.
    ("killed_disputed", "#affected+killed+disputed"),
    ("killed_contradictory", "#affected+killed+contradictory"),
    ("civilians_lowest", "#affected+killed+civilians+min"),
    ("civilians_highest", "#affected+killed+civilians+max"),
    ("civilians_highest_open", "#affected+killed+civilians+max+open"),
    ("part_of", "#event+id+whole"),
    ("attribution_disputed", "#group+perpetrator+disputed"),
    ("title_ar", "#event+name+i_ar"),
    ("summary_ar", "#description+i_ar"),
    ("victims_identified", "#affected+killed+named+num"),
]

NOT_YET = ""  # a column whose feature arrives with a later issue


def incident_rows(incidents, absolute_url, *, public=False):
    """One row per incident. Queries: one per chunk of incidents, plus two prefetches per chunk.

    ``public``: for readers (/data/), where a whole that is a draft is not named, not even by
    its number."""
    if public:
        incidents = incidents.annotate(whole_status=F("part_of__status"))
    incidents = (
        incidents.select_related("location", "location__country", "location__admin1", "location__admin2")
        .annotate(
            victims_identified=victims_identified(),
        )
        .prefetch_related(
            "perpetrators",
            Prefetch(
                "reports",
                queryset=TollReport.objects.filter(is_current=True)
                .select_related("source")
                .order_by("published_on", "pk"),
                to_attr="current",
            ),
        )
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
            # The incident's own coordinates when it has them (more precise), else its place's.
            incident.latitude if incident.latitude is not None else location.latitude,
            incident.longitude if incident.latitude is not None else location.longitude,
            "; ".join(actor.name for actor in incident.perpetrators.all()),
            incident.killed_lowest,
            incident.killed_highest,
            yes_no(incident.killed_highest_open),
            incident.source_count,
            "; ".join(_stated(report) for report in incident.current),
            absolute_url(incident.get_absolute_url()),
            yes_no(incident.toll.is_disputed),
            yes_no(incident.killed_contradictory),
            incident.civilians_lowest,
            incident.civilians_highest,
            yes_no(incident.civilians_highest_open) if incident.civilians_lowest is not None else "",
            incident.part_of_id if not public or incident.whole_status == Incident.Status.PUBLISHED else None,
            yes_no(incident.attribution_disputed),
            incident.title_ar,
            incident.summary_ar,
            incident.victims_identified,
        ]


def victims_identified():
    """How many people are recorded on the incident (named or described, names hidden or not): a
    subquery per incident row, so the export's queries stay one per chunk."""
    counted = (
        Victim.objects.filter(incident=OuterRef("pk")).order_by().values("incident").annotate(n=Count("*"))
    )
    return Coalesce(Subquery(counted.values("n"), output_field=IntegerField()), 0)


def _stated(report):
    """ "MoH: at least 89 (2023-10-05)"; a civilians- or combatants-only figure says so."""
    counts = "" if report.killed_counts == figures.ALL else f" {report.killed_counts}"
    day = report.published_on.isoformat()
    return f"{report.source.label}: {report.killed_figure.as_stated()}{counts} ({day})"


def _name(location):
    return location.name if location else ""


def _place(incident):
    return place_text(incident.place, incident.location.name, incident.location.kind)


@export_view
def export_incidents(request):
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    rows = incident_rows(incidents, request.build_absolute_uri)
    return csv_response("incidents", INCIDENT_COLUMNS, rows, hxl=wants_hxl(request))
