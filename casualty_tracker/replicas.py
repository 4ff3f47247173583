"""Read replicas: anonymous readers' page views read from a replica, everything else the primary.

Staff must always see what they have just saved, so their requests (and every write, and every
request that is not a GET or HEAD) stay on the primary. Which database a request reads is
decided once per request and carried to the router in a context variable (a router sees
queries, not requests): one replica for the whole request, because the page cache reads the data
version first and stores the page under it, and a page rendered from a replica that has not yet
applied that version would be stored as if it had.

A replica that lags would show readers an older figure than the one just committed. The README
("Deploying beyond one machine") asks for synchronous replication (`synchronous_commit =
remote_apply`) for that reason.
"""

import random
from contextvars import ContextVar

from django.conf import settings

# The replica this request reads from; None: the primary.
replica_for_reads = ContextVar("replica_for_reads", default=None)

# Live for everyone: never served from the page cache, always read from the primary.
LIVE_PATHS = ("/admin/", "/export/", "/healthz/")


def pick_replica():
    """A replica for one request's reads, or None when there is none."""
    if settings.DATABASE_REPLICAS:
        return random.choice(settings.DATABASE_REPLICAS)  # noqa: S311 (load spreading, not security)
    return None


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return replica_for_reads.get() or "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # A replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """Sends an anonymous reader's GET or HEAD of a public page to a replica: the one the page
    cache read the data version from, if it did."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        may_use_replica = (
            request.method in ("GET", "HEAD")
            and not request.path.startswith(LIVE_PATHS)
            and not request.user.is_authenticated
        )
        replica = (replica_for_reads.get() or pick_replica()) if may_use_replica else None
        token = replica_for_reads.set(replica)
        try:
            return self.get_response(request)
        finally:
            replica_for_reads.reset(token)
