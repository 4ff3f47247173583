"""History rows for many records at once, written as django-simple-history writes them.

``HistoryManager.bulk_history_create`` builds a historical model instance per row and asks each
record for its history user and change reason; for an import of hundreds of thousands of rows,
or the publishing of each of its incidents, that was most of the time. This writes the same
columns (the tracked fields, ``history_date``, ``history_type``, ``history_change_reason``,
``history_user``) straight from the rows as stored, a thousand records to a statement
(``INSERT … SELECT``): each history row holds what is stored. A model whose history keeps
many-to-many fields (an incident's alleged perpetrators and claims) gets them too, as a save
would record them.
"""

from django.db import connection
from django.utils import timezone
from simple_history.models import HistoricalRecords

RECORDS_PER_INSERT = 1000


def write_history(model, ids, *, history_type, reason, user=None, with_m2m=True):
    """One history row for each record of ``model`` in ``ids`` (``+`` created, ``~`` changed),
    copied from the record as stored, by ``user`` (None: a command, named in ``reason``). A
    statement a thousand records, and one more per many-to-many field the history keeps unless
    ``with_m2m`` is off (records just created, whose many-to-many rows do not exist yet)."""
    ids = sorted(ids)
    if not ids:
        return
    historical = model.history.model
    quote = connection.ops.quote_name
    tracked = historical.tracked_fields  # the model's own fields that history keeps
    extra = [
        historical._meta.get_field(name)
        for name in ("history_date", "history_type", "history_change_reason", "history_user")
    ]
    kept = [historical._meta.get_field(field.attname) for field in tracked]
    into = ", ".join(quote(field.column) for field in [*kept, *extra])
    selected = ", ".join(quote(f.column) for f in tracked)
    now = extra[0].get_db_prep_save(timezone.now(), connection)
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    m2m_fields = getattr(historical, "_history_m2m_fields", []) if with_m2m else []
    returning = f" RETURNING {quote(historical._meta.pk.column)}" if m2m_fields else ""
    with connection.cursor() as cursor:
        for start in range(0, len(ids), RECORDS_PER_INSERT):
            chunk = ids[start : start + RECORDS_PER_INSERT]
            # Only our own table and column names, quoted; every value is a parameter.
            sql = (
                f"INSERT INTO {quote(historical._meta.db_table)} ({into}) "  # noqa: S608
                f"SELECT {selected}, %s, %s, %s, %s FROM {table} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(chunk))}) ORDER BY {pk}{returning}"
            )
            cursor.execute(sql, [now, history_type, reason, getattr(user, "pk", user), *chunk])
            if m2m_fields:
                history_ids = [history_id for (history_id,) in cursor.fetchall()]
                for field in m2m_fields:
                    _write_m2m_history(cursor, historical, field, history_ids)


def _write_m2m_history(cursor, historical, field, history_ids):
    """The rows of many-to-many ``field`` of the records whose new history rows are
    ``history_ids``, each under its history row, as simple-history copies them on a save."""
    quote = connection.ops.quote_name
    m2m_history = HistoricalRecords.m2m_models[field]
    through = field.remote_field.through
    own = next(f for f in through._meta.fields if f.is_relation and f.related_model is field.model)
    columns = [f.column for f in through._meta.fields]
    into = ", ".join(quote(c) for c in [*columns, m2m_history._meta.get_field("history").column])
    selected = ", ".join(f"t.{quote(c)}" for c in columns)
    # Only our own table and column names, quoted; every value is a parameter.
    cursor.execute(
        f"INSERT INTO {quote(m2m_history._meta.db_table)} ({into}) "  # noqa: S608
        f"SELECT {selected}, h.{quote(historical._meta.pk.column)} "
        f"FROM {quote(through._meta.db_table)} t JOIN {quote(historical._meta.db_table)} h "
        f"ON h.{quote(historical._meta.get_field('id').column)} = t.{quote(own.column)} "
        f"WHERE h.{quote(historical._meta.pk.column)} IN ({', '.join(['%s'] * len(history_ids))})",
        history_ids,
    )
