"""ACLED rows mapped to our vocabulary (columns found by name; old upper-case files too)."""

import datetime

from incidents.importing.base import Event, Figure, chain, coordinate, parse_date, required, whole_number
from incidents.models import Actor, Incident, Location

KIND = Location.Kind

ACLED_KIND = {
    "air/drone strike": "air_strike",
    "shelling/artillery/missile attack": "shelling",
    "armed clash": "armed_clash",
    "remote explosive/landmine/ied": "remote_explosive",
    "chemical weapon": "chemical_weapon",
    "suicide bomb": "suicide_bomb",
    "attack": "attack",
}
ACLED_DATE_PRECISION = {"1": "day", "2": "week", "3": "month"}
ACLED_GEO_PRECISION = {"1": "exact", "2": "near", "3": "admin2"}
ACLED_ACTOR_KIND = {
    "1": Actor.Kind.STATE_FORCES, "state forces": Actor.Kind.STATE_FORCES,
    "2": Actor.Kind.NON_STATE_GROUP, "rebel groups": Actor.Kind.NON_STATE_GROUP,
    "3": Actor.Kind.NON_STATE_GROUP, "political militias": Actor.Kind.NON_STATE_GROUP,
    "4": Actor.Kind.NON_STATE_GROUP, "identity militias": Actor.Kind.NON_STATE_GROUP,
    "8": Actor.Kind.FOREIGN_FORCES, "external/other forces": Actor.Kind.FOREIGN_FORCES,
}  # fmt: skip
REQUIRED_COLUMNS = ["event_id_cnty", "event_date", "fatalities", "country"]
# Older files call the associated actors "ally" actors.
ACLED_RENAMED = {"ally_actor_1": "assoc_actor_1", "ally_actor_2": "assoc_actor_2"}


def acled_actors(row, side):
    names = [row.get(f"actor{side}", "")] + row.get(f"assoc_actor_{side}", "").split(";")
    kind = ACLED_ACTOR_KIND.get(row.get(f"inter{side}", "").lower(), Actor.Kind.UNIDENTIFIED)
    actors = []
    for name in (n.strip() for n in names):
        if not name or name.lower().startswith("civilians"):
            continue
        actors.append((name, Actor.Kind.UNIDENTIFIED if "unidentified" in name.lower() else kind))
    return actors


# ACLED's codebook: Actor 1 and Actor 2 "do not imply directionality". Only these event types say
# who acted upon whom: in violence against civilians Actor 1 is the perpetrator (Actor 2 the
# civilians), and in explosions / remote violence Actor 1 is the one who fired or detonated. There
# Actor 1 is recorded as alleged by ACLED, for remote violence only when ACLED names the actor (an
# "Unidentified …" group is no attribution). Battles, protests, riots and strategic developments
# name parties, not perpetrators.
DIRECTED_EVENT_TYPES = {
    "violence against civilians": True,  # an unidentified perpetrator is still recorded
    "explosions/remote violence": False,  # a named actor only
    "remote violence": False,  # older files
}


def acled_perpetrators(row):
    """The actors ACLED's event type makes the perpetrator (see DIRECTED_EVENT_TYPES)."""
    event_type = row.get("event_type", "").strip().lower()
    if event_type not in DIRECTED_EVENT_TYPES:
        return []
    unidentified_too = DIRECTED_EVENT_TYPES[event_type]
    # Actor 1 and its associated actors, who act alongside it.
    side = acled_actors(row, 1)
    return [(name, kind) for name, kind in side if unidentified_too or kind != Actor.Kind.UNIDENTIFIED]


def map_acled(row, release_date):
    row = {ACLED_RENAMED.get(k, k): v for k, v in row.items()}
    event_id = required(row, "event_id_cnty")
    start = parse_date(row, "event_date")
    fatalities = whole_number(row, "fatalities", allow_empty=False)
    sub_event = row.get("sub_event_type", "")
    kind = ACLED_KIND.get(sub_event.lower(), "other")
    place = row.get("location", "")
    places = chain(
        (KIND.COUNTRY, row.get("country", "")),
        # Some exports (HDX's) add the OCHA P-codes of the admin levels: the surest match.
        (KIND.ADMIN1, row.get("admin1", ""), row.get("admin1_pcode", "")),
        (KIND.ADMIN2, row.get("admin2", ""), row.get("admin2_pcode", "")),
        (KIND.ADMIN3, row.get("admin3", ""), row.get("admin3_pcode", "")),
        (KIND.LOCALITY, place),
    )
    parties = acled_actors(row, 1) + acled_actors(row, 2)
    perpetrators = acled_perpetrators(row)
    published_on = release_date
    if row.get("timestamp", "").isdigit():
        published_on = datetime.datetime.fromtimestamp(int(row["timestamp"]), tz=datetime.timezone.utc).date()
    sources = [s.strip() for s in row.get("source", "").split(";") if s.strip()]
    where = places[-1][1] if places else "an unknown place"
    return Event(
        event_id=event_id,
        title=f"{sub_event or row.get('event_type') or 'Event'} in {where}",
        kind=kind,
        start_date=start,
        end_date=None,
        date_precision=ACLED_DATE_PRECISION.get(row.get("time_precision", ""), "day"),
        places=places,
        latitude=coordinate(row, "latitude", 90),
        longitude=coordinate(row, "longitude", 180),
        location_precision=ACLED_GEO_PRECISION.get(row.get("geo_precision", ""), "exact"),
        place="",
        perpetrators=perpetrators,
        parties=[name for name, _ in parties],
        # ACLED's fatalities are a conservative figure ("at least"); a 0 is a real zero.
        figures=[Figure(killed=fatalities, killed_qualifier="at_least" if fatalities else "exact")],
        matching_kinds={kind},
        published_on=min(max(published_on, start), datetime.date.today()),
        summary=row.get("notes", ""),
        quote=row.get("notes", ""),
        note="; ".join(
            part
            for part in (
                f"ACLED event type: {row.get('event_type', '')} / {sub_event}",
                f"original sources: {'; '.join(sources)}" if sources else "",
                f"source scale: {row['source_scale']}" if row.get("source_scale") else "",
            )
            if part
        ),
    )


DATASET = (Incident.Dataset.ACLED, "ACLED", "ACLED", "https://acleddata.com/", map_acled)
