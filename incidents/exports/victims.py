"""victims.csv: one row per person identified, names hidden or not (editors only)."""

from django.db.models import Prefetch

from incidents.exports.cells import (
    CHUNK,
    bad_request,
    csv_response,
    export_view,
    filtered_for_export,
    wants_hxl,
    yes_no,
)
from incidents.models import TollReport, Victim

VICTIM_COLUMNS = [
    ("victim_id", "#affected+id"),
    ("incident_id", "#event+id"),
    ("incident_title", "#event+name"),
    ("name", "#affected+name"),
    ("name_ar", "#affected+name+i_ar"),
    ("sex", "#affected+sex"),
    ("age", "#affected+age"),
    ("age_group", "#affected+age+group"),
    ("status", "#affected+status"),
    ("date_of_death", "#date+death"),
    ("is_public", "#affected+name+public"),
    ("sources", "#meta+source"),
]


def victim_rows(victims):
    """One row per person. Queries: one per chunk of people, plus one prefetch per chunk."""
    victims = (
        victims.select_related("incident")
        .prefetch_related(
            Prefetch(
                "reports", queryset=TollReport.objects.select_related("source").order_by("published_on", "pk")
            )
        )
        .order_by("incident_id", "pk")
    )
    for victim in victims.iterator(chunk_size=CHUNK):
        yield [
            victim.pk,
            victim.incident_id,
            victim.incident.title,
            victim.name,
            victim.name_ar,
            victim.sex,
            victim.age,
            victim.age_group,
            victim.status,
            victim.date_of_death.isoformat() if victim.date_of_death else "",
            yes_no(victim.is_public),
            "; ".join(f"{r.source.label} ({r.published_on.isoformat()})" for r in victim.reports.all()),
        ]


@export_view
def export_victims(request):
    """The people of the incidents the list filters choose; hidden names too (editors only)."""
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    victims = Victim.objects.filter(incident__in=incidents.order_by().values("pk"))
    return csv_response("victims", VICTIM_COLUMNS, victim_rows(victims), hxl=wants_hxl(request))
