"""Each incident's revision: a number that moves on, in the same statement, with every write to
the incident's own row or the rows beneath it.

Kept in ``IncidentRevision`` by database triggers (``REVISION_TRIGGERS``, see
``incidents.triggers``), whatever the path of the write: the incident's row; its reports,
attributions and victims; the actors derived from its attributions. What a page also shows of
other incidents (its parts, whole and related incidents) is read with it, as their revisions and
their number (``LINKED``). Names of places, sources and actors are the labels version's
(``incidents.dataversion``).

No trigger writes an incident's row, its own or another's: a row trigger on the incidents table
made PostgreSQL lock each saved incident as if its key changed (a save writes every column, the
unique slug among them), and a commit checking a new report's incident then waited on it in a
circle with the totals' lock; a trigger writing other incidents' rows deadlocked two saves in
one part tree. The revisions' own narrow table is written instead, by the statement (PostgreSQL)
or row (SQLite), after the write; every writer of the rows beneath an incident has locked the
incident first (``tolls.lock``), so two writers never meet at a revision in a different order.

An incident's page and record kept under these and the labels version are therefore never older
than the data: the page stays kept while other incidents are revised
(``casualty_tracker.public_cache``), and the API's list is written again after a revision from
the records it already had and the one that changed (``incidents.api.views``). The history rows
a page reads (its corrections) are written in the same transactions as the rows they record.

The number is the time in microseconds, or one more than before when that is not later: it only
grows, and a database restored from a backup (whose revisions go back) reaches numbers it never
had before, so a server that kept a page from before the restore cannot mistake it for new. An
incident never written since this table was made has none (NULL): the same until its first
change.
"""

# Every statement here is built from this module's own table and column names: no data.
# ruff: noqa: S608

from django.db import connection

from incidents import triggers

INCIDENTS = "incidents_incident"
REVISIONS = "incidents_incidentrevision"
# The tables whose rows name incidents, by the column naming them: the incident's own row, and
# the rows beneath it that its page shows.
NAMING = {
    INCIDENTS: "id",
    "incidents_tollreport": "incident_id",
    "incidents_attribution": "incident_id",
    "incidents_victim": "incident_id",
    "incidents_incident_perpetrators": "incident_id",
    "incidents_incident_claimed_by": "incident_id",
}

# The incidents an incident's page shows besides itself (``shown``: its id and part_of_id): its
# whole, its parts and the related incidents. Their greatest revision and their number (a part
# or relation removed changes it) say whether any of them changed.
LINKED = f"""
    SELECT o.id FROM {INCIDENTS} o JOIN shown ON o.id = shown.part_of_id
    UNION ALL SELECT o.id FROM {INCIDENTS} o JOIN shown ON o.part_of_id = shown.id
    UNION ALL SELECT r.to_incident_id FROM incidents_incident_related r
        JOIN shown ON r.from_incident_id = shown.id"""


def _page_revisions(slug):
    """The revisions of the published incident whose slug is ``slug`` (a parameter) and of those
    its page shows: (1 when it is published, else 0; its revision; the greatest revision of
    those it shows; their number)."""
    return f"""
    WITH shown AS (SELECT id, part_of_id FROM {INCIDENTS} WHERE slug = {slug} AND status = 'published'),
    linked AS ({LINKED})
    SELECT (SELECT COUNT(*) FROM shown),
        (SELECT r.revision FROM {REVISIONS} r JOIN shown ON r.incident_id = shown.id),
        (SELECT MAX(r.revision) FROM {REVISIONS} r JOIN linked ON r.incident_id = linked.id),
        (SELECT COUNT(*) FROM linked)"""


PAGE_REVISIONS = _page_revisions("%s")
# PostgreSQL plans that query in about 3 ms, ten times what it takes to run, and it is asked on
# every read of an incident's page: inside a PL/pgSQL function its plan is kept for the session
# (connections last, DJANGO_CONN_MAX_AGE), and a call costs what a small query does (0.17 ms a
# round trip here, measured on 30 November 2026 against the same function written as separate
# statements).
PAGE_REVISIONS_FUNCTION = f"""
CREATE OR REPLACE FUNCTION incidents_page_revisions(page_slug text,
    OUT is_published bigint, OUT own bigint, OUT greatest_linked bigint, OUT linked_number bigint)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    SELECT * INTO is_published, own, greatest_linked, linked_number
    FROM ({_page_revisions("page_slug")}) AS page;
END $$"""

# An incident's revision outlives it (``IncidentRevision`` has no foreign key): the revisions of
# incidents deleted since are removed by ``forget_deleted_incidents``.
FORGET_DELETED = (
    f"DELETE FROM {REVISIONS} WHERE NOT EXISTS "
    f"(SELECT 1 FROM {INCIDENTS} i WHERE i.id = {REVISIONS}.incident_id)"
)


def forget_deleted_incidents(using_connection=connection):
    """Remove the revisions of deleted incidents; the number removed (``manage.py
    fold_data_version``, daily). Nothing reads them (a deleted incident has no page), and an
    incident's number is never given again; a deletion not yet committed is not seen, so its
    incident's revision stays until the next run."""
    with using_connection.cursor() as cursor:
        cursor.execute(FORGET_DELETED)
        return cursor.rowcount


NOW = {
    "postgresql": "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
    "sqlite": "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)",
}


def _moved_on(vendor, ids):
    """The statement that moves on the revisions of the incidents ``ids`` (a SELECT or a list)."""
    greater = "GREATEST" if vendor == "postgresql" else "max"
    upsert = (
        "ON CONFLICT (incident_id) DO UPDATE "
        f"SET revision = {greater}({REVISIONS}.revision + 1, excluded.revision)"
    )
    if vendor == "postgresql":
        # Each incident once (an upsert may not reach a row twice; the clock differs row by row),
        # in their order: two statements moving the same revisions never wait in a circle.
        return (
            f"INSERT INTO {REVISIONS} (incident_id, revision) "
            f"SELECT incident, {NOW[vendor]} FROM (SELECT DISTINCT incident FROM ({ids}) AS named (incident) "
            f"WHERE incident IS NOT NULL) AS once ORDER BY incident {upsert}"
        )
    # SQLite: INSERT … SELECT … ON CONFLICT needs a WHERE to be read as an upsert.
    return f"INSERT INTO {REVISIONS} (incident_id, revision) SELECT {ids}, {NOW[vendor]} WHERE true {upsert}"


def _function(table, column):
    """PostgreSQL: the function moving on the revisions a statement on ``table`` names."""
    written, removed = (f"SELECT {column} FROM {rows}" for rows in ("written", "removed"))
    return f"""
CREATE OR REPLACE FUNCTION {table}_revised() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_moved_on("postgresql", written)};
    ELSIF TG_OP = 'DELETE' THEN
        {_moved_on("postgresql", removed)};
    ELSE
        {_moved_on("postgresql", f"{written} UNION {removed}")};
    END IF;
    RETURN NULL;
END $$"""


FUNCTIONS = {
    **{f"{table}_revised": _function(table, column) for table, column in NAMING.items()},
    "incidents_page_revisions": PAGE_REVISIONS_FUNCTION,
}


def _postgresql():
    for table in NAMING:
        # Transition tables: one trigger per event; a statement's rows, one statement.
        for event, tables in (
            ("INSERT", "NEW TABLE AS written"),
            ("UPDATE", "OLD TABLE AS removed NEW TABLE AS written"),
            ("DELETE", "OLD TABLE AS removed"),
        ):
            trigger = f"{table}_{event.lower()}_revision"
            yield (
                table,
                trigger,
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} REFERENCING {tables} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_revised()",
            )


def _sqlite():
    for table, column in NAMING.items():
        for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
            moved = " ".join(f"{_moved_on('sqlite', f'{row}.{column}')};" for row in rows)
            trigger = f"{table}_{event.lower()}_revision"
            yield (
                table,
                trigger,
                f"CREATE TRIGGER {trigger} AFTER {event} ON {table} FOR EACH ROW BEGIN {moved} END",
            )


REVISION_TRIGGERS = triggers.Triggers(
    triggers=lambda vendor: {"postgresql": _postgresql, "sqlite": _sqlite}.get(vendor, tuple)(),
    functions=FUNCTIONS,
    column=(REVISIONS, "revision"),
)
