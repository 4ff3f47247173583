"""History rows for a batch of imported records, written as django-simple-history writes them.

``HistoryManager.bulk_history_create`` builds a historical model instance per row and asks each
record for its history user and change reason; for an import of hundreds of thousands of rows
that was most of the time. This writes the same columns (the tracked fields, ``history_date``,
``history_type``, ``history_change_reason``, no user) straight from the rows just written, a
thousand records to a statement (``INSERT … SELECT``): each history row holds what is stored.
"""

from django.db import connection
from django.utils import timezone

RECORDS_PER_INSERT = 1000


def write_history(model, ids, *, history_type, reason):
    """One history row for each record of ``model`` in ``ids`` (``+`` created, ``~`` changed), by
    an import, copied from the record as stored."""
    ids = sorted(ids)
    if not ids:
        return
    historical = model.history.model
    quote = connection.ops.quote_name
    tracked = historical.tracked_fields  # the model's own fields that history keeps
    extra = [
        historical._meta.get_field(name) for name in ("history_date", "history_type", "history_change_reason")
    ]
    kept = [historical._meta.get_field(field.attname) for field in tracked]
    into = ", ".join(quote(field.column) for field in [*kept, *extra])
    selected = ", ".join(quote(f.column) for f in tracked)
    now = extra[0].get_db_prep_save(timezone.now(), connection)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), RECORDS_PER_INSERT):
            chunk = ids[start : start + RECORDS_PER_INSERT]
            # Only our own table and column names, quoted; every value is a parameter.
            sql = (
                f"INSERT INTO {quote(historical._meta.db_table)} ({into}) "  # noqa: S608
                f"SELECT {selected}, %s, %s, %s FROM {table} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))}) ORDER BY {pk}"
            )
            cursor.execute(sql, [now, history_type, reason, *chunk])
