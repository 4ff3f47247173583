"""Incidents, reports and places as plain data: what the pages say, in the API's words.

Each function reads only what the caller loaded (see the prefetches in ``views``), so a page
of the API costs a fixed number of queries. Figures come from ``incidents.figures`` over each
incident's reports, as on the incident page; sentences from the helpers the pages use.
"""

from incidents import blame, figures
from incidents.views import population_sentences


def figure_data(figure):
    """One stated figure: as stated, its number(s), and the tolls it allows (``Interval``)."""
    interval = figure.interval
    return {
        "as_stated": figure.as_stated(),
        "counted_as": figure.counted_as(),
        "qualifier": figure.qualifier,
        "number": figure.value,
        "upper": figure.upper,
        "interval": None if interval is None else {"low": interval.low, "high": interval.high},
        "stated_low": figure.stated_low,
        "stated_high": figure.stated_high,
        "open": figure.is_open,
    }


def range_data(toll):
    """One population's range (``figures.TollRange``)."""
    return {
        "lowest": toll.lowest,
        "highest": toll.highest,
        "highest_open": toll.highest_open,
        "short": toll.short(),
        "agreement": toll.agreement,
        "figure_count": toll.figure_count,
        "source_count": toll.source_count,
        "is_floor": toll.is_floor,
    }


def source_data(source):
    return {"slug": source.slug, "name": source.name, "short_name": source.short_name, "kind": source.kind}


def actor_data(actor):
    return {"slug": actor.slug, "name": actor.name, "kind": actor.kind}


def place_data(location):
    return {
        "slug": location.slug,
        "name": location.name,
        "kind": location.kind,
        "pcode": location.pcode,
        "chain": location.chain,
    }


def incident_link(incident):
    return {"id": incident.pk, "slug": incident.slug, "title": incident.title}


def coordinates(*, own, place):
    """The point to place an incident at, and whose point it is: the incident's own coordinates
    (``own``, from a dataset or the analyst) when it has them, else its place's; None when
    neither is known. How precisely the incident is placed is its ``location_precision``."""
    for of, (latitude, longitude) in (("incident", own), ("place", place)):
        if latitude is not None and longitude is not None:
            return {"latitude": float(latitude), "longitude": float(longitude), "of": of}
    return None


def coordinates_of(incident):
    return coordinates(
        own=(incident.latitude, incident.longitude),
        place=(incident.location.latitude, incident.location.longitude),
    )


def current_figures_data(by_population, sources):
    """Each source's current figure per population, all deaths first, as the page lists them."""
    rows = []
    for population in figures.POPULATIONS:
        for source_figure in by_population[population]:
            report = source_figure.report
            rows.append(
                {
                    "source": source_data(sources[source_figure.source_id]),
                    "population": population,
                    "report_id": report.pk,
                    "published_on": report.published_on,
                    "url": report.url,
                    **figure_data(source_figure.figure),
                }
            )
    return rows


def attribution_data(attributions):
    """Each source's current stance on each actor, the sentence the page shows, and whether
    the attribution is disputed (``incidents.blame``)."""
    current = sorted(blame.current_stances(attributions).values(), key=lambda a: (a.published_on, a.pk))
    verdict = blame.blame(attributions)
    return {
        "sentence": blame.blame_sentence(current),
        "disputed": verdict.is_disputed,
        "stances": [
            {
                "source": source_data(a.source),
                "actor": actor_data(a.actor),
                "stance": a.stance,
                "published_on": a.published_on,
                "quote": a.quote,
            }
            for a in current
        ],
    }


def incident_data(incident, *, reports, attributions, parts, victims, absolute_url):
    """An incident with its ranges per population, agreement, attributions, parts, each
    source's current figure and how many people are identified. ``reports``: all its reports
    (sources loaded); ``parts``: its published parts; ``victims``: its ``stats.VictimCounts``.
    No query."""
    by_population = figures.current_figures(reports)
    computed = figures.incident_figures(by_population)
    sources = {report.source_id: report.source for report in reports}
    whole = incident.part_of if incident.part_of_id and incident.part_of.is_published else None
    location = incident.location
    return {
        "id": incident.pk,
        "slug": incident.slug,
        "url": absolute_url(incident.get_absolute_url()),
        "title": incident.title,
        "summary": incident.summary,
        "kind": incident.kind,
        "start_date": incident.start_date,
        "end_date": incident.end_date,
        "date_precision": incident.date_precision,
        "location": place_data(location),
        "place": incident.place,
        "location_precision": incident.location_precision,
        "coordinates": coordinates_of(incident),
        "killed": range_data(computed.killed),
        "civilians": range_data(computed.civilians),
        "combatants": range_data(computed.combatants),
        "sentences": population_sentences(by_population) or [figures.range_sentence([])],
        "disputed": computed.is_disputed,
        "contradictory": computed.is_contradictory,
        "source_count": computed.source_count,
        "current_figures": current_figures_data(by_population, sources),
        "attribution": attribution_data(attributions),
        "part_of": incident_link(whole) if whole else None,
        "parts": [incident_link(part) for part in parts],
        "victims_identified": victims.as_dict(),
    }


def report_data(report):
    """One report, as the source published it. ``report.source`` and ``report.incident`` loaded."""
    return {
        "id": report.pk,
        "incident": incident_link(report.incident),
        "source": source_data(report.source),
        "published_on": report.published_on,
        "published_time": report.published_time,
        "url": report.url,
        "archive_url": report.archive_url,
        "quote": report.quote,
        "note": report.note,
        "killed_counts": report.killed_counts,
        "killed": figure_data(report.killed_figure),
        "injured": figure_data(report.injured_figure),
        "civilians": report.civilians,
        "children": report.children,
        "women": report.women,
        "is_current": report.is_current,
    }


def location_data(location):
    """A place with its P-code and the places it lies in (``country``, ``admin1``, ``admin2``
    and ``parent`` loaded)."""
    above = [location.country, location.admin1, location.admin2]
    return {
        **place_data(location),
        "name_ar": location.name_ar,
        "latitude": None if location.latitude is None else float(location.latitude),
        "longitude": None if location.longitude is None else float(location.longitude),
        "parent": location.parent.slug if location.parent_id else None,
        "within": [place_data(place) for place in above if place is not None and place.pk != location.pk],
    }
