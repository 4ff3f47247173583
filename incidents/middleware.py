"""Request ids for log lines, and keeping the admin out of search engines."""

import re
import uuid

from incidents.logging import request_id_var

# A request id from the proxy is kept only if it is short and plain, so it cannot forge log lines.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Not reset afterwards: Django logs 4xx and 5xx responses after the middleware returns.
        request_id_var.set(request.id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        if request.path.startswith(("/admin/", "/export/")):
            response["X-Robots-Tag"] = "noindex, nofollow"
        return response
