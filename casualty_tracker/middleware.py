"""Request plumbing: a request id on every response and log line, and the client's address."""

import re
import uuid

from django.conf import settings

from casualty_tracker.logging import request_id_var

# A request id from the proxy is kept only if it is short and plain, so it cannot forge log lines.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id(meta):
    """This request's id: the proxy's (``X-Request-ID`` in the WSGI environ ``meta``) when it is
    safe to log, else a new one. Set for the log lines of this thread's request too."""
    incoming = meta.get("HTTP_X_REQUEST_ID", "")
    found = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    # Not reset afterwards: Django logs 4xx and 5xx responses after the middleware returns.
    request_id_var.set(found)
    return found


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = request_id(request.META)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        if request.path.startswith(("/admin/", "/export/")):
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response


def client_ip(request):
    """The client's address, for login rate limiting (django-axes' AXES_CLIENT_IP_CALLABLE).

    Behind our reverse proxy (DJANGO_BEHIND_PROXY=1) that is the last address the proxy
    appended to X-Forwarded-For; earlier entries come from the client and can be forged.
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")
