"""The API's addresses, under /api/ (DESIGN.md, "Public API")."""

import functools

from django.middleware.http import ConditionalGetMiddleware
from django.urls import path
from django.utils.cache import patch_cache_control
from django.utils.decorators import decorator_from_middleware
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from incidents.api import views

app_name = "api"

# An ETag of each answer's content: a client that sends it back in If-None-Match gets 304 while
# the answer is the same, and the full answer as soon as anything in it changed.
etag_of_content = decorator_from_middleware(ConditionalGetMiddleware)


def conditional(view):
    """``view`` with a content ETag; caches must ask again each time (``no-cache``)."""

    @functools.wraps(view)  # keeps ``cls``, which the schema generator reads
    def answer(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        patch_cache_control(response, no_cache=True)
        return response

    return etag_of_content(answer)


urlpatterns = [
    path("", conditional(views.APIRoot.as_view()), name="root"),
    path("incidents/", conditional(views.IncidentList.as_view()), name="incidents"),
    path("incidents.geojson", conditional(views.IncidentGeoJSON.as_view()), name="geojson"),
    path("incidents/<slug:slug>/", conditional(views.IncidentDetail.as_view()), name="incident"),
    path("reports/", conditional(views.ReportList.as_view()), name="reports"),
    path("locations/", conditional(views.LocationList.as_view()), name="locations"),
    path("sources/", conditional(views.SourceList.as_view()), name="sources"),
    path("actors/", conditional(views.ActorList.as_view()), name="actors"),
    path("schema/", conditional(SpectacularAPIView.as_view()), name="schema"),
    # Swagger UI from our static files; its start-up script is a file too (no inline script: CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
