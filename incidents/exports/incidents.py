"""incidents.csv: one row per incident, its range and its sources' current figures."""

from django.db.models import Prefetch

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
from incidents.models import TollReport

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
    return place_text(incident.place, incident.location.name, incident.location.kind)


@export_view
def export_incidents(request):
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    rows = incident_rows(incidents, request.build_absolute_uri)
    return csv_response("incidents", INCIDENT_COLUMNS, rows, hxl=wants_hxl(request))
