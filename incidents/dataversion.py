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
reader can see the change without the new version (on SQLite, its returned rows are read before
that transaction commits: ``RowsRead``).

``current()`` gives the version and the time of the last change for the public cache
(casualty_tracker/public_cache.py), and the **names version**: which places, actors and
sources are public and what they are called, all that the filter menus show. It moves on far
less often (a publication, a rename, a report from a new source; never a revised figure), so
that a menu is not read and written again after every revision. It is counted by database
triggers (``NAMES_WATCHED``), which see exactly which columns a statement changed, in the same
rows and the same transaction as the version; ``migrate`` (re)installs them.

Within it, the **labels version** counts only the writes to the places, sources and actors
themselves (a name, a kind, a place moved in the tree): what one incident's page and its API
record show of anything but the incidents. A publication moves the names version (a menu may
gain a name) but not the labels version, so a crisis day's publications leave every other
incident's page and record kept.
"""

import contextvars
import datetime
import functools
import re
import weakref
from typing import NamedTuple

from django.db import DEFAULT_DB_ALIAS, connection, connections, router, transaction
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from incidents import revisions, triggers
from incidents.remembered import Remembered

TABLE = "incidents_dataversion"
# Not the versions' own tables: the revisions are written by triggers within the writes they
# count, and otherwise only when deleted incidents' are removed, which no page shows.
PUBLIC_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?incidents_(?!dataversion\b|incidentrevision\b)',
    re.IGNORECASE,
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


# A constant (no data in it), hence the noqa.
CURRENT = (
    "SELECT SUM(changes), MAX(changed_at), SUM(names_changes), MAX(names_changed_at), "  # noqa: S608
    f"SUM(labels_changes), MAX(labels_changed_at) FROM {TABLE}"
)
# With the revisions of one published incident and of the incidents its page shows
# (incidents/revisions.py), in the same round trip.
CURRENT_WITH_INCIDENT = {
    "postgresql": f"SELECT * FROM ({CURRENT}) AS version, incidents_page_revisions(%s)",  # noqa: S608
    "sqlite": f"SELECT * FROM ({CURRENT}), ({revisions.PAGE_REVISIONS})",  # noqa: S608
}


class Version(NamedTuple):
    changes: int  # committed writes to the public data
    changed_at: datetime.datetime | None  # the last one's time
    names: int  # committed changes to what the menus show (the names version)
    names_changed_at: datetime.datetime | None
    labels: int  # committed writes to the places, sources and actors themselves (the labels version)
    labels_changed_at: datetime.datetime | None
    # The incident asked for, when it is published: (its revision, the greatest revision of the
    # incidents its page shows, their number); else None. A revision not yet written is None.
    incident: tuple | None = None


def _as_time(value):
    if isinstance(value, str):  # SQLite keeps the time as UTC text
        return datetime.datetime.fromisoformat(value).replace(tzinfo=datetime.timezone.utc)
    return value


def current(incident_slug=None):
    """The ``Version`` committed now: the number of public writes and the time of the last one,
    the names version, and the revisions of the published incident ``incident_slug``.

    Read on every public request, cache hits included, so in plain SQL (the ORM's aggregate
    costs more to build than the query costs to run), from the database the router gives
    that request's reads. An incident's revisions cannot change without the data version
    moving too: they are read again only when it has (``INCIDENTS_SEEN``), so a hit on a
    popular incident's page costs the one small query as any other."""
    from incidents.models import DataVersion

    db = connections[router.db_for_read(DataVersion)]
    keep = incident_slug is not None and settled()
    with db.cursor() as cursor:
        if incident_slug is None or keep:
            cursor.execute(CURRENT)
            version = Version(*_read(cursor.fetchone()))
            if incident_slug is None:
                return version
            seen = INCIDENTS_SEEN.find((incident_slug, version))
            if seen is not None:
                return version._replace(incident=seen.incident)
        cursor.execute(CURRENT_WITH_INCIDENT[db.vendor], [incident_slug])
        row = cursor.fetchone()
    # Then: published or not, its revision, the greatest of those its page shows, their number.
    published, *incident = row[VERSION_COLUMNS:]
    version = Version(*_read(row[:VERSION_COLUMNS]), incident=tuple(incident) if published else None)
    if keep:
        INCIDENTS_SEEN.keep((incident_slug, version._replace(incident=None)), version)
    return version


VERSION_COLUMNS = 6  # CURRENT's, before those of the incident asked for


# The version the public cache read for the page this thread is rendering, if it read one.
READ_FOR_THIS_PAGE = contextvars.ContextVar("version_read_for_this_page", default=None)


def read_for_this_page():
    """The version the page being rendered is kept under (``READ_FOR_THIS_PAGE``), else the one
    committed now. What a page's parts keep under it (its menus, its records) is read after it,
    so never older than it says; and one query fewer per part."""
    return READ_FOR_THIS_PAGE.get() or current()


def _read(row):
    changes, changed_at, names, names_changed_at, labels, labels_changed_at = row
    return (
        *(changes or 0, _as_time(changed_at)),
        *(names or 0, _as_time(names_changed_at)),
        *(labels or 0, _as_time(labels_changed_at)),
    )


class KeptUnderNames:
    """Answers kept in this process under the names version they were read at: what depends only
    on what the names version counts (which places, actors and sources published incidents use,
    and what they are called), such as a filter menu or the number of sources reporting on a
    place.

    The names version moves on in the same transaction as any change to those, so an answer
    found under the version read now was computed from everything committed before it: never
    older. It does not move when a figure is revised: on a crisis day such answers are computed
    once per publication rather than once per revision. Not inside a transaction: one that has
    written reads a version it may still undo, and the next write would reach the same number.
    The version's time is part of the key too, so that a number reached again (a database
    emptied or restored while the process runs) is another key. The version is the one the page
    is kept under (``read_for_this_page``): no query of its own. At most ``size`` answers (of
    several versions, languages, choices); then it starts again."""

    everywhere = weakref.WeakSet()

    def __init__(self, size):
        self.kept = Remembered(size=size)
        KeptUnderNames.everywhere.add(self)

    def clear(self):
        self.kept.clear()

    @classmethod
    def clear_everywhere(cls):
        """For the tests: a test's data is rolled back, so the next one meets its versions again."""
        for kept in list(cls.everywhere):
            kept.clear()

    def get(self, key, compute):
        if not settled():
            return compute()
        names = read_for_this_page()
        return self.kept.get((names.names, names.names_changed_at, *key), compute)


# The revisions of incidents read lately, by slug and data version (each process).
INCIDENTS_SEEN = Remembered(size=4096)


def settled():
    """Whether what this request reads now is committed: no transaction is open on the database
    it writes to or the one it reads from. Inside one that has written, a version (or a revision)
    read may still be undone, and the next write would reach the same number: nothing is kept
    under it."""
    from incidents.models import Incident

    return not any(
        connections[alias].in_atomic_block for alias in {DEFAULT_DB_ALIAS, router.db_for_read(Incident)}
    )


# PostgreSQL: the rows of sessions that have ended, folded into row 0 in one statement (so no
# reader sees them half folded). The sums and the latest times stay the same, so the versions,
# and every page and menu kept under them, do too. A session still connected keeps its row: its transaction
# may be bumping it. Answers the number of rows folded.
FOLD_ENDED_WRITERS = f"""
WITH ended AS (
    DELETE FROM {TABLE}
    WHERE writer <> 0 AND writer NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
    RETURNING changes, changed_at, names_changes, names_changed_at, labels_changes, labels_changed_at
), folded AS (
    INSERT INTO {TABLE}
        (writer, changes, changed_at, names_changes, names_changed_at, labels_changes, labels_changed_at)
    SELECT 0, SUM(changes), MAX(changed_at), SUM(names_changes), MAX(names_changed_at),
        SUM(labels_changes), MAX(labels_changed_at)
    FROM ended HAVING COUNT(*) > 0
    ON CONFLICT (writer) DO UPDATE SET
        changes = {TABLE}.changes + EXCLUDED.changes,
        changed_at = GREATEST({TABLE}.changed_at, EXCLUDED.changed_at),
        names_changes = {TABLE}.names_changes + EXCLUDED.names_changes,
        names_changed_at = GREATEST({TABLE}.names_changed_at, EXCLUDED.names_changed_at),
        labels_changes = {TABLE}.labels_changes + EXCLUDED.labels_changes,
        labels_changed_at = GREATEST({TABLE}.labels_changed_at, EXCLUDED.labels_changed_at)
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


# --- The names version, counted by triggers ---------------------------------------------------

# What a filter menu shows (``filters.names_to_choose``: the places, actors and sources that
# published incidents use, and their names), by the tables and columns that decide it. A change
# to any other column (a figure, a title, a stored total) leaves every menu as it was. None: any
# change of the table's rows.
NAMES_WATCHED = {
    "incidents_location": None,
    "incidents_source": None,
    "incidents_actor": None,
    "incidents_incident": ("status", "location_id"),
    "incidents_tollreport": ("incident_id", "source_id"),
    "incidents_attribution": ("incident_id", "source_id", "actor_id"),
    "incidents_incident_perpetrators": None,
    "incidents_incident_claimed_by": None,
}
# Of these, the places, sources and actors themselves: a write to them moves the labels version
# too. Which of them an incident names is the incident's own revision (incidents/revisions.py).
LABELS_WATCHED = ("incidents_location", "incidents_source", "incidents_actor")
SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _changed_sqlite(counts):
    """The statements a SQLite trigger runs: one more of each of ``counts`` (names, labels) in the
    version's one row."""
    moved = ", ".join(
        f"{count}_changes = {count}_changes + 1, {count}_changed_at = {SQLITE_NOW}" for count in counts
    )
    return (
        f"INSERT OR IGNORE INTO {TABLE} (writer, changes, changed_at) VALUES (0, 0, {SQLITE_NOW}); "  # noqa: S608
        f"UPDATE {TABLE} SET {moved} WHERE writer = 0;"  # noqa: S608 (constants only)
    )


def _changed_postgresql(function, counts):
    """A PostgreSQL trigger function: one more of each of ``counts`` in this session's row (a
    statement's trigger runs in its session, as the version's bump)."""
    columns = ", ".join(f"{count}_changes, {count}_changed_at" for count in counts)
    values = ", ".join("1, clock_timestamp()" for _ in counts)
    moved = ", ".join(
        f"{count}_changes = {TABLE}.{count}_changes + 1, {count}_changed_at = clock_timestamp()"
        for count in counts
    )
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {TABLE} (writer, changes, changed_at, {columns})
    VALUES (pg_backend_pid(), 0, clock_timestamp(), {values})
    ON CONFLICT (writer) DO UPDATE SET {moved};
    RETURN NULL;
END $$"""  # noqa: S608 (constants only)


# By what a table's writes move: every label is a name too.
COUNTS = {"names": ("names",), "labels": ("names", "labels")}
FUNCTIONS = {"names": "incidents_names_changed", "labels": "incidents_labels_changed"}

# After ``migrate`` (a new version was just started, so this writer has its row): new menus too.
NAMES_BUMPED_BY_MIGRATIONS = {
    vendor: f"UPDATE {TABLE} SET names_changes = names_changes + 1, names_changed_at = changed_at, "  # noqa: S608
    f"labels_changes = labels_changes + 1, labels_changed_at = changed_at WHERE writer = {writer}"
    for vendor, writer in (("postgresql", "pg_backend_pid()"), ("sqlite", "0"))
}


def _names_triggers(vendor, labels=True):
    for table, columns in NAMES_WATCHED.items():
        moves = "labels" if labels and table in LABELS_WATCHED else "names"
        for event in ("INSERT", "UPDATE", "DELETE"):
            trigger = f"{table}_{event.lower()}_names"
            when = f"WHEN {triggers.changed(columns, vendor)}" if event == "UPDATE" and columns else ""
            if vendor == "postgresql":
                # A whole statement once (an import's thousand rows, one count), unless the row's
                # old and new columns must be compared.
                each = "ROW" if when else "STATEMENT"
                create = (
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH {each} {when} "
                    f"EXECUTE FUNCTION {FUNCTIONS[moves]}()"
                )
            else:
                create = (
                    f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW {when} "
                    f"BEGIN {_changed_sqlite(COUNTS[moves])} END"
                )
            yield table, trigger, create


NAMES_TRIGGERS = triggers.Triggers(
    triggers=_names_triggers,
    functions={
        FUNCTIONS[moves]: _changed_postgresql(FUNCTIONS[moves], counts) for moves, counts in COUNTS.items()
    },
    # The labels' column came last (migration 0028): before it, these triggers cannot run.
    column=(TABLE, "labels_changes"),
)
# As migration 0027 installed them, before the labels version: for it and for 0028 undone.
NAMES_TRIGGERS_BEFORE_LABELS = triggers.Triggers(
    triggers=functools.partial(_names_triggers, labels=False),
    functions={FUNCTIONS["names"]: _changed_postgresql(FUNCTIONS["names"], COUNTS["names"])},
    column=(TABLE, "names_changes"),
)


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
        if db.vendor == "sqlite" and RETURNING.search(sql):
            # SQLite cannot commit while a statement's rows are still to be read, and Django
            # reads an INSERT … RETURNING's (a new row's key) after this returns: read first.
            cursor = context["cursor"]
            cursor.cursor = RowsRead(cursor.cursor, cursor.cursor.fetchall())
        bump(db)
    return result


RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


class RowsRead:
    """A database cursor whose statement's rows were read already (``_watch_writes``): it gives
    them as the cursor would; anything else is the cursor's own."""

    def __init__(self, cursor, rows):
        self._cursor = cursor
        self._rows = list(rows)

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=1):
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self):
        taken, self._rows = self._rows, []
        return taken

    def __iter__(self):
        return iter(self.fetchall())

    def __getattr__(self, name):
        return getattr(self._cursor, name)


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
            for counted in (NAMES_TRIGGERS, revisions.REVISION_TRIGGERS):
                if counted.installable(db):
                    counted.install(db)
            if NAMES_TRIGGERS.installable(db):
                with db.cursor() as cursor:
                    cursor.execute(NAMES_BUMPED_BY_MIGRATIONS[db.vendor])


def connect_signals(app_config):
    connection_created.connect(_install, dispatch_uid="dataversion-install")
    post_migrate.connect(_migrations_done, sender=app_config, dispatch_uid="dataversion-post-migrate")
