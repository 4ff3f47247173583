"""Public pages: published incidents only, server-rendered, no JavaScript needed.

Each page costs a fixed number of queries whatever the amount of data (guarded in tests).
"""

import datetime
from collections import defaultdict
from dataclasses import replace

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from incidents import blame, charts, figures, stats, workflow
from incidents.filters import filter_incidents
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport
from incidents.roles import can_export, can_see_drafts

PAGE_SIZE = 25


def visible_incidents(request):
    """Published incidents; those who edit incidents also see drafts on detail pages."""
    incidents = Incident.objects.select_related("location")
    if can_see_drafts(request.user):
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
    # The totals are read from the month totals kept by incidents.tolls: a few hundred rows
    # whatever the number of incidents.
    latest_month_start = stats.latest_published_month()
    months, latest_month = [], None
    if latest_month_start:
        # Only the months the chart shows are read.
        since = (latest_month_start - datetime.timedelta(days=31 * (CHART_MONTHS - 1))).replace(day=1)
        months = stats.published_months(since)
        month_start, month_total = months[-1]
        next_month = (month_start + datetime.timedelta(days=31)).replace(day=1)
        # A date range, not year and month lookups, so that the index on dates is used.
        in_month = published.filter(start_date__gte=month_start, start_date__lt=next_month)
        latest_month = (month_start, replace(month_total, sources=stats.count_sources_reporting_on(in_month)))
    context = {
        "latest": published.select_related("location", "part_of").order_by("-start_date", "-pk")[:8],
        "most_disputed": published.disputed()
        .select_related("location", "part_of")
        .order_by("-killed_spread", "-start_date")[:5],
        "all_time": stats.published_total(sources=stats.published_sources()),
        "latest_month": latest_month,
        "month_chart": charts.monthly_chart(months),
    }
    return render(request, "incidents/home.html", context)


@require_safe
def incident_list(request):
    listed = Incident.objects.published().select_related("location", "part_of")
    filterset, incidents = filter_incidents(request, listed)
    page = paginate(request, incidents)
    context = {
        "filterset": filterset,
        "page": page,
        "can_export": can_export(request.user),
    }
    return render(request, "incidents/incident_list.html", context)


@require_safe
def incident_detail(request, slug):
    visible = visible_incidents(request)
    incident = get_object_or_404(
        visible.select_related("part_of").prefetch_related(
            "perpetrators",
            "claimed_by",
            Prefetch("related", queryset=visible.order_by("start_date")),
            Prefetch("parts", queryset=visible.order_by("start_date", "pk")),
        ),
        slug=slug,
    )
    if incident.part_of and not (incident.part_of.is_published or can_see_drafts(request.user)):
        incident.part_of = None  # a draft whole is not shown to readers
    reports = list(incident.reports.select_related("source").order_by("published_on", "pk"))
    by_population = figures.current_figures(reports)
    sentences = population_sentences(by_population)
    current = [r for r in reports if r.is_current]
    current.sort(
        key=lambda r: (r.killed_counts != figures.ALL, -(r.killed_figure.high or -1), r.source.label)
    )
    by_source = defaultdict(list)
    for report in reports:
        by_source[(report.source, report.killed_counts)].append(report)
    revisions = [
        figures.revision_sentence(
            source.label if population == figures.ALL else f"{source.label} ({population} only)",
            [(r.published_on, r.killed_figure) for r in source_reports],
        )
        for (source, population), source_reports in by_source.items()
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
    killed_current = [r for r in current if r.killed_counts == figures.ALL]
    attributions = list(
        incident.attributions.select_related("actor", "source").order_by("published_on", "pk")
    )
    current_stances = list(blame.current_stances(attributions).values())
    context = {
        "attributions": attributions,
        "current_stances": {a.pk for a in current_stances},
        "blame_sentence": blame.blame_sentence(current_stances),
        "incident": incident,
        "current": current,
        "sentence": sentences[0] if sentences else figures.range_sentence([]),
        "more_sentences": sentences[1:],
        "chart": charts.source_chart((r.source.label, r.killed_figure) for r in killed_current),
        "revisions": revisions,
        "place_chain": incident.location.chain_places(),
        "last_updated": last_updated,
        "corrections": corrections,
    }
    return render(request, "incidents/incident_detail.html", context)


def population_sentences(by_population):
    """The range in words for each population with figures, all deaths first (DESIGN.md)."""
    incident_figures = figures.incident_figures(by_population)
    sentences = []
    killed = by_population[figures.ALL]
    if killed:
        sentences.append(figures.range_sentence([sf.figure for sf in killed]))
    elif incident_figures.killed.is_floor:
        sentences.append(figures.floor_sentence(incident_figures.killed))
    for population in (figures.CIVILIANS, figures.COMBATANTS):
        if by_population[population]:
            sentences.append(
                figures.range_sentence([sf.figure for sf in by_population[population]], population=population)
            )
    if incident_figures.conflicts_across:
        sentences.append(
            "The civilian and combatant figures are more than the highest figure of everyone killed: "
            "the sources contradict each other."
        )
    return sentences


@require_safe
def location_detail(request, slug):
    location = get_object_or_404(Location, slug=slug)
    incidents = Incident.objects.published().beneath(location)
    total = stats.totals(incidents)
    drafts_visible = can_see_drafts(request.user)
    # A place is public when a published incident lies in it or beneath it (the count is
    # the one the page shows anyway, so this costs no query).
    if not total.incidents and not drafts_visible:
        raise Http404("No published incident in this place.")
    children = stats.incident_counts_beneath(incidents, list(location.children.order_by("name")))
    listed = incidents.select_related("location", "part_of").order_by("-start_date", "-pk")
    context = {
        "location": location,
        "place_chain": location.chain_places(),
        "children": [(child, count) for child, count in children if count or drafts_visible],
        "total": total,
        "page": paginate(request, listed, count=total.incidents),
    }
    return render(request, "incidents/location_detail.html", context)


@require_safe
def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    reports = (
        TollReport.objects.filter(source=source, incident__status=Incident.Status.PUBLISHED)
        .select_related("incident", "incident__location")
        .order_by("-published_on", "-pk")
    )
    page = paginate(request, reports, per_page=50)
    attributions = list(
        Attribution.objects.filter(source=source, incident__status=Incident.Status.PUBLISHED)
        .select_related("incident", "actor")
        .order_by("-published_on", "-pk")[:200]
    )
    # A source is public when it said something about a published incident: a figure (the page
    # counts them anyway) or who did it.
    if not (page.paginator.count or attributions or can_see_drafts(request.user)):
        raise Http404("No published figure or attribution from this source.")
    comparison = stats.compare_with_other_sources(source)
    listed = request.GET.get("compare")
    context = {
        "source": source,
        "page": page,
        "attributions": attributions,
        "comparison": comparison,
        "listed": listed if listed in comparison else None,
        "examples": stats.compared_incidents(source, listed) if listed in comparison else [],
    }
    return render(request, "incidents/source_detail.html", context)


@require_safe
def actor_detail(request, slug):
    """Incidents attributed to an actor, by whom, and the totals where sources agree on it and
    where the attribution is disputed (no actor is silently charged with a disputed toll)."""
    actor = get_object_or_404(Actor, slug=slug)
    published = Incident.objects.published()
    alleged = published.filter(perpetrators=actor)
    attributions = (
        Attribution.objects.filter(actor=actor, incident__status=Incident.Status.PUBLISHED)
        .select_related("incident", "incident__location", "source")
        .order_by("-incident__start_date", "incident_id", "published_on", "pk")
    )
    page = paginate(request, attributions, per_page=50)
    if not page.paginator.count and not can_see_drafts(request.user):
        raise Http404("No published incident names this actor.")
    context = {
        "actor": actor,
        "page": page,
        "agreed": stats.totals(alleged.filter(attribution_disputed=False)),
        "disputed": stats.totals(alleged.filter(attribution_disputed=True)),
    }
    return render(request, "incidents/actor_detail.html", context)


@require_safe
def methodology(request):
    return render(request, "incidents/methodology.html")
