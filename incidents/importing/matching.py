"""Which recorded incident a dataset's event describes, if any.

An event and an incident are the same when they happened on the same day (each date read with
its precision), in the same district (or within ``SAME_EVENT_KM`` when both have coordinates), and
their kinds are compatible. A **confident** match (one such incident) gets the event as that
dataset's report; a **weak** one (the same governorate and days, but no district or coordinates
to tell, or several incidents that fit) goes to the review queue. Nothing is merged silently.

Candidates are read once per batch of events, then bucketed by governorate and day in memory.
"""

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from incidents.importing.places import distance_km
from incidents.models import Incident, TollReport

SAME_EVENT_KM = 5
# Events whose dates are known to within a week at most can be matched confidently.
CONFIDENT_SPAN_DAYS = 7
# A weak match offers at most this many incidents to the reviewer.
MAX_CANDIDATES = 3
# Incidents are read from this many days before a batch's first day (a dated span can start earlier).
LOOK_BACK_DAYS = 31
COARSE_PRECISIONS = {"admin1", "region", "country", "water_airspace"}

# Kinds that describe the same event in two vocabularies: a strike ACLED calls an air strike
# may be shelling or an attack on civilians to another source. "other" fits anything.
STRIKES = {"air_strike", "shelling", "remote_explosive", "suicide_bomb", "chemical_weapon", "attack"}
COMPATIBLE = {kind: STRIKES | {"armed_clash"} if kind in STRIKES else {kind} for kind in Incident.Kind.values}
COMPATIBLE["armed_clash"] = {"armed_clash", "air_strike", "shelling"}


def kinds_compatible(event_kinds, kind):
    """``event_kinds`` is None when the dataset's kind says nothing of the means (UCDP)."""
    if event_kinds is None or kind == "other":
        return True
    return bool(event_kinds & COMPATIBLE.get(kind, {kind})) or "other" in event_kinds


def date_span(start, end, precision):
    """The days a dated event may have happened on, as (first, last)."""
    end = end or start
    if precision == "week":
        return start - datetime.timedelta(days=3), end + datetime.timedelta(days=3)
    if precision == "month":
        return start.replace(day=1), end.replace(day=calendar.monthrange(end.year, end.month)[1])
    if precision == "year":
        return start.replace(month=1, day=1), end.replace(month=12, day=31)
    return start, end


@dataclass
class Candidate:
    pk: int
    title: str
    kind: str
    first: datetime.date
    last: datetime.date
    location_id: int
    admin1_id: int | None
    admin2_id: int | None
    latitude: object
    longitude: object


@dataclass
class Match:
    incident_id: int | None = None  # a confident match
    possible: list = None  # [(incident id, reason)] for the review queue


class EventMatcher:
    """Reads the candidates of a batch once; ``match(event, place)`` then costs no query."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.buckets = defaultdict(list)  # (admin1 id, day) -> [Candidate]

    def load(self, events_with_places):
        """Candidates for a batch: incidents in the batch's governorates and days that do not
        already carry an event of this dataset (a dataset's events are distinct events)."""
        self.buckets.clear()
        spans = [(date_span(e.start_date, e.end_date, e.date_precision), p) for e, p in events_with_places]
        admin1s = {place.admin1_id for _, place in spans if place.admin1_id}
        if not admin1s:
            return
        first = min(span[0] for span, _ in spans) - datetime.timedelta(days=LOOK_BACK_DAYS)
        last = max(span[1] for span, _ in spans)
        has_this_dataset = TollReport.objects.filter(incident=OuterRef("pk"), dataset=self.dataset)
        rows = (
            Incident.objects.filter(location__admin1_id__in=admin1s, start_date__range=(first, last))
            .exclude(Exists(has_this_dataset))
            .order_by()
            .values_list(
                "pk", "title", "kind", "start_date", "end_date", "date_precision", "location_id",
                "location__admin1_id", "location__admin2_id", "latitude", "longitude", "location__latitude",
                "location__longitude",
            )
        )  # fmt: skip
        for pk, title, kind, start, end, precision, location_id, a1, a2, lat, lon, plat, plon in rows:
            first_day, last_day = date_span(start, end, precision)
            if lat is None:
                lat, lon = plat, plon
            candidate = Candidate(pk, title, kind, first_day, last_day, location_id, a1, a2, lat, lon)
            for offset in range((last_day - first_day).days + 1):
                self.buckets[(a1, first_day + datetime.timedelta(days=offset))].append(candidate)

    def match(self, event, place, event_kinds):
        """A ``Match`` for an event placed at ``place`` (a ``places.Place``)."""
        if not place.admin1_id:
            return Match()
        first, last = date_span(event.start_date, event.end_date, event.date_precision)
        seen = {}
        for offset in range((last - first).days + 1):
            for candidate in self.buckets.get((place.admin1_id, first + datetime.timedelta(days=offset)), ()):
                seen[candidate.pk] = candidate
        confident, weak = [], []
        latitude = event.latitude if event.latitude is not None else place.latitude
        longitude = event.longitude if event.longitude is not None else place.longitude
        precise_event = (
            last - first
        ).days < CONFIDENT_SPAN_DAYS and event.location_precision not in COARSE_PRECISIONS
        for candidate in seen.values():
            if not kinds_compatible(event_kinds, candidate.kind):
                continue
            km = None
            if latitude is not None and candidate.latitude is not None:
                km = distance_km(latitude, longitude, candidate.latitude, candidate.longitude)
            same_district = bool(place.admin2_id) and place.admin2_id == candidate.admin2_id
            near = km is not None and km <= SAME_EVENT_KM
            precise = precise_event and (candidate.last - candidate.first).days < CONFIDENT_SPAN_DAYS
            if precise and (near or (same_district and km is None) or candidate.location_id == place.pk):
                confident.append(candidate)
            elif km is None or near:
                where = "same district" if same_district else "same governorate"
                weak.append((candidate, f"{where}, dates overlap ({candidate.first:%-d %b %Y})"))
        if len(confident) == 1:
            return Match(incident_id=confident[0].pk)
        possible = [(c.pk, "same place and day, but more than one incident fits") for c in confident]
        # The likeliest first: the same place, the same kind, the closest start.
        weak.sort(
            key=lambda pair: (
                pair[0].location_id != place.pk,
                pair[0].kind != event.kind,
                abs((pair[0].first - first).days),
                pair[0].pk,
            )
        )
        possible += [(c.pk, reason) for c, reason in weak]
        return Match(possible=possible[:MAX_CANDIDATES]) if possible else Match()
