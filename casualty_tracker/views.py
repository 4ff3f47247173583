"""Site plumbing that is not about incidents: health check, robots.txt, error pages."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

ROBOTS_TXT = """User-agent: *
Disallow: /admin/
Disallow: /export/
"""


@require_safe
def robots_txt(request):
    return HttpResponse(ROBOTS_TXT, content_type="text/plain")


@require_safe
def favicon(request):
    # Looked up per request: the hashed name of the collected file is only known at run time.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


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


def permission_denied(request, exception):
    """A 403 that says what is missing and who can grant it, rather than a bare "Forbidden"."""
    url_name = getattr(request.resolver_match, "url_name", "") or ""
    context = {"export": url_name.startswith("export")}
    response = render(request, "403.html", context, status=403)
    # An answer about this user's roles (and an export's, which may hold drafts) is never kept.
    add_never_cache_headers(response)
    return response


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def server_error(request):
    return render(request, "500.html", status=500)
