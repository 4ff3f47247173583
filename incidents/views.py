"""Public pages: published incidents only, server-rendered, no JavaScript needed.

Each page costs a fixed number of queries whatever the amount of data (guarded in tests).
"""

import datetime
import logging
from collections import defaultdict

from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Count, F, Prefetch, Q
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from incidents import charts, figures, workflow
from incidents.figures import Figure
from incidents.filters import filter_incidents
from incidents.models import Incident, Location, Source, TollReport

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


def visible_incidents(request):
    """Published incidents; logged-in staff also see drafts on detail pages."""
    incidents = Incident.objects.select_related("location")
    if request.user.is_staff:
        return incidents
    return incidents.published()


def paginate(request, queryset, per_page=PAGE_SIZE, count=None):
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count  # the caller has counted the rows already: spares a query
    return paginator.get_page(request.GET.get("page"))


CHART_MONTHS = 24


@require_safe
def home(request):
    published = Incident.objects.published()
    latest_day = published.order_by("-start_date").values_list("start_date", flat=True).first()
    months, latest_month = [], None
    if latest_day:
        # Only the months the chart shows are grouped.
        since = (latest_day.replace(day=1) - datetime.timedelta(days=31 * (CHART_MONTHS - 1))).replace(day=1)
        months = published.filter(start_date__gte=since).monthly_totals()
        month_start = months[-1][0]
        # A date range, not year and month lookups, so that the index on dates is used.
        in_month = published.filter(start_date__gte=month_start, start_date__lte=latest_day)
        latest_month = (month_start, in_month.totals())
    context = {
        "latest": published.select_related("location").order_by("-start_date", "-pk")[:8],
        "most_disputed": published.disputed()
        .select_related("location")
        .order_by("-killed_spread", "-start_date")[:5],
        "all_time": published.totals(sources=published.published_sources()),
        "latest_month": latest_month,
        "month_chart": charts.monthly_chart(months),
    }
    return render(request, "incidents/home.html", context)


@require_safe
def incident_list(request):
    filterset, incidents = filter_incidents(request, Incident.objects.published().select_related("location"))
    page = paginate(request, incidents)
    context = {
        "filterset": filterset,
        "page": page,
        "can_export": request.user.has_perm("incidents.export_data"),
    }
    return render(request, "incidents/incident_list.html", context)


@require_safe
def incident_detail(request, slug):
    incident = get_object_or_404(
        visible_incidents(request).prefetch_related(
            "perpetrators",
            "claimed_by",
            Prefetch("related", queryset=visible_incidents(request).order_by("start_date")),
        ),
        slug=slug,
    )
    reports = list(incident.reports.select_related("source").order_by("published_on", "pk"))
    current = [r for r in reports if r.is_current]
    current.sort(key=lambda r: (-(r.killed_figure.high if r.killed_figure.is_known else -1), r.source.label))
    by_source = defaultdict(list)
    for report in reports:
        by_source[report.source].append(report)
    revisions = [
        figures.revision_sentence(source.label, [(r.published_on, r.killed_figure) for r in source_reports])
        for source, source_reports in by_source.items()
        if len(source_reports) > 1
    ]
    corrections = workflow.corrections(incident)
    last_updated = max(
        [
            timezone.localtime(incident.updated_at).date(),
            *(timezone.localtime(r.updated_at).date() for r in reports),
            *(c.day for c in corrections),
        ]
    )
    context = {
        "incident": incident,
        "current": current,
        "sentence": figures.range_sentence(r.killed_figure for r in current),
        "chart": charts.source_chart((r.source.label, r.killed_figure) for r in current),
        "revisions": revisions,
        "place_chain": incident.location.chain_places(),
        "last_updated": last_updated,
        "corrections": corrections,
    }
    return render(request, "incidents/incident_detail.html", context)


@require_safe
def location_detail(request, slug):
    location = get_object_or_404(Location, slug=slug)
    incidents = Incident.objects.published().beneath(location)
    children = list(location.children.order_by("name"))
    total = incidents.totals()
    listed = incidents.select_related("location").order_by("-start_date", "-pk")
    context = {
        "location": location,
        "place_chain": location.chain_places(),
        "children": incident_counts_beneath(incidents, children),
        "total": total,
        "page": paginate(request, listed, count=total.incidents),
    }
    return render(request, "incidents/location_detail.html", context)


def incident_counts_beneath(incidents, places):
    """[(place, number of ``incidents`` in it or beneath it)], in one query."""
    if not places:
        return []
    counts = incidents.order_by().aggregate(
        **{f"place_{p.pk}": Count("pk", filter=p.beneath_q()) for p in places}
    )
    return [(p, counts[f"place_{p.pk}"]) for p in places]


@require_safe
def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    reports = (
        TollReport.objects.filter(source=source, incident__status=Incident.Status.PUBLISHED)
        .select_related("incident", "incident__location")
        .order_by("-published_on", "-pk")
    )
    comparison = compare_with_other_sources(source)
    listed = request.GET.get("compare")
    context = {
        "source": source,
        "page": paginate(request, reports, per_page=50),
        "comparison": comparison,
        "listed": listed if listed in comparison else None,
        "examples": compared_incidents(source, listed) if listed in comparison else [],
    }
    return render(request, "incidents/source_detail.html", context)


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
        (pair.incident, Figure(pair.mine_qualifier, pair.mine_low, pair.mine_upper), pair) for pair in pairs
    ]


ROBOTS_TXT = """User-agent: *
Disallow: /admin/
Disallow: /export/
"""


@require_safe
def robots_txt(request):
    return HttpResponse(ROBOTS_TXT, content_type="text/plain")


@require_safe
def methodology(request):
    return render(request, "incidents/methodology.html")


@never_cache
@require_safe
def healthz(request):
    """`ok` when the database answers; a bare 503 otherwise (details go to the log only)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database did not answer")
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
