"""The data version: bumped by every write to the public data, in the same transaction.

Every connection gets an execute wrapper that watches the statements it runs. After any INSERT,
UPDATE or DELETE on an `incidents_` table (incidents, reports, attributions, places, sources,
actors, their history, the derived figures the one writer stores), it adds one to this session's
row of ``DataVersion``. Watching the statements, rather than hooking saves and signals, means no
path goes around it: bulk writes, raw SQL in the one writer, imports and scripts all bump it.
The one exception is PostgreSQL's ``COPY … FROM STDIN`` (``cursor.copy_expert`` does not pass
through the execute wrapper): ``incidents.rows.Table.copy``, its only user, bumps the version
itself (``bump()``), in the same transaction.

A statement run outside a transaction (autocommit) is wrapped in one with its bump, so that no
reader can see the change without the new version.

``current()`` gives (version, time of the last change) for the public cache
(casualty_tracker/public_cache.py).
"""

import datetime
import re

from django.db import connection, connections, router, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

TABLE = "incidents_dataversion"
PUBLIC_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?incidents_(?!dataversion\b)', re.IGNORECASE
)

# The statements are constants (no data in them), hence the noqa.
BUMP = {
    "postgresql": (
        f"INSERT INTO {TABLE} (writer, changes, changed_at) VALUES (pg_backend_pid(), 1, clock_timestamp()) "  # noqa: S608
        f"ON CONFLICT (writer) DO UPDATE SET changes = {TABLE}.changes + 1, changed_at = clock_timestamp()"
    ),
    # SQLite stores datetimes as ISO text; its writers are serialised, so one row does.
    "sqlite": (
        f"INSERT INTO {TABLE} (writer, changes, changed_at) "  # noqa: S608
        f"VALUES (0, 1, strftime('%Y-%m-%d %H:%M:%f', 'now')) "
        f"ON CONFLICT (writer) DO UPDATE SET changes = changes + 1, "
        f"changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now')"
    ),
}

# Schema changes (migrations, also a test migrating backwards) may create or drop the table:
# after one, the connection looks again before its next bump.
SCHEMA_CHANGE = re.compile(r"^\s*(?:CREATE|DROP|ALTER)\s+TABLE", re.IGNORECASE)


CURRENT = f"SELECT SUM(changes), MAX(changed_at) FROM {TABLE}"  # noqa: S608 (a constant)


def current():
    """(version, changed_at): the number of committed public writes and the time of the last one.

    Read on every public request, cache hits included, so in plain SQL (the ORM's aggregate
    costs more to build than the query costs to run), from the database the router gives
    that request's reads."""
    from incidents.models import DataVersion

    with connections[router.db_for_read(DataVersion)].cursor() as cursor:
        cursor.execute(CURRENT)
        version, changed_at = cursor.fetchone()
    if isinstance(changed_at, str):  # SQLite keeps the time as UTC text
        changed_at = datetime.datetime.fromisoformat(changed_at).replace(tzinfo=datetime.timezone.utc)
    return version or 0, changed_at


# PostgreSQL: the rows of sessions that have ended, folded into row 0 in one statement (so no
# reader sees them half folded). The sum and the latest time stay the same, so the version, and
# every page cached under it, does too. A session still connected keeps its row: its transaction
# may be bumping it. Answers the number of rows folded.
FOLD_ENDED_WRITERS = f"""
WITH ended AS (
    DELETE FROM {TABLE}
    WHERE writer <> 0 AND writer NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
    RETURNING changes, changed_at
), folded AS (
    INSERT INTO {TABLE} (writer, changes, changed_at)
    SELECT 0, SUM(changes), MAX(changed_at) FROM ended HAVING COUNT(*) > 0
    ON CONFLICT (writer) DO UPDATE SET
        changes = {TABLE}.changes + EXCLUDED.changes,
        changed_at = GREATEST({TABLE}.changed_at, EXCLUDED.changed_at)
    RETURNING writer
)
SELECT COUNT(*) FROM ended
"""  # noqa: S608 (constants only)


def fold_ended_writers(using_connection=connection):
    """Fold the rows of PostgreSQL sessions that have ended into one; the number folded.

    Each database session that writes gets a row (its process id), and app servers open new
    sessions all day: unfolded, the version's sum would read more rows every day
    (``manage.py fold_data_version``, run daily). SQLite has one row: nothing to fold."""
    if using_connection.vendor != "postgresql":
        return 0
    with using_connection.cursor() as cursor:
        cursor.execute(FOLD_ENDED_WRITERS)
        return cursor.fetchone()[0]


def bump(using_connection=connection):
    """One more change (what the wrapper does after a public write; also after migrations)."""
    raw = using_connection.connection.cursor()
    try:
        raw.execute(BUMP[using_connection.vendor])
    finally:
        raw.close()


def _watch_writes(execute, sql, params, many, context):
    db = context["connection"]
    if SCHEMA_CHANGE.match(sql):
        db.dataversion_table_exists = None
        return execute(sql, params, many, context)
    if not PUBLIC_WRITE.match(sql) or not _table_exists(db):
        return execute(sql, params, many, context)
    if db.in_atomic_block:
        result = execute(sql, params, many, context)
        bump(db)
        return result
    with transaction.atomic(using=db.alias):
        result = execute(sql, params, many, context)
        bump(db)
    return result


def _table_exists(db):
    """Whether this database has the version table yet (asked once per connection and schema)."""
    exists = getattr(db, "dataversion_table_exists", None)
    if exists is None:
        exists = db.dataversion_table_exists = TABLE in db.introspection.table_names()
    return exists


def _install(sender, connection, **kwargs):
    if connection.vendor in BUMP and _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch_writes)


def _migrations_done(sender, using="default", **kwargs):
    from django.db import connections

    db = connections[using]
    db.ensure_connection()
    db.dataversion_table_exists = None
    # A migration may have changed what pages show: start a new version.
    if _table_exists(db):
        with transaction.atomic(using=using):
            bump(db)


def connect_signals(app_config):
    connection_created.connect(_install, dispatch_uid="dataversion-install")
    post_migrate.connect(_migrations_done, sender=app_config, dispatch_uid="dataversion-post-migrate")
