"""History rows for a batch of imported records, written as django-simple-history writes them.

``HistoryManager.bulk_history_create`` builds a historical model instance per row and asks each
record for its history user and change reason; for an import of hundreds of thousands of rows
that was most of the time. This writes the same columns (the tracked fields, ``history_date``,
``history_type``, ``history_change_reason``, no user) with multi-row INSERTs.
"""

from django.db import connection
from django.utils import timezone

ROWS_PER_INSERT = 400  # about 40 columns a row: within SQLite's limit of variables per statement


def write_history(model, records, *, history_type, reason):
    """One history row per record of ``model`` (``+`` created, ``~`` changed), by an import."""
    if not records:
        return
    historical = model.history.model
    tracked = [historical._meta.get_field(field.attname) for field in historical.tracked_fields]
    extra = [
        historical._meta.get_field(name) for name in ("history_date", "history_type", "history_change_reason")
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [*tracked, *extra])
    row_sql = f"({', '.join(['%s'] * (len(tracked) + len(extra)))})"
    now = extra[0].get_db_prep_save(timezone.now(), connection)
    prepared = [(field.attname, field.get_db_prep_save) for field in tracked]
    rows = [
        [prep(getattr(record, attname), connection) for attname, prep in prepared]
        + [now, history_type, reason]
        for record in records
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            values = ", ".join([row_sql] * len(chunk))
            # Only our own table and column names, quoted; every value is a parameter.
            sql = f"INSERT INTO {quote(historical._meta.db_table)} ({columns}) VALUES {values}"  # noqa: S608
            cursor.execute(sql, [value for row in chunk for value in row])
