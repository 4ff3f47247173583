"""UCDP Georeferenced Event Dataset (GED) rows mapped to our vocabulary (columns found by name)."""

from incidents.importing.base import (
    Event,
    Figure,
    RowError,
    chain,
    coordinate,
    parse_date,
    required,
    whole_number,
)
from incidents.models import Actor, Incident, Location

KIND = Location.Kind

UCDP_VIOLENCE = {
    "1": ("armed_clash", "State-based armed conflict"),
    "2": ("armed_clash", "Non-state conflict"),
    "3": ("attack", "One-sided violence against civilians"),
}
UCDP_DATE_PRECISION = {"1": "day", "2": "days", "3": "week", "4": "month", "5": "year"}
# UCDP's codebook: 5 is "larger than an admin 1 but smaller than the country", 7 "international
# waters or airspace".
UCDP_WHERE_PRECISION = {
    "1": "exact", "2": "near", "3": "admin2", "4": "admin1", "5": "region", "6": "country",
    "7": "water_airspace",
}  # fmt: skip
REQUIRED_COLUMNS = ["id", "type_of_violence", "date_start", "low", "best", "high", "country"]
# One-sided violence (type 3) is an attack on civilians by some means; state-based and non-state
# conflict (1, 2) say nothing of the means: any kind of incident may be the same event.
MATCHING_KINDS = {"1": None, "2": None, "3": {"attack", "air_strike", "shelling", "remote_explosive",
                                               "suicide_bomb", "chemical_weapon"}}  # fmt: skip


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
    flags = []
    if low > high:
        # A coding slip: the event stays, read as the range its two numbers span.
        flags.append(f"low ({low}) is above high ({high}): read as between {high} and {low}")
        low, high = high, low
    if not low <= best <= high:
        flags.append(f"best ({best}) is outside low–high ({low}–{high}): the best estimate is left out")
        best = None
    deaths = {side: whole_number(row, f"deaths_{side}") for side in ("a", "b", "civilians", "unknown")}
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
    civilians = deaths["civilians"]
    if civilians is not None and civilians > high:
        flags.append(f"deaths_civilians ({civilians}) is above high ({high}): both kept as UCDP gives them")
    by_side = [
        f"{label} {deaths[side]}"
        for side, label in (
            ("a", row.get("side_a") or "side A"), ("b", row.get("side_b") or "side B"),
            ("civilians", "civilians"), ("unknown", "unknown"),
        )
        # One-sided violence: side B is "Civilians", whose deaths UCDP counts in deaths_civilians
        # (deaths_b is 0): "Civilians 0, civilians 17" would read as a contradiction.
        if deaths[side] is not None and not (side == "b" and violence == "3" and not deaths[side])
    ]  # fmt: skip
    note = "; ".join(
        part
        for part in (
            f"deaths by side (best estimates): {', '.join(by_side)}" if by_side else "",
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
        # UCDP's sides are parties; only one-sided violence (type 3) names who did it: side A.
        perpetrators=[ucdp_actor(sides[0])] if violence == "3" and sides[0] else [],
        parties=[name for name in (row.get("side_a", ""), row.get("side_b", "")) if name],
        figures=[
            Figure(
                killed=low,
                killed_qualifier="exact" if low == high else "between",
                killed_upper=None if low == high else high,
                killed_best=best,
            ),
            # UCDP's civilian deaths are a figure of their own (a share of best), not a bound on low–high.
            *(
                [Figure(killed=civilians, killed_qualifier="exact", killed_counts="civilians")]
                if civilians is not None
                else []
            ),
        ],
        published_on=release_date,
        summary=f"{row.get('conflict_name', '')}. {row.get('dyad_name', '')}".strip(". "),
        quote=row.get("source_article", ""),
        note=note,
        matching_kinds=MATCHING_KINDS[violence],
        flags=flags,
    )


DATASET = (Incident.Dataset.UCDP, "UCDP GED", "UCDP GED", "https://ucdp.uu.se/", map_ucdp)
