"""The API's endpoints: published data only, whoever asks (DESIGN.md, "Public API").

Incidents go through the list's FilterSet (``incidents.filters``), so that ``/api/incidents/``,
``/incidents/`` and the CSV exports list the same incidents in the same order for the same
query string. Answers are written from ``represent``'s plain data; ``serializers`` documents
their shape (tests check every answer against it). Every answer costs a fixed number of
queries whatever the amount of data (guarded in tests) and carries an ETag of its content: a
client that sends it back gets 304 while nothing changed (``urls.conditional``).
"""

import copy
import json

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator as DjangoPaginator
from django.db.models import Count, Max, OuterRef, Prefetch, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse as path_to
from django.utils.functional import cached_property
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils import encoders
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from incidents import citations, dataversion, figures, stats, workflow
from incidents.api import represent
from incidents.api.serializers import (
    ActorSerializer,
    IncidentDetailSerializer,
    IncidentSerializer,
    LocationSerializer,
    ReportSerializer,
    SourceSerializer,
)
from incidents.filters import IncidentFilter, summarised_count
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport, Victim
from incidents.remembered import Remembered

GEOJSON_PAGE_SIZE = 1000


def exception_handler(error, context):
    """DRF's answers, with a 429 that says how many requests are allowed and when to come back."""
    response = drf_exception_handler(error, context)
    if isinstance(error, exceptions.Throttled) and response is not None:
        rate = context["view"].get_throttles()[0].rate if context.get("view") else ""
        wait = int(error.wait or 0) if error.wait is not None else None
        response.data = {
            "detail": (
                f"Too many requests: anonymous clients may make {rate} per address. "
                + (f"Try again in {wait} seconds." if wait is not None else "Try again later.")
            ),
            "retry_after": wait,
        }
    return response


class Pages(PageNumberPagination):
    """Page numbers: ``page`` (from 1) and ``page_size`` (at most 500). ``next`` is the address
    of the next page, null on the last: follow it to walk every incident."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    counting_paginator = DjangoPaginator

    def paginate_queryset(self, queryset, request, view=None):
        # The number of incidents when the view knows it already (``summarised_count``).
        self.known_count = getattr(view, "known_count", None)
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, queryset, page_size):
        paginator = self.counting_paginator(queryset, page_size)
        if self.known_count is not None:
            paginator.count = self.known_count
        return paginator

    def get_paginated_response_schema(self, schema):
        """DRF's, with the links' null written as OpenAPI 3.1 says it."""
        described = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):
            field = described["properties"][link]
            field.pop("nullable", None)
            field["type"] = ["string", "null"]
        return described


class PublicAPIView(GenericAPIView):
    """Anonymous and read-only: every visitor is a reader, even one logged in as an editor, so
    that no draft ever shows here."""

    pagination_class = Pages
    http_method_names = ["get", "head", "options"]

    def reader_request(self):
        """The request as an anonymous reader's, for the FilterSet (whose menus hide draft-only
        names from readers)."""
        request = copy.copy(self.request._request)
        request.user = AnonymousUser()
        return request

    def absolute_url(self, path):
        return self.request.build_absolute_uri(path)

    def paged(self, queryset):
        """The page asked for (``Pages``) as a list."""
        return list(self.paginate_queryset(queryset))


FILTER_PARAMETERS = [
    OpenApiParameter("q", str, description="Text search in titles, places, summaries and source names."),
    OpenApiParameter("date_after", OpenApiTypes.DATE, description="Started on or after (YYYY-MM-DD)."),
    OpenApiParameter("date_before", OpenApiTypes.DATE, description="Started on or before (YYYY-MM-DD)."),
    OpenApiParameter("location", str, description="A place's slug: incidents in it or beneath it."),
    OpenApiParameter("kind", str, enum=Incident.Kind.values),
    OpenApiParameter(
        "perpetrator", str, description="An actor's slug: incidents it is alleged to have done."
    ),
    OpenApiParameter("source", str, description="A source's slug: incidents it reported on."),
    OpenApiParameter("disputed", str, enum=["true", "false"], description="Sources differ (or agree)."),
    OpenApiParameter("contradictory", str, enum=["true", "false"], description="Sources contradict."),
    OpenApiParameter("attribution", str, enum=["disputed", "agreed"]),
    OpenApiParameter("min_killed", int, description="The highest figure is at least this."),
    OpenApiParameter(
        "sort", str, enum=["newest", "oldest", "toll", "disputed"], description="Default newest."
    ),
]
BAD_FILTER = OpenApiResponse(
    inline_serializer(
        "FilterError",
        {"detail": serializers.CharField(), "errors": serializers.DictField(child=serializers.ListField())},
    ),
    description="A filter could not be read: ``errors`` names each and says why.",
)


class FilteredIncidents(PublicAPIView):
    # A list of the filtered incidents themselves (not of their reports): unfiltered or by place
    # alone, its count is the month or place totals' (one small query) instead of a count.
    lists_incidents = True

    def filtered(self, queryset):
        """``queryset`` filtered and ordered by the query string, as /incidents/ does; a
        malformed filter is a 400 that names it and says why."""
        filterset = IncidentFilter(
            self.request.query_params, queryset=queryset, request=self.reader_request()
        )
        if not filterset.is_valid():
            errors = {name: list(messages) for name, messages in filterset.form.errors.items()}
            reasons = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
            error = exceptions.ValidationError({"detail": f"These filters could not be read. {reasons}"})
            error.detail["errors"] = errors
            raise error
        if self.lists_incidents:
            self.known_count = summarised_count(filterset)
        return filterset.qs


def incidents_with_everything(queryset):
    """What ``represent.incident_data`` reads, in four more queries per page."""
    published = Incident.objects.published().only("id", "slug", "title", "part_of", "start_date")
    return queryset.select_related("location", "part_of").prefetch_related(
        Prefetch(
            "reports",
            queryset=TollReport.objects.select_related("source").order_by("published_on", "pk"),
            to_attr="all_reports",
        ),
        Prefetch(
            "attributions",
            queryset=Attribution.objects.select_related("source", "actor").order_by("published_on", "pk"),
            to_attr="all_attributions",
        ),
        Prefetch("parts", queryset=published.order_by("start_date", "pk"), to_attr="published_parts"),
    )


class IncidentList(FilteredIncidents):
    """Published incidents, newest first, with the list's filters."""

    serializer_class = IncidentSerializer

    @extend_schema(
        parameters=FILTER_PARAMETERS, responses={200: IncidentSerializer(many=True), 400: BAD_FILTER}
    )
    def get(self, request):
        incidents = self.filtered(Incident.objects.published())
        page = self.paged(IncidentRecords.revisions(incidents))
        records = IncidentRecords(self.absolute_url).of(page)
        # Written by hand around the records already written, as DRF's paginated answer would be.
        body = json_object([*page_members(self.paginator), ("results", json_array(records))])
        return HttpResponse(body, content_type="application/json")


class IncidentRecords:
    """The API's records of incidents (``represent.incident_data``) as JSON, each kept in this process by
    the revisions of its incident, of its whole and of its parts (``incidents.revisions``) and
    the labels version: the list of a hundred incidents, read again after a revision of one of
    them, reads and writes that one and takes the other ninety-nine as they were (their reports,
    attributions, parts and victims, four queries and most of the answer's time, are not read
    again, nor written as JSON again: encoding the hundred took a quarter of the answer's time)."""

    KEPT = Remembered(size=2048)  # a few kilobytes each

    def __init__(self, absolute_url):
        self.absolute_url = absolute_url
        # The language: sentences and words are in the page's.
        self.context = (absolute_url("/"), get_language())

    @staticmethod
    def revisions(incidents):
        """``incidents`` as (id, what its record is kept by): its revision, its whole's, and its
        parts' greatest and their number (one removed changes it). Read for the page's rows only."""
        parts = Incident.objects.filter(part_of=OuterRef("pk")).order_by().values("part_of")
        return incidents.annotate(
            parts_revision=Subquery(parts.annotate(greatest=Max("revision__revision")).values("greatest")),
            parts_count=Subquery(parts.annotate(number=Count("pk")).values("number")),
        ).values_list(
            "pk", "revision__revision", "part_of__revision__revision", "parts_revision", "parts_count"
        )

    def of(self, page):
        """The records of ``page`` (rows of ``revisions``) as JSON, in its order; an incident
        unpublished since the page was read is left out."""
        labels = dataversion.read_for_this_page()  # read before the records: they are never older
        keep = dataversion.settled()
        keys = {
            pk: (pk, *revisions, labels.labels, labels.labels_changed_at, *self.context)
            for pk, *revisions in page
        }
        records = {pk: self.KEPT.find(key) if keep else None for pk, key in keys.items()}
        missing = [pk for pk, record in records.items() if record is None]
        if missing:
            for incident, record in self.read(missing):
                records[incident.pk] = record
                if keep:
                    self.KEPT.keep(keys[incident.pk], record)
        return [records[pk] for pk in keys if records[pk] is not None]

    def read(self, ids):
        """(incident, its record as JSON) of the published incidents ``ids``, in five queries."""
        incidents = incidents_with_everything(Incident.objects.published().filter(pk__in=ids))
        victims = stats.victim_counts_by_incident(ids)
        for incident in incidents:
            record = represent.incident_data(
                incident,
                reports=incident.all_reports,
                attributions=incident.all_attributions,
                parts=incident.published_parts,
                victims=victims[incident.pk],
                absolute_url=self.absolute_url,
            )
            yield incident, as_json(record)


class IncidentDetail(PublicAPIView):
    """One published incident: everything the list gives, every report and revision, the
    corrections, related incidents and how to cite it."""

    serializer_class = IncidentDetailSerializer
    pagination_class = None

    @extend_schema(
        responses={
            200: IncidentDetailSerializer,
            404: OpenApiResponse(description="No such published incident."),
        }
    )
    def get(self, request, slug):
        published = Incident.objects.published()
        incident = get_object_or_404(
            incidents_with_everything(published).prefetch_related(
                Prefetch(
                    "related", queryset=published.order_by("start_date", "pk"), to_attr="published_related"
                ),
                Prefetch("victims", queryset=Victim.objects.order_by("pk"), to_attr="people"),
            ),
            slug=slug,
        )
        reports = incident.all_reports
        for report in reports:
            report.incident = incident  # spares a query per report
        data = represent.incident_data(
            incident,
            reports=reports,
            attributions=incident.all_attributions,
            parts=incident.published_parts,
            victims=stats.victim_counts_by_incident([incident.pk])[incident.pk],
            absolute_url=self.absolute_url,
        )
        # Each person as the incident page lists them: a name only once an editor released it.
        data["people"] = [person.public_record() for person in incident.people]
        data["reports"] = [represent.report_data(report) for report in reports]
        data["revisions"] = revision_sentences(reports)
        data["corrections"] = [c.sentence for c in workflow.corrections_on_its_page(incident)]
        data["related"] = [represent.incident_link(other) for other in incident.published_related]
        data["citation"] = citations.incident_citation(
            incident, absolute_url=self.absolute_url, moment=citations.recorded_at(incident)
        )
        return Response(data)


def revision_sentences(reports):
    """How each source's figures changed, as the incident page says it."""
    by_source = {}
    for report in reports:
        by_source.setdefault((report.source, report.killed_counts), []).append(report)
    return [
        figures.revision_sentence(
            source.label if population == figures.ALL else f"{source.label} ({population} only)",
            [(r.published_on, r.killed_figure) for r in source_reports],
        )
        for (source, population), source_reports in by_source.items()
        if len(source_reports) > 1
    ]


class ReportList(FilteredIncidents):
    """Every report on published incidents, in the order they were entered (``id``). The list's
    filters choose the incidents."""

    serializer_class = ReportSerializer
    lists_incidents = False  # its pages are counted by their reports

    @extend_schema(
        parameters=FILTER_PARAMETERS, responses={200: ReportSerializer(many=True), 400: BAD_FILTER}
    )
    def get(self, request):
        incidents = self.filtered(Incident.objects.published()).order_by()
        reports = (
            TollReport.objects.filter(incident__in=incidents.values("pk"))
            .select_related("source", "incident")
            .order_by("pk")
        )
        data = [represent.report_data(report) for report in self.paged(reports)]
        return self.get_paginated_response(data)


class LocationList(PublicAPIView):
    """Places that published incidents lie in or beneath, with P-codes and the places above them."""

    serializer_class = LocationSerializer

    @extend_schema(responses=LocationSerializer(many=True))
    def get(self, request):
        places = (
            Location.objects.public()
            .select_related("parent", "country", "admin1", "admin2")
            .order_by("chain", "pk")
        )
        data = [represent.location_data(place) for place in self.paged(places)]
        return self.get_paginated_response(data)


class SourceList(PublicAPIView):
    """Sources that reported a figure or an attribution on a published incident."""

    serializer_class = SourceSerializer

    @extend_schema(responses=SourceSerializer(many=True))
    def get(self, request):
        sources = Source.objects.public().order_by("name", "pk")
        data = [
            {
                **represent.source_data(source),
                "affiliation": source.affiliation,
                "website": source.website,
                "url": self.absolute_url(source.get_absolute_url()),
            }
            for source in self.paged(sources)
        ]
        return self.get_paginated_response(data)


class ActorList(PublicAPIView):
    """Actors that published incidents name as alleged perpetrators or claimants."""

    serializer_class = ActorSerializer

    @extend_schema(responses=ActorSerializer(many=True))
    def get(self, request):
        actors = Actor.objects.public().order_by("name", "pk")
        data = [
            {**represent.actor_data(actor), "url": self.absolute_url(actor.get_absolute_url())}
            for actor in self.paged(actors)
        ]
        return self.get_paginated_response(data)


GEOJSON_RESPONSE = inline_serializer(
    "FeatureCollection",
    {
        "type": serializers.CharField(default="FeatureCollection"),
        "features": serializers.ListField(child=serializers.DictField()),
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
    },
)


class CountedBeforeJoins(DjangoPaginator):
    """Counts ``object_list.counted`` when it has one: the incidents as filtered, before the
    joins that their values need (counting over the joins took ten times as long)."""

    @cached_property
    def count(self):
        return getattr(self.object_list, "counted", self.object_list).count()


class GeoPages(Pages):
    page_size = GEOJSON_PAGE_SIZE
    max_page_size = GEOJSON_PAGE_SIZE
    counting_paginator = CountedBeforeJoins


class IncidentGeoJSON(FilteredIncidents):
    """Published incidents as a GeoJSON FeatureCollection (RFC 7946), with the list's filters,
    at most 1,000 features per page: ``next`` is the address of the next page."""

    pagination_class = GeoPages

    @extend_schema(
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("page", int, description="The page, from 1 (1,000 features each)."),
        ],
        responses={(200, "application/geo+json"): GEOJSON_RESPONSE, 400: BAD_FILTER},
    )
    def get(self, request):
        incidents = self.filtered(Incident.objects.published())
        rows = incidents.values(*GEOJSON_FIELDS)
        rows.counted = incidents
        # Each page's address, written once: reversing it for each feature cost a tenth of the answer.
        pages = self.absolute_url(path_to("incident_list"))
        features = [feature_json(row, pages) for row in self.paged(rows)]
        # Written by hand around the features already written.
        body = json_object(
            [
                ("type", as_json("FeatureCollection")),
                ("features", json_array(features)),
                *page_members(self.paginator),
            ]
        )
        return HttpResponse(body, content_type="application/geo+json")


# Read as plain values: a thousand features a page, without building a thousand model objects.
GEOJSON_FIELDS = [
    "pk", "slug", "title", "title_ar", "kind", "start_date", "end_date", "place", "location_precision",
    "latitude", "longitude", "location__slug", "location__pcode", "location__latitude", "location__longitude",
    "killed_lowest", "killed_highest", "killed_highest_open", "is_disputed", "part_of", "part_of__status",
]  # fmt: skip


def as_json(data):
    """``data`` as DRF's JSONRenderer writes it (compact, UTF-8, no NaN, U+2028 and U+2029 escaped)."""
    written = json.dumps(
        data, cls=encoders.JSONEncoder, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    return written.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# Answers written by hand around parts already written as JSON (kept records, features), as
# DRF's JSONRenderer would write the whole: ``as_json`` each part, then these around them.


def json_object(members):
    """``members``, (name, value already written as JSON) pairs in order, as a JSON object."""
    return "{" + ",".join(f"{as_json(name)}:{written}" for name, written in members) + "}"


def json_array(written):
    return "[" + ",".join(written) + "]"


def page_members(paginator):
    """A page's count and links, as DRF's page number pagination answers them."""
    return [
        ("count", as_json(paginator.page.paginator.count)),
        ("next", as_json(paginator.get_next_link())),
        ("previous", as_json(paginator.get_previous_link())),
    ]


# Each feature as JSON, kept by everything it is written from (its row's values and the address
# of the incident pages): a map's thousand features were written again after every revision,
# although one of them had changed. About half a kilobyte each.
FEATURES_WRITTEN = Remembered(size=8192)


def feature_json(row, pages):
    """``feature(row, pages)`` as JSON, written once per content in each process."""
    return FEATURES_WRITTEN.get((pages, *row.values()), lambda: as_json(feature(row, pages)))


def feature(row, pages):
    """One incident (``GEOJSON_FIELDS``) as a GeoJSON Feature: a point at
    ``represent.coordinates`` (longitude first), or no geometry when neither it nor its place has one."""
    point = represent.coordinates(
        own=(row["latitude"], row["longitude"]), place=(row["location__latitude"], row["location__longitude"])
    )
    geometry = None
    if point is not None:
        geometry = {"type": "Point", "coordinates": [point["longitude"], point["latitude"]]}
    toll = figures.TollRange(row["killed_lowest"], row["killed_highest"], row["killed_highest_open"])
    return {
        "type": "Feature",
        "id": row["pk"],
        "geometry": geometry,
        "properties": {
            "slug": row["slug"],
            "title": row["title"],
            "title_ar": row["title_ar"],
            "url": f"{pages}{row['slug']}/",  # /incidents/<slug>/
            "kind": row["kind"],
            "start_date": row["start_date"].isoformat(),
            "end_date": row["end_date"] and row["end_date"].isoformat(),
            "place": row["place"],
            "location": row["location__slug"],
            "pcode": row["location__pcode"],
            "location_precision": row["location_precision"],
            "coordinates_of": point["of"] if point else None,
            "killed_lowest": toll.lowest,
            "killed_highest": toll.highest,
            "killed_highest_open": toll.highest_open,
            "killed": toll.short(),
            "disputed": row["is_disputed"],
            # A draft whole is not named, not even by its number.
            "part_of": row["part_of"] if row["part_of__status"] == Incident.Status.PUBLISHED else None,
        },
    }


class APIRoot(APIView):
    """Where everything is."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request):
        names = ["incidents", "reports", "locations", "sources", "actors", "geojson", "schema", "docs"]
        return Response({name: reverse(f"api:{name}", request=request) for name in names})
