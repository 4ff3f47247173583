"""Database triggers that keep a version in the same statement as the write they count.

Used where a version must know *which* columns or *which* incidents a write changed, which the
statement watcher of ``incidents.dataversion`` cannot tell: the names version (the filter
menus) and each incident's revision (``incidents.revisions``). A trigger sees every write,
whatever its path (the ORM, raw SQL, an import's COPY, a script), and runs in its transaction.

Each set of triggers is installed by its migration and again after every ``migrate``
(``incidents.dataversion``'s post-migrate handler): SQLite drops a table's triggers when a
migration rebuilds the table, and a later migration must not silently stop a count.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Triggers:
    """``triggers(vendor)``: (table, trigger name, CREATE TRIGGER statement) for each trigger;
    ``functions``: the PostgreSQL functions they call (CREATE OR REPLACE, by name);
    ``column``: (table, column) that exists once their migration has run."""

    triggers: Callable
    functions: dict
    column: tuple

    def install(self, connection):
        """Install (again) every trigger, each replaced by its current definition."""
        vendor = connection.vendor
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                for create in self.functions.values():
                    cursor.execute(create)
            for table, trigger, create in self.triggers(vendor):
                self._drop(cursor, vendor, table, trigger)
                cursor.execute(create)

    def remove(self, connection):
        vendor = connection.vendor
        with connection.cursor() as cursor:
            for table, trigger, _ in self.triggers(vendor):
                self._drop(cursor, vendor, table, trigger)
            if vendor == "postgresql":
                for name in self.functions:
                    cursor.execute(f"DROP FUNCTION IF EXISTS {name}")

    def installable(self, connection):
        """Whether their migration has run on this database (its column exists)."""
        table, column = self.column
        with connection.cursor() as cursor:
            if table not in connection.introspection.table_names(cursor):
                return False
            return any(
                c.name == column for c in connection.introspection.get_table_description(cursor, table)
            )

    @staticmethod
    def _drop(cursor, vendor, table, trigger):
        cursor.execute(
            f"DROP TRIGGER IF EXISTS {trigger}" + (f" ON {table}" if vendor == "postgresql" else "")
        )


def changed(columns, vendor):
    """A trigger's WHEN condition: one of ``columns`` really changed (an editor's save writes
    every column, changed or not)."""
    differs = " IS DISTINCT FROM " if vendor == "postgresql" else " IS NOT "
    return "(" + " OR ".join(f"OLD.{c}{differs}NEW.{c}" for c in columns) + ")"
