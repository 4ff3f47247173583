"""Public pages: published incidents only, server-rendered, no JavaScript needed.

Each page costs a fixed number of queries whatever the amount of data (guarded in tests).
"""

import datetime
from collections import defaultdict
from dataclasses import replace

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import get_language_bidi, gettext
from django.views.decorators.http import require_safe

from incidents import blame, charts, citations, figures, maps, stats, workflow
from incidents.filters import filter_incidents, summarised_count, summarised_placed_count
from incidents.models import Actor, Attribution, Incident, Location, SlugRedirect, Source, TollReport
from incidents.models.places import load_chains_in_page_language
from incidents.roles import can_export, can_see_drafts
from incidents.templatetags.bilingual import text_in_page_language

PAGE_SIZE = 25


def visible_incidents(request):
    """Published incidents; those who edit incidents also see drafts on detail pages."""
    incidents = Incident.objects.select_related("location")
    if can_see_drafts(request.user):
        return incidents
    return incidents.published()


# A filtered list counts its incidents up to this many (and as far as the page asked for):
# "More than 10,000 incidents match". Counting every match of a common word among a million
# incidents would read most of them on each page view.
COUNT_LIMIT = 10_000
# A text search, up to this many: each match counted costs a LIKE over an incident's text, and a
# common word ("hospital") would read tens of thousands of them for the count alone.
SEARCH_COUNT_LIMIT = 1_000
# A page further on is counted as far as it, up to this page: beyond it, narrowing the filters is
# the way on (a new ?q=…&page=1000000 would otherwise count every match of a common word).
FURTHEST_PAGE_COUNTED = 1_000


class CountedUpTo(Paginator):
    """A paginator that counts at most ``limit`` rows (one ``COUNT`` over a ``LIMIT``), or as
    many as the pages up to the one asked for hold, and one more to know whether there are more.
    ``is_capped`` says that there are more than ``limit`` (then ``count`` is ``limit + 1``, which
    keeps a "next" page)."""

    def __init__(self, object_list, per_page, *, limit, asked=None):
        super().__init__(object_list, per_page)
        asked = int(asked) if str(asked).isdigit() else 1
        self.limit = max(limit, min(asked, FURTHEST_PAGE_COUNTED) * per_page)

    @cached_property
    def count(self):
        # Unordered: the order would make the database walk an index to count (SQLite read a
        # whole table through the date index for a rare word).
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def is_capped(self):
        return self.count > self.limit


def paginate(request, queryset, per_page=PAGE_SIZE, count=None, limit=None):
    """The page ``?page=`` asks for. ``count``: the rows, when the caller has counted them (spares
    a query); ``limit``: count at most this many (``CountedUpTo``)."""
    asked = request.GET.get("page")
    if count is None and limit is not None:
        paginator = CountedUpTo(queryset, per_page, limit=limit, asked=asked)
    else:
        paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count
    return paginator.get_page(asked)


def with_places_in_page_language(rows, place=lambda row: row.location):
    """``rows`` as a list, their places' names in the page's language read at once (one query on
    an Arabic page, none in English): lists say "إدلب، سوريا" without a query per row."""
    rows = list(rows)
    load_chains_in_page_language(place(row) for row in rows)
    return rows


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
    all_time = stats.published_total(sources=stats.published_sources())
    context = {
        "latest": with_places_in_page_language(
            published.select_related("location", "part_of").order_by("-start_date", "-pk")[:8]
        ),
        "most_disputed": with_places_in_page_language(
            published.disputed()
            .select_related("location", "part_of")
            .order_by("-killed_spread", "-start_date")[:5]
        ),
        "all_time": all_time,
        "latest_month": latest_month,
        # Every incident in one month: one box says so, rather than two identical ones.
        "one_period": latest_month is not None and latest_month[1] == all_time,
        "month_chart": charts.monthly_chart(months, rtl=get_language_bidi()),
    }
    return render(request, "incidents/home.html", context)


@require_safe
def incident_list(request):
    listed = Incident.objects.published().select_related("location", "part_of")
    filterset, incidents = filter_incidents(request, listed)
    # Said on the phone's collapsed "Filter" button, so that a filtered list says so.
    filters_set = sum(1 for name in filterset.form.changed_data if name != "sort")
    # Unfiltered or filtered by place alone, the number of incidents is the month or place
    # totals' (a few hundred rows); otherwise counted up to COUNT_LIMIT, not every match.
    count = summarised_count(filterset) if filterset.is_valid() else 0
    searched = filterset.is_valid() and filterset.form.cleaned_data.get("q")
    page = paginate(request, incidents, count=count, limit=SEARCH_COUNT_LIMIT if searched else COUNT_LIMIT)
    page.object_list = with_places_in_page_language(page.object_list)
    context = {
        "filterset": filterset,
        "filters_set": filters_set,
        "page": page,
        "can_export": can_export(request.user),
    }
    return render(request, "incidents/incident_list.html", context)


# The list beside the map: a page at a time, as on /incidents/, for those who do not use the map.
MAP_LIST_SIZE = 50


@require_safe
def incident_map(request):
    """Published incidents on a map, with the list's filters, and the same incidents listed.

    The markers come from /api/incidents.geojson with this page's filters (static/js/map.js
    follows its pages); the page itself reads only the list beside the map, a page at a time,
    and counts the incidents and those with a point (from the place totals when unfiltered or
    by place alone: stats.placed_count)."""
    listed = Incident.objects.published().select_related("location", "part_of")
    filterset, incidents = filter_incidents(request, listed)
    # Unfiltered or by place alone, from the place totals; otherwise counted (one query).
    counts = summarised_placed_count(filterset) if filterset.is_valid() else None
    if counts is None:
        counts = incidents.count_placed()
    filters = request.GET.copy()
    filters.pop("page", None)  # the list's page, not the GeoJSON's: the script walks every page
    page = paginate(request, incidents, per_page=MAP_LIST_SIZE, count=counts["total"])
    page.object_list = with_places_in_page_language(page.object_list)
    context = {
        "filterset": filterset,
        "filters_set": sum(1 for name in filterset.form.changed_data if name != "sort"),
        "page": page,
        "placed": counts["placed"],
        "geojson_url": reverse("api:geojson") + (f"?{filters.urlencode()}" if filters else ""),
    }
    return render(request, "incidents/incident_map.html", context)


@require_safe
def incident_detail(request, slug):
    visible = visible_incidents(request)
    incident = (
        visible.select_related("part_of", "location__country")
        .prefetch_related(
            "perpetrators",
            "claimed_by",
            Prefetch("related", queryset=visible.order_by("start_date")),
            Prefetch("parts", queryset=visible.order_by("start_date", "pk")),
        )
        .filter(slug=slug)
        .first()
    )
    if incident is None:
        # An incident merged into another: its old address leads to the one kept.
        moved = (
            SlugRedirect.objects.filter(old_slug=slug, incident__in=visible)
            .select_related("incident")
            .first()
        )
        if moved is None:
            raise Http404("No such incident.")
        return redirect(moved.incident, permanent=True)
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
            source_label(source, population), [(r.published_on, r.killed_figure) for r in source_reports]
        )
        for (source, population), source_reports in by_source.items()
        if len(source_reports) > 1
    ]
    corrections = workflow.corrections_on_its_page(incident)
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
    victims = list(incident.victims.order_by("pk"))
    context = {
        "point": maps.incident_point(incident),
        "victims": victims,
        "more_identified_than_highest": more_identified_than_highest(incident, len(victims)),
        "attributions": attributions,
        "current_stances": {a.pk for a in current_stances},
        "blame_sentence": blame.blame_sentence(current_stances),
        "incident": incident,
        "current": current,
        "sentence": sentences[0] if sentences else figures.range_sentence([]),
        "more_sentences": sentences[1:],
        "chart": charts.source_chart(
            ((source_label(r.source), r.killed_figure) for r in killed_current), rtl=get_language_bidi()
        ),
        "revisions": revisions,
        "place_chain": incident.location.chain_places(),
        "last_updated": last_updated,
        "corrections": corrections,
        "citation": citations.incident_citation(
            incident, absolute_url=request.build_absolute_uri, moment=citations.recorded_at(incident)
        ),
    }
    return render(request, "incidents/incident_detail.html", context)


def source_label(source, population=figures.ALL):
    """A source's label in the page's language, saying whom its figures count when not everyone:
    "SOHR (civilians only)"."""
    label = text_in_page_language(source, "label")
    if population == figures.CIVILIANS:
        return gettext("%(source)s (civilians only)") % {"source": label}
    if population == figures.COMBATANTS:
        return gettext("%(source)s (combatants only)") % {"source": label}
    return label


def more_identified_than_highest(incident, identified):
    """More people identified than the highest figure allows (not an open one, "120+"): a sign
    that the figures are out of date, said on the page rather than hidden."""
    highest = incident.killed_highest
    return highest is not None and not incident.killed_highest_open and identified > highest


@require_safe
def incident_version(request, slug, stamp):
    """A published incident as it was recorded at the moment ``stamp`` names (the version a
    citation names): its text, each source's figures and who blamed whom, from the history.

    Only a moment when the incident was published is shown: a draft's words never are."""
    incident = get_object_or_404(Incident.objects.published().select_related("location"), slug=slug)
    moment = citations.moment_of(stamp)
    if moment is None:
        raise Http404("Not a version: the address names no moment.")
    try:
        then = incident.history.as_of(moment)
    except Incident.DoesNotExist:
        raise Http404("The incident was not recorded yet at that moment.") from None
    if then.status != Incident.Status.PUBLISHED:
        raise Http404("The incident was not published at that moment.")
    reports = sorted(
        citations.records_as_of(TollReport, moment, incident_id=incident.pk), key=figures.report_order
    )
    attributions = citations.records_as_of(Attribution, moment, incident_id=incident.pk)
    sources = Source.objects.in_bulk({r.source_id for r in reports} | {a.source_id for a in attributions})
    actors = Actor.objects.in_bulk({a.actor_id for a in attributions})
    for report in reports:
        report.source = sources[report.source_id]
    for attribution in attributions:
        attribution.source, attribution.actor = sources[attribution.source_id], actors[attribution.actor_id]
    by_population = figures.current_figures(reports)
    sentences = population_sentences(by_population) or [figures.range_sentence([])]
    current = [sf.report for population in figures.POPULATIONS for sf in by_population[population]]
    context = {
        "incident": incident,
        "then": then,
        "moment": moment,
        "sentences": sentences,
        "current": current,
        "blame_sentence": blame.blame_sentence(list(blame.current_stances(attributions).values())),
        "place_chain": incident.location.chain_places(),
    }
    return render(request, "incidents/incident_version.html", context)


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
            gettext(
                "The civilian and combatant figures are more than the highest figure of everyone killed: "
                "the sources contradict each other."
            )
        )
    return sentences


@require_safe
def location_detail(request, slug):
    # The country row names the levels ("governorate") of this place and its sub-places.
    location = get_object_or_404(Location.objects.select_related("country"), slug=slug)
    incidents = Incident.objects.published().beneath(location)
    total = stats.place_total(location)
    victim_counts = stats.victim_counts(incidents)
    drafts_visible = can_see_drafts(request.user)
    # A place is public when a published incident lies in it or beneath it (the count is
    # the one the page shows anyway, so this costs no query).
    if not total.incidents and not drafts_visible:
        raise Http404("No published incident in this place.")
    children = stats.place_counts_beneath(
        location, list(location.children.select_related("country").order_by("name"))
    )
    listed = incidents.select_related("location", "part_of").order_by("-start_date", "-pk")
    page = paginate(request, listed, count=total.incidents)
    page.object_list = list(page.object_list)
    children = [(child, count) for child, count in children if count or drafts_visible]
    load_chains_in_page_language([location, *(child for child, _ in children), *(i.location for i in page)])
    context = {
        "location": location,
        "point": maps.place_point(location),
        "place_chain": location.chain_places(),
        "children": children,
        "total": total,
        "victim_counts": victim_counts,
        "page": page,
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
    # How many reports, and how its figures compare: the source totals (one row), not a count.
    totals = stats.source_totals(source)
    page = paginate(request, reports, per_page=50, count=totals["reports"])
    page.object_list = with_places_in_page_language(page.object_list, lambda report: report.incident.location)
    attributions = list(
        Attribution.objects.filter(source=source, incident__status=Incident.Status.PUBLISHED)
        .select_related("incident", "actor")
        .order_by("-published_on", "-pk")[:200]
    )
    # A source is public when it said something about a published incident: a figure (the page
    # counts them anyway) or who did it.
    if not (page.paginator.count or attributions or can_see_drafts(request.user)):
        raise Http404("No published figure or attribution from this source.")
    comparison = {name: totals[name] for name in ("higher", "lower", "same")}
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
    page.object_list = with_places_in_page_language(page.object_list, lambda a: a.incident.location)
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
