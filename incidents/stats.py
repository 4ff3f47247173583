"""Read-only aggregates: totals over incidents, months, places, and how sources compare.

Everything here reads the stored figures that ``incidents.tolls`` writes; nothing here writes.
Each function says how many queries it costs, so that pages keep a fixed number of queries.
"""

import logging
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import ngettext, pgettext

from incidents import dataversion, figures
from incidents.models import Incident, MonthTotal, PlaceTotal, Source, SourceTotal, TollReport, Victim
from incidents.models.reports import stated_ends_sql
from incidents.models.totals import PLACE_SUMS, SOURCE_SUMS

# The stored figures that totals add up; incident_date_figures_idx holds them too.
TOTALLED_FIELDS = Incident.TOTALLED_FIELDS


logger = logging.getLogger(__name__)

ALONE = Q(in_part_tree=False)  # neither a whole nor a part: added up in SQL as it is


def _sums_for_total():
    """The aggregates behind a ``figures.Total``.

    They name only columns of ``incident_date_figures_idx`` (COUNT(*), not COUNT(id)),
    so that the totals over every published incident are read from that index alone. The
    ranges of incidents in a part tree are left out: ``_part_trees`` adds them, never twice.
    """
    return {
        "incidents": Count("*"),
        "incidents_with_figures": Count("killed_lowest"),
        "disputed_incidents": Count("is_disputed", filter=Q(is_disputed=True)),
        "lowest": Coalesce(Sum("killed_lowest", filter=ALONE), 0),
        "highest": Coalesce(Sum("killed_highest", filter=ALONE), 0),
        "open_incidents": Count("killed_highest_open", filter=ALONE & Q(killed_highest_open=True)),
    }


NOTHING = figures.Ends()


def _total(sums, sources=0, trees=NOTHING):
    """A ``figures.Total`` from ``_sums_for_total()`` plus what the part trees add (``Ends``)."""
    sums = dict(sums)
    highest_open = sums.pop("open_incidents") > 0 or trees.highest_open
    if trees.is_known:
        sums["lowest"] += trees.lowest
        sums["highest"] += trees.highest
    return figures.Total(**sums, highest_open=highest_open, sources=sources)


def part_tree_parents(members=None):
    """{incident id: the id of its whole}: for every part (one query), or, given ``members``
    (``figures.IncidentToll``), for the wholes above them that are not members themselves, which
    is all that the climb from a part to its nearest whole in the set needs (a query per level
    of wholes outside the set: none when each member's whole is a member too)."""
    if members is None:
        return dict(Incident.objects.filter(part_of__isnull=False).order_by().values_list("pk", "part_of"))
    known = {member.pk for member in members}
    parents = {}
    wanted = {member.part_of_id for member in members} - known - {None}
    while wanted:
        found = dict(Incident.objects.filter(pk__in=wanted).order_by().values_list("pk", "part_of"))
        parents.update(found)
        wanted = set(found.values()) - known - parents.keys() - {None}
    return parents


def tree_members(incidents, *extra):
    """The incidents of ``incidents`` in a part tree, as ``figures.IncidentToll`` whose ``toll`` is
    its stored ``figures.Ends`` (with ``extra`` values, e.g. a group key, alongside). One query."""
    fields = ["pk", "part_of", "killed_lowest", "killed_highest", "killed_highest_open"]
    for pk, part_of, lowest, highest, is_open, *rest in (
        incidents.filter(in_part_tree=True).order_by().values_list(*fields, *extra)
    ):
        yield figures.IncidentToll(pk, part_of, figures.Ends(lowest, highest, is_open)), rest


def tree_ends(members, parents):
    """What a set's part-tree incidents add, never counting a part within its whole (``Ends``).
    (How many incidents, with figures, disputed: the SQL sums count every incident already.)"""
    if not members:
        return figures.Ends()
    try:
        counted = figures.contributions(members, parents=parents).values()
    except ValueError:
        # A part cycle (refused on every write path; this guards old or hand-made data): count
        # each incident alone rather than fail every page that shows a total.
        logger.exception("Part cycle among incidents %s", sorted(m.pk for m in members))
        counted = [member.toll for member in members]
    return sum(counted, figures.Ends())


class PartTrees:
    """The incidents of a set that are wholes or parts, read once (a query, and one per level of
    wholes outside the set above them) and reused for every total over that set or a date range
    within it."""

    def __init__(self, incidents):
        self.members = list(tree_members(incidents, "start_date"))
        self.parents = part_tree_parents([member for member, _ in self.members])

    def ends(self, since=None, until=None):
        """What they add to a total of the incidents from ``since`` to ``until`` (dates, inclusive)."""
        chosen = [
            member
            for member, (day,) in self.members
            if (since is None or day >= since) and (until is None or day <= until)
        ]
        return tree_ends(chosen, self.parents)

    def by_month(self, since=None):
        """{first day of month: what they add to that month's total}, from ``since`` on."""
        months = {}
        for member, (day,) in self.members:
            if since is None or day >= since:
                months.setdefault(day.replace(day=1), []).append(member)
        return {month: tree_ends(members, self.parents) for month, members in months.items()}


def totals(incidents, sources=None, trees=None, since=None, until=None):
    """The range over ``incidents`` as a ``figures.Total`` (DESIGN.md: parts are counted within
    their whole, never twice). Four queries (three when the caller knows how many sources
    reported on them, one fewer again when it passes the set's ``PartTrees`` and the dates
    that narrowed ``incidents`` from it)."""
    sums = incidents.order_by().aggregate(**_sums_for_total())
    trees = trees.ends(since, until) if trees is not None else PartTrees(incidents).ends()
    if sources is None:
        sources = count_sources_reporting_on(incidents)
    return _total(sums, sources=sources, trees=trees)


def _month_total(row, prefix="", sources=0):
    """A ``figures.Total`` from a ``MonthTotal``'s values: the month's own (``prefix=""``) or
    what it adds to all time (``"all_"``)."""
    return figures.Total(
        lowest=row[f"{prefix}lowest"] or 0,
        highest=row[f"{prefix}highest"] or 0,
        highest_open=(row[f"{prefix}open_incidents"] or 0) > 0,
        incidents=row["incidents"] or 0,
        incidents_with_figures=row["incidents_with_figures"] or 0,
        disputed_incidents=row["disputed_incidents"] or 0,
        sources=sources,
    )


def published_total(sources=0):
    """The total over every published incident (``totals(Incident.objects.published())``), read
    from the month totals that ``incidents.tolls`` keeps: one query over a few hundred rows."""
    sums = MonthTotal.objects.aggregate(
        **{name: Sum(name) for name in ("incidents", "incidents_with_figures", "disputed_incidents")},
        **{name: Sum(f"all_{name}") for name in ("lowest", "highest", "open_incidents")},
    )
    return _month_total(sums, sources=sources)


def published_months(since=None):
    """[(first day of month, Total)] for each month with published incidents from ``since`` on,
    oldest first (``monthly_totals`` of the published incidents), from the month totals. One query."""
    rows = MonthTotal.objects.filter(incidents__gt=0)
    if since is not None:
        rows = rows.filter(month__gte=since)
    return [(row["month"], _month_total(row)) for row in rows.order_by("month").values()]


def latest_published_month():
    """The first day of the latest month with a published incident, or None. One query."""
    return (
        MonthTotal.objects.filter(incidents__gt=0).order_by("-month").values_list("month", flat=True).first()
    )


# How many sources report on a place's published incidents, or on any published incident. A
# source has a current report on an incident exactly when it has a report on it (incidents.tolls
# marks one current report per source and population), so these counts change only with what the
# names version counts (a report's incident and source, an incident's status and place, the tree
# of places): they are kept under it (``dataversion.KeptUnderNames``). A governorate's took a
# probe per source, 7 ms at 100,000 incidents, after every revision of a figure.
SOURCES_COUNTED = dataversion.KeptUnderNames(size=256)


def count_sources_reporting_on(incidents):
    """How many sources have a current report on ``incidents`` (a month, a place). One query.

    Asked source by source (``count_sources_reporting``): a DISTINCT over the reports of a
    governorate's thousands of incidents took four times as long at 100,000 incidents."""
    return count_sources_reporting(
        TollReport.objects.filter(is_current=True, incident__in=incidents.order_by().values("pk"))
    )


def count_sources_reporting(reports):
    """How many sources have a report among ``reports``. One query.

    Asked source by source with LIMIT 1, so that each of a few dozen sources costs an index
    probe that stops at its first match, instead of a DISTINCT over every report.
    """
    first = reports.filter(source=OuterRef("pk")).order_by().values("pk")[:1]
    return Source.objects.annotate(first_report=Subquery(first)).filter(first_report__isnull=False).count()


def published_sources():
    """How many sources have a current figure on a published incident (one query, none when kept:
    ``SOURCES_COUNTED``)."""
    return SOURCES_COUNTED.get(
        ("published",),
        lambda: count_sources_reporting(
            TollReport.objects.filter(is_current=True, incident__status=Incident.Status.PUBLISHED)
        ),
    )


def monthly_totals(incidents, trees=None, since=None):
    """(first day of month, Total) for each month with incidents, oldest first. Three queries
    (one when the caller passes the ``PartTrees`` of a larger set and ``since``, the first day
    that narrowed ``incidents`` from it).

    Grouped by day in SQL and by month here: the day is an indexed column on every
    database (SQLite would call a Python function per row to truncate dates to months),
    and a few thousand days add up in a few milliseconds. ``sources`` is not counted per
    month: it would cost a query per month.
    """
    days = incidents.order_by().values("start_date").annotate(**_sums_for_total()).order_by("start_date")
    months = {}
    for day in days:
        month = day.pop("start_date").replace(day=1)
        sums = months.setdefault(month, dict.fromkeys(day, 0))
        for name, value in day.items():
            sums[name] += value
    added = (trees or PartTrees(incidents)).by_month(since)
    return [(month, _total(sums, trees=added.get(month, NOTHING))) for month, sums in months.items()]


def place_total(location, sources=None):
    """``totals(Incident.objects.published().beneath(location))``, read from the place totals
    that ``incidents.tolls`` keeps (one row per place beneath ``location``: a few hundred for a
    governorate, whatever the number of incidents) plus the part trees among its incidents.
    Three queries (two when the caller knows how many sources reported on them), and one per
    level of wholes outside the place above its parts."""
    sums = PlaceTotal.objects.filter(location.beneath_q()).aggregate(
        **{name: Coalesce(Sum(name), 0) for name in PLACE_SUMS}
    )
    incidents = Incident.objects.published().beneath(location)
    if sources is None:
        sources = SOURCES_COUNTED.get(("place", location.pk), lambda: count_sources_reporting_on(incidents))
    return _total(sums, sources=sources, trees=PartTrees(incidents).ends())


def place_incident_count(location):
    """How many published incidents lie in ``location`` or beneath it, from the place totals. One query."""
    return place_counts_beneath(location, [location])[0][1]


def placed_count(location=None):
    """``Incident.objects.published().count_placed()`` (in or beneath ``location``), from the
    place totals: the incidents of places with coordinates, and those with a point of their own at
    a place without (a partial index holds the few incidents with their own point). Two queries,
    however many incidents."""
    places_with_point = Q(location__latitude__isnull=False, location__longitude__isnull=False)
    totals = PlaceTotal.objects.all() if location is None else PlaceTotal.objects.filter(location.beneath_q())
    sums = totals.aggregate(
        total=Coalesce(Sum("incidents"), 0),
        placed=Coalesce(Sum("incidents", filter=places_with_point), 0),
    )
    own_points = Incident.objects.published().filter(latitude__isnull=False).exclude(places_with_point)
    if location is not None:
        own_points = own_points.filter(location.beneath_q())
    return {"total": sums["total"], "placed": sums["placed"] + own_points.count()}


def place_counts_beneath(location, places):
    """[(place, number of published incidents in it or beneath it)] for ``places`` beneath
    ``location`` (its sub-places), from the place totals. One query."""
    if not places:
        return []
    counts = PlaceTotal.objects.filter(location.beneath_q()).aggregate(
        **{f"place_{p.pk}": Coalesce(Sum("incidents", filter=p.beneath_q()), 0) for p in places}
    )
    return [(p, counts[f"place_{p.pk}"]) for p in places]


# --- How a source's figures compare with other sources' ------------------------------------------


def compared_pairs(source):
    """Other sources' current figures on incidents where ``source`` also has one, each annotated
    with this source's figure (one join, shared by the filter and the annotations)."""
    return (
        TollReport.objects.filter(
            is_current=True,
            killed_counts=figures.ALL,
            incident__status=Incident.Status.PUBLISHED,
            killed_qualifier__in=figures.COMPARABLE_QUALIFIERS,
        )
        .exclude(source=source)
        .filter(
            incident__reports__source=source,
            incident__reports__is_current=True,
            incident__reports__killed_counts=figures.ALL,
            incident__reports__killed_qualifier__in=figures.COMPARABLE_QUALIFIERS,
        )
        .annotate(
            mine_qualifier=F("incident__reports__killed_qualifier"),
            mine_value=F("incident__reports__killed"),
            mine_upper=F("incident__reports__killed_upper"),
        )
        .annotate(**_intervals("mine", "incident__reports__"), **_intervals("theirs", ""))
    )


def _intervals(name, prefix):
    low, high, _ = stated_ends_sql(prefix)
    return {f"{name}_low": low, f"{name}_high": high}


def verdict_rules():
    """Compares the numbers each source stated (``Figure.stated_low``/``stated_high``): higher
    when this source's lowest is above the other's highest ("at least 89" is lower than "more
    than 120"), "the same or overlapping" when their stated ranges touch."""
    higher = Q(mine_low__gt=F("theirs_high"))
    lower = Q(mine_high__lt=F("theirs_low"))
    return {"higher": higher, "lower": lower, "same": ~higher & ~lower}


def source_totals(source):
    """{"reports": how many reports ``source`` published on published incidents, "higher",
    "lower", "same": how often its current figure was higher, lower or the same as another
    source's on the same incident}, from the source totals ``incidents.tolls`` keeps. One query
    of one row, however many reports."""
    row = SourceTotal.objects.filter(source=source).values(*SOURCE_SUMS).first()
    return row or dict.fromkeys(SOURCE_SUMS, 0)


def compare_with_other_sources_afresh(source):
    """How often this source's current figure was higher, lower or the same as others', counted
    from the reports themselves (what the kept ``source_totals`` must equal). One query over
    every pair of the source's current figures."""
    return compared_pairs(source).aggregate(
        **{name: Count("pk", filter=rule) for name, rule in verdict_rules().items()}
    )


def compared_incidents(source, verdict, limit=100):
    """The most recent incidents behind one verdict: (incident, this source's figure, other report)."""
    pairs = (
        compared_pairs(source)
        .filter(verdict_rules()[verdict])
        .select_related("incident", "source")
        .order_by("-incident__start_date", "pk")[:limit]
    )
    return [
        (pair.incident, figures.Figure(pair.mine_qualifier, pair.mine_value, pair.mine_upper), pair)
        for pair in pairs
    ]


# --- People identified ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VictimCounts:
    """How many people are identified among some incidents, by sex, age group and status (each a
    {stored value: count} with every value of DESIGN.md, zeros included). Counts only, never names:
    the public pages and the API may show them whatever names are hidden."""

    total: int
    by_sex: dict
    by_age_group: dict
    by_status: dict

    def sentence(self):
        """ "3 people identified: 2 female, 1 male; 1 child, 2 adults; 3 civilians." (plain text,
        in the page's language: each count with its own plural form)"""
        if not self.total:
            return ""
        words = {
            "by_sex": {
                "female": lambda n: ngettext("%(count)s female", "%(count)s female", n),
                "male": lambda n: ngettext("%(count)s male", "%(count)s male", n),
                "unknown": lambda n: ngettext("%(count)s of unknown sex", "%(count)s of unknown sex", n),
            },
            "by_age_group": {
                "child": lambda n: ngettext("%(count)s child", "%(count)s children", n),
                "adult": lambda n: ngettext("%(count)s adult", "%(count)s adults", n),
                "elderly": lambda n: ngettext("%(count)s elderly", "%(count)s elderly", n),
                "unknown": lambda n: ngettext("%(count)s of unknown age", "%(count)s of unknown age", n),
            },
            "by_status": {
                "civilian": lambda n: ngettext("%(count)s civilian", "%(count)s civilians", n),
                "combatant": lambda n: ngettext("%(count)s combatant", "%(count)s combatants", n),
                "unknown": lambda n: ngettext(
                    "%(count)s of unknown status", "%(count)s of unknown status", n
                ),
            },
        }
        comma = pgettext("between items of a list", ", ")
        groups = [
            comma.join(words[name][value](n) % {"count": n} for value, n in getattr(self, name).items() if n)
            for name in ("by_sex", "by_age_group", "by_status")
        ]
        return ngettext(
            "%(count)s person identified: %(details)s.",
            "%(count)s people identified: %(details)s.",
            self.total,
        ) % {"count": self.total, "details": pgettext("between groups of a list", "; ").join(groups)}

    def as_dict(self):
        return {
            "total": self.total,
            # Copies: ``NOBODY`` is one instance for every incident without people.
            "by_sex": dict(self.by_sex),
            "by_age_group": dict(self.by_age_group),
            "by_status": dict(self.by_status),
        }


VICTIM_GROUPINGS = {
    "by_sex": ("sex", Victim.Sex.values),
    "by_age_group": ("age_group", Victim.AgeGroup.values),
    "by_status": ("status", Victim.Status.values),
}


def _victim_aggregates():
    aggregates = {"total": Count("*")}
    for grouping, (field, values) in VICTIM_GROUPINGS.items():
        for value in values:
            aggregates[f"{grouping}__{value}"] = Count("pk", filter=Q(**{field: value}))
    return aggregates


# Built once: each query resolves its own copy of these (a place page, an API list and record
# each ask). Building the fifteen counts took about a millisecond every time.
VICTIM_AGGREGATES = _victim_aggregates()


def _victim_counts(sums):
    return VictimCounts(
        total=sums["total"],
        **{
            grouping: {value: sums[f"{grouping}__{value}"] for value in values}
            for grouping, (_, values) in VICTIM_GROUPINGS.items()
        },
    )


NOBODY = _victim_counts(dict.fromkeys(VICTIM_AGGREGATES, 0))


def victim_counts(incidents):
    """The ``VictimCounts`` of the people recorded in ``incidents`` (a QuerySet). One query.

    A person is recorded once, on the incident (or part) where they were killed, so nothing is
    counted twice when a set holds a whole and its parts.
    """
    victims = Victim.objects.filter(incident__in=incidents.order_by().values("pk"))
    return _victim_counts(victims.aggregate(**VICTIM_AGGREGATES))


def victim_counts_by_incident(incident_ids):
    """{incident id: ``VictimCounts``} for each of ``incident_ids`` (zeros where nobody is
    recorded). One query, whatever the number of incidents."""
    rows = (
        Victim.objects.filter(incident__in=incident_ids)
        .order_by()
        .values("incident")
        .annotate(**VICTIM_AGGREGATES)
    )
    counted = {row["incident"]: _victim_counts(row) for row in rows}
    return {pk: counted.get(pk, NOBODY) for pk in incident_ids}


def data_last_changed():
    """When the public data last changed (any write the data version counts), or None. One query."""
    return dataversion.current().changed_at
