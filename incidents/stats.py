"""Read-only aggregates: totals over incidents, months, places, and how sources compare.

Everything here reads the stored figures that ``incidents.tolls`` writes; nothing here writes.
Each function says how many queries it costs, so that pages keep a fixed number of queries.
"""

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from incidents import figures
from incidents.models import Incident, Source, TollReport

# The stored figures that totals add up; incident_date_figures_idx holds them too.
TOTALLED_FIELDS = Incident.TOTALLED_FIELDS


def _sums_for_total():
    """The aggregates behind a ``figures.Total``.

    They name only columns of ``incident_date_figures_idx`` (COUNT(*), not COUNT(id)),
    so that the totals over every published incident are read from that index alone.
    """
    return {
        "incidents": Count("*"),
        "incidents_with_figures": Count("killed_lowest"),
        "disputed_incidents": Count("is_disputed", filter=Q(is_disputed=True)),
        "lowest": Coalesce(Sum("killed_lowest"), 0),
        "highest": Coalesce(Sum("killed_highest"), 0),
        "open_incidents": Count("killed_highest_open", filter=Q(killed_highest_open=True)),
    }


def _total(sums, sources=0):
    sums = dict(sums)
    open_incidents = sums.pop("open_incidents")
    return figures.Total(**sums, highest_open=open_incidents > 0, sources=sources)


def totals(incidents, sources=None):
    """The range over ``incidents`` as a ``figures.Total``. Two queries (one when the caller
    already knows how many sources reported on them)."""
    sums = incidents.order_by().aggregate(**_sums_for_total())
    if sources is None:
        sources = (
            TollReport.objects.filter(is_current=True, incident__in=incidents.order_by().values("pk"))
            .values("source_id")
            .distinct()
            .count()
        )
    return _total(sums, sources=sources)


def count_sources_reporting(reports):
    """How many sources have a report among ``reports``. One query.

    Asked source by source with LIMIT 1, so that each of a few dozen sources costs an index
    probe that stops at its first match, instead of a DISTINCT over every report.
    """
    first = reports.filter(source=OuterRef("pk")).order_by().values("pk")[:1]
    return Source.objects.annotate(first_report=Subquery(first)).filter(first_report__isnull=False).count()


def published_sources():
    """How many sources have a current figure on a published incident (one query).

    For all published incidents a DISTINCT over every report is slow; ``totals()`` keeps
    it for smaller sets, where it is the faster of the two.
    """
    return count_sources_reporting(
        TollReport.objects.filter(is_current=True, incident__status=Incident.Status.PUBLISHED)
    )


def monthly_totals(incidents):
    """(first day of month, Total) for each month with incidents, oldest first. One query.

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
    return [(month, _total(sums)) for month, sums in months.items()]


def incident_counts_beneath(incidents, places):
    """[(place, number of ``incidents`` in it or beneath it)], in one query."""
    if not places:
        return []
    counts = incidents.order_by().aggregate(
        **{f"place_{p.pk}": Count("pk", filter=p.beneath_q()) for p in places}
    )
    return [(p, counts[f"place_{p.pk}"]) for p in places]


# --- How a source's figures compare with other sources' ------------------------------------------


def compared_pairs(source):
    """Other sources' current figures on incidents where ``source`` also has one, each annotated
    with this source's figure (one join, shared by the filter and the annotations)."""
    return (
        TollReport.objects.filter(
            is_current=True, killed__isnull=False, incident__status=Incident.Status.PUBLISHED
        )
        .exclude(source=source)
        .filter(
            incident__reports__source=source,
            incident__reports__is_current=True,
            incident__reports__killed__isnull=False,
        )
        .annotate(
            mine_qualifier=F("incident__reports__killed_qualifier"),
            mine_low=F("incident__reports__killed"),
            mine_upper=F("incident__reports__killed_upper"),
            mine_high=Coalesce("incident__reports__killed_upper", "incident__reports__killed"),
            theirs_high=Coalesce("killed_upper", "killed"),
        )
    )


def verdict_rules():
    """Two figures are "the same or overlapping" when their ranges touch."""
    higher = Q(mine_low__gt=F("theirs_high"))
    lower = Q(mine_high__lt=F("killed"))
    return {"higher": higher, "lower": lower, "same": ~higher & ~lower}


def compare_with_other_sources(source):
    """How often this source's current figure was higher, lower or the same as others'. One query."""
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
        (pair.incident, figures.Figure(pair.mine_qualifier, pair.mine_low, pair.mine_upper), pair)
        for pair in pairs
    ]
