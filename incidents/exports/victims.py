"""victims.csv: one row per person identified. Editors' export (/export/) gives every name; the
open data (/data/) gives a name only once an editor has released it, and a description of each
person in an appended column."""

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


# Open data only: what a reader may know of a person whose name is hidden.
PUBLIC_VICTIM_COLUMNS = [*VICTIM_COLUMNS, ("description", "#affected+description")]


def victim_rows(victims, *, public=False):
    """One row per person. Queries: one per chunk of people, plus one prefetch per chunk.

    ``public``: for readers (/data/): a hidden name is blank, and each row ends with the
    description the incident page shows ("a girl aged 2, civilian")."""
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
        row = [
            victim.pk,
            victim.incident_id,
            victim.incident.title,
            victim.public_name if public else victim.name,
            victim.public_name_ar if public else victim.name_ar,
            victim.sex,
            victim.age,
            victim.age_group,
            victim.status,
            victim.date_of_death.isoformat() if victim.date_of_death else "",
            yes_no(victim.is_public),
            "; ".join(f"{r.source.label} ({r.published_on.isoformat()})" for r in victim.reports.all()),
        ]
        if public:
            row.append(victim.description)
        yield row


@export_view
def export_victims(request):
    """The people of the incidents the list filters choose; hidden names too (editors only)."""
    incidents, error = filtered_for_export(request)
    if error:
        return bad_request(error)
    victims = Victim.objects.filter(incident__in=incidents.order_by().values("pk"))
    return csv_response("victims", VICTIM_COLUMNS, victim_rows(victims), hxl=wants_hxl(request))
