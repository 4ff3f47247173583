"""Read replicas: anonymous readers' page views read from a replica, everything else the primary.

Staff must always see what they have just saved, so their requests (and every write, and every
request that is not a GET or HEAD) stay on the primary. Which request may use a replica is
decided once per request by the middleware and carried to the router in a context variable:
a router sees queries, not requests.

A replica that lags would show readers an older figure than the one just committed. The README
("Deploying beyond one machine") asks for synchronous replication (`synchronous_commit =
remote_apply`) for that reason.
"""

import random
from contextvars import ContextVar

from django.conf import settings

reads_may_use_replica = ContextVar("reads_may_use_replica", default=False)

# Paths whose reads always go to the primary, whoever asks.
PRIMARY_ONLY_PATHS = ("/admin/", "/export/", "/healthz/")


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if settings.DATABASE_REPLICAS and reads_may_use_replica.get():
            return random.choice(settings.DATABASE_REPLICAS)  # noqa: S311 (load spreading, not security)
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # A replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """Marks an anonymous reader's GET or HEAD of a public page as free to read from a replica."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        may_use_replica = (
            request.method in ("GET", "HEAD")
            and not request.path.startswith(PRIMARY_ONLY_PATHS)
            and not request.user.is_authenticated
        )
        token = reads_may_use_replica.set(may_use_replica)
        try:
            return self.get_response(request)
        finally:
            reads_may_use_replica.reset(token)
