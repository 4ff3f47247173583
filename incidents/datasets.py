"""UCDP GED and ACLED rows mapped to our vocabulary (see the codebooks; columns found by name)."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from incidents.importing import Event, RowError
from incidents.models import Actor, Incident, Location

KIND = Location.Kind

# --- helpers ------------------------------------------------------------------------------------


def required(row, column):
    value = row.get(column, "")
    if not value:
        raise RowError(f"the {column} column is empty")
    return value


def whole_number(row, column, allow_empty=True):
    value = row.get(column, "")
    if value == "":
        if allow_empty:
            return None
        raise RowError(f"the {column} column is empty")
    try:
        number = int(Decimal(value))
    except (InvalidOperation, ValueError):
        raise RowError(f"{column} is not a number: {value!r}") from None
    if number < 0:
        raise RowError(f"{column} is negative: {value}")
    return number


def coordinate(row, column, limit):
    value = row.get(column, "")
    if value == "":
        return None
    try:
        number = Decimal(value).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise RowError(f"{column} is not a number: {value!r}") from None
    if abs(number) > limit:
        raise RowError(f"{column} is out of range: {value}")
    return number


DATE_FORMATS = ["%Y-%m-%d", "%d %B %Y", "%d/%m/%Y", "%d-%B-%Y", "%Y-%m-%d %H:%M:%S"]


def parse_date(row, column):
    value = required(row, column)
    text = value.split(".")[0] if re.match(r"^\d{4}-\d\d-\d\d \d", value) else value
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    raise RowError(f"{column} is not a date: {value!r}")


def chain(*levels):
    """[(kind, name)] without the empty levels."""
    return [(kind, name) for kind, name in levels if name]


# --- UCDP GED -----------------------------------------------------------------------------------

UCDP_VIOLENCE = {
    "1": ("armed_clash", "State-based armed conflict"),
    "2": ("armed_clash", "Non-state conflict"),
    "3": ("attack", "One-sided violence against civilians"),
}
UCDP_DATE_PRECISION = {"1": "day", "2": "days", "3": "week", "4": "month", "5": "year"}
UCDP_WHERE_PRECISION = {
    "1": "exact", "2": "near", "3": "admin2", "4": "admin1", "5": "admin1", "6": "country", "7": "country",
}  # fmt: skip


def ucdp_actor(name):
    if name.lower().startswith("government of"):
        return name, Actor.Kind.STATE_FORCES
    return name, Actor.Kind.NON_STATE_GROUP


def map_ucdp(row, release_date):
    event_id = required(row, "id")
    violence = row.get("type_of_violence", "")
    if violence not in UCDP_VIOLENCE:
        raise RowError(f"type_of_violence must be 1, 2 or 3, not {violence!r}")
    kind, violence_words = UCDP_VIOLENCE[violence]
    start = parse_date(row, "date_start")
    end = parse_date(row, "date_end") if row.get("date_end") else start
    if end < start:
        raise RowError("date_end is before date_start")
    low, best, high = (whole_number(row, c, allow_empty=False) for c in ("low", "best", "high"))
    if low > high:
        raise RowError(f"low ({low}) is above high ({high})")
    precision = row.get("where_prec", "")
    place = row.get("where_coordinates", "")
    fine = precision in ("1", "2") and place
    places = chain(
        (KIND.COUNTRY, row.get("country", "")),
        (KIND.ADMIN1, row.get("adm_1", "")),
        (KIND.ADMIN2, row.get("adm_2", "")),
        (KIND.LOCALITY, place if fine else ""),
    )
    sides = [row.get("side_a", "")] + ([row.get("side_b", "")] if violence != "3" else [])
    sources = (
        whole_number(row, "number_of_sources") if row.get("number_of_sources") not in ("", "-1") else None
    )
    note = "; ".join(
        part
        for part in (
            f"UCDP best estimate: {best}",
            f"number of sources: {sources if sources is not None else 'unknown'}",
            f"original sources: {row['source_original']}" if row.get("source_original") else "",
            f"source office: {row['source_office']}" if row.get("source_office") else "",
            f"headline: {row['source_headline']}" if row.get("source_headline") else "",
        )
        if part
    )
    where = place or row.get("adm_2") or row.get("adm_1") or row.get("country", "")
    return Event(
        event_id=event_id,
        title=f"{violence_words}: {row.get('dyad_name') or ' – '.join(s for s in sides if s)}, {where}",
        kind=kind,
        start_date=start,
        end_date=end if end != start else None,
        date_precision=UCDP_DATE_PRECISION.get(row.get("date_prec", ""), "day"),
        places=places,
        latitude=coordinate(row, "latitude", 90) if fine else None,
        longitude=coordinate(row, "longitude", 180) if fine else None,
        location_precision=UCDP_WHERE_PRECISION.get(precision, "exact" if fine else "admin1"),
        place=row.get("where_description", "") or place,
        perpetrators=[ucdp_actor(name) for name in sides if name],
        killed=low,
        killed_qualifier="exact" if low == high else "between",
        killed_upper=None if low == high else high,
        civilians=whole_number(row, "deaths_civilians"),
        published_on=release_date,
        summary=f"{row.get('conflict_name', '')}. {row.get('dyad_name', '')}".strip(". "),
        quote=row.get("source_article", ""),
        note=note,
    )


# --- ACLED --------------------------------------------------------------------------------------

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
        (KIND.ADMIN1, row.get("admin1", "")),
        (KIND.ADMIN2, row.get("admin2", "")),
        (KIND.ADMIN3, row.get("admin3", "")),
        (KIND.LOCALITY, place),
    )
    perpetrators = acled_actors(row, 1)
    if kind == "armed_clash":
        perpetrators += acled_actors(row, 2)
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
        killed=fatalities,
        killed_qualifier="at_least",
        killed_upper=None,
        civilians=None,
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


DATASETS = {
    "ucdp": (
        Incident.Dataset.UCDP,
        "UCDP GED",
        "UCDP GED",
        "https://ucdp.uu.se/",
        map_ucdp,
    ),
    "acled": (Incident.Dataset.ACLED, "ACLED", "ACLED", "https://acleddata.com/", map_acled),
}
