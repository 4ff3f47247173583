"""/data/: the published data for everyone, as CSV files described by a Frictionless data package.

The files are the editors' exports (``incidents.exports``) over published incidents only: the
same columns, HXL tags and streaming, the same list filters. ``datapackage.json`` describes
them (fields, types, licence, sources) so that tools such as ``frictionless`` can read and
check them.
"""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from incidents import citations, stats
from incidents.exports.cells import (
    bad_request,
    csv_lines_response,
    csv_response,
    filtered_for_export,
    wants_hxl,
)
from incidents.exports.incidents import INCIDENT_COLUMNS, incident_rows
from incidents.exports.reports import REPORT_COLUMNS, report_lines
from incidents.exports.victims import PUBLIC_VICTIM_COLUMNS, victim_rows
from incidents.models import Incident, Source, Victim

# Each column's Frictionless type and meaning; a column not listed (a new one) reads as text.
FIELDS = {
    "id": ("integer", "The incident's number: stable, cite it."),
    "title": ("string", "The incident's title."),
    "start_date": ("date", "The day it happened, or the first day."),
    "end_date": ("date", "The last day, when it lasted several or the day is uncertain."),
    "kind": ("string", "air_strike, shelling, armed_clash, remote_explosive, chemical_weapon, suicide_bomb, "
             "attack or other."),
    "country": ("string", "Country."),
    "admin1": ("string", "Governorate or region (admin 1)."),
    "admin2": ("string", "District (admin 2)."),
    "place": ("string", "The place in words."),
    "pcode": ("string", "OCHA P-code of the place."),
    "latitude": ("number", "Latitude of the place (WGS 84)."),
    "longitude": ("number", "Longitude of the place (WGS 84)."),
    "perpetrators": ("string", "Actors at least one source alleges, separated by “; ”."),
    "killed_lowest": ("integer", "The smallest number a source states (everyone killed)."),
    "killed_highest": ("integer", "The largest number a source states."),
    "killed_highest_open": ("boolean", "The highest is open-ended (“120+”)."),
    "source_count": ("integer", "Sources with a current figure."),
    "figures": ("string", "Each source's current figure as stated, with its date."),
    "url": ("string", "The record's page."),
    "killed_disputed": ("boolean", "Sources' figures differ."),
    "killed_contradictory": ("boolean", "No single toll fits every source's figure."),
    "civilians_lowest": ("integer", "The civilian range's lowest."),
    "civilians_highest": ("integer", "The civilian range's highest."),
    "civilians_highest_open": ("boolean", "The civilian highest is open-ended."),
    "part_of": ("integer", "The id of the larger incident this one is part of."),
    "attribution_disputed": ("boolean", "Sources blame different actors, or an alleged actor denies."),
    "title_ar": ("string", "Title in Arabic."),
    "summary_ar": ("string", "Summary in Arabic."),
    "victims_identified": ("integer", "People recorded on the incident, named or described (victims.csv)."),
    "report_id": ("integer", "The report's number."),
    "incident_id": ("integer", "The incident's id (incidents.csv)."),
    "incident_title": ("string", "The incident's title."),
    "incident_date": ("date", "The day the incident happened."),
    "source": ("string", "Who published the figure."),
    "source_kind": ("string", "government, monitoring_group, international_org, media, armed_group, dataset "
                    "or other."),
    "published_on": ("date", "The day the source published the figure."),
    "killed_as_reported": ("string", "The figure as stated: “at least 89”, “dozens”."),
    "killed_qualifier": ("string", "exact, at_least, more_than, about, up_to, between, several, dozens, "
                         "scores, hundreds, thousands or unknown."),
    "killed": ("integer", "The number stated."),
    "killed_upper": ("integer", "The upper number of a “between”."),
    "injured_as_reported": ("string", "Injured, as stated."),
    "injured": ("integer", "Injured: the number stated."),
    "injured_upper": ("integer", "Injured: the upper number of a “between”."),
    "civilians": ("integer", "Of whom civilians."),
    "children": ("integer", "Of whom children."),
    "women": ("integer", "Of whom women."),
    "is_current": ("boolean", "The source's current report for the incident (its latest figure)."),
    "quote": ("string", "The source's exact words."),
    "killed_counts": ("string", "Whom the killed figure counts: all, civilians or combatants."),
    "published_time": ("time", "Time of publication, to order a source's figures on one day (UTC)."),
    "killed_best": ("integer", "The source's best estimate within its own range."),
    "archive_url": ("string", "An archived copy of the source."),
    "note": ("string", "Note."),
    "quote_language": ("string", "Language of the quote (ISO 639-1)."),
    "quote_translation": ("string", "The quote in English."),
    "translation_is_machine": ("boolean", "The translation was made by a machine."),
    "dataset_event_id": ("string", "The event's id in the dataset it was imported from."),
    "victim_id": ("integer", "The person's number: stable."),
    "name": ("string", "The person's name; empty while an editor has not released it."),
    "name_ar": ("string", "The name in Arabic; empty while it is not released."),
    "sex": ("string", "female, male or unknown."),
    "age": ("integer", "Age in years at death."),
    "age_group": ("string", "child (under 18), adult, elderly (60 and over) or unknown."),
    "status": ("string", "civilian, combatant or unknown."),
    "date_of_death": ("date", "The day the person died (may differ from the incident's)."),
    "is_public": ("boolean", "The name is released."),
    "sources": ("string", "The reports that name or describe the person: source (date)."),
    "description": ("string", "What is said of every person, named or not: “a girl aged 2, civilian”."),
}  # fmt: skip


def table_schema(columns):
    """A Frictionless Table Schema for an export's columns, with each column's HXL tag."""
    fields = []
    for name, hxl in columns:
        kind, description = FIELDS.get(name, ("string", ""))
        fields.append({"name": name, "type": kind, "description": f"{description} HXL: {hxl}".strip()})
    return {"fields": fields}


DOWNLOADS = [
    ("incidents", "incidents.csv", INCIDENT_COLUMNS, "One row per published incident with its range."),
    ("reports", "reports.csv", REPORT_COLUMNS, "One row per report on a published incident."),
    (
        "victims",
        "victims.csv",
        PUBLIC_VICTIM_COLUMNS,
        "One row per person identified in a published incident; a name only once an editor released it.",
    ),
]


@require_safe
def open_data(request):
    last_changed = stats.data_last_changed()
    context = {
        "licence": settings.OPEN_DATA_LICENCE,
        "publisher": settings.OPEN_DATA_PUBLISHER,
        "last_changed": last_changed,
        "citation": citations.dataset_citation(
            absolute_url=request.build_absolute_uri, last_changed=last_changed
        ),
        "incident_count": Incident.objects.published().count(),
    }
    return render(request, "incidents/open_data.html", context)


@require_safe
def datapackage(request):
    """The Frictionless data package describing the CSV files."""
    last_changed = stats.data_last_changed()
    package = {
        "profile": "tabular-data-package",
        "name": "casualty-tracker",
        "title": f"{settings.OPEN_DATA_PUBLISHER}: published incidents and reports",
        "description": "Death tolls of armed-conflict incidents: every source's figure as stated, the range "
        "over their current figures, never averaged. How figures are read: "
        + request.build_absolute_uri(reverse("methodology")),
        "homepage": request.build_absolute_uri(reverse("open_data")),
        "licenses": [settings.OPEN_DATA_LICENCE],
        "sources": [
            {"title": name, **({"path": website} if website else {})}
            for name, website in Source.objects.public().order_by("name").values_list("name", "website")
        ],
        "resources": [
            {
                "profile": "tabular-data-resource",
                "name": name,
                "path": request.build_absolute_uri(reverse(f"open_data_{name}")),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "description": description,
                "schema": table_schema(columns),
            }
            for name, _, columns, description in DOWNLOADS
        ],
    }
    if last_changed:
        package["created"] = last_changed.isoformat()
    return JsonResponse(package, json_dumps_params={"ensure_ascii": False, "indent": 2})


@require_safe
def incidents_csv(request):
    incidents, error = filtered_for_export(request, drafts_allowed=False)
    if error:
        return bad_request(error)
    rows = incident_rows(incidents, request.build_absolute_uri, public=True)
    return csv_response("incidents", INCIDENT_COLUMNS, rows, hxl=wants_hxl(request))


@require_safe
def reports_csv(request):
    incidents, error = filtered_for_export(request, drafts_allowed=False)
    if error:
        return bad_request(error)
    return csv_lines_response("reports", REPORT_COLUMNS, report_lines(incidents), hxl=wants_hxl(request))


@require_safe
def victims_csv(request):
    incidents, error = filtered_for_export(request, drafts_allowed=False)
    if error:
        return bad_request(error)
    victims = Victim.objects.filter(incident__in=incidents.order_by().values("pk"))
    rows = victim_rows(victims, public=True)
    return csv_response("victims", PUBLIC_VICTIM_COLUMNS, rows, hxl=wants_hxl(request))
