"""History rows for a batch of imported records, written as django-simple-history writes them.

``HistoryManager.bulk_history_create`` builds a historical model instance per row and asks each
record for its history user and change reason; for an import of hundreds of thousands of rows
that was most of the time. This writes the same columns (the tracked fields, ``history_date``,
``history_type``, ``history_change_reason``, no user) with multi-row INSERTs (``rows.Table``).
"""

from django.utils import timezone

from incidents.rows import Table


def history_table(model):
    """The ``Table`` of ``model``'s history rows: its tracked fields, the date, type and reason."""
    historical = model.history.model
    fields = [historical._meta.get_field(field.attname) for field in historical.tracked_fields]
    fields += [
        historical._meta.get_field(name) for name in ("history_date", "history_type", "history_change_reason")
    ]
    return Table(historical, fields)


def write_history(model, records, *, history_type, reason):
    """One history row per record of ``model`` (``+`` created, ``~`` changed), by an import.
    ``records`` are ``rows.Row``s (or dicts) holding at least the tracked fields by attname."""
    if not records:
        return
    table = history_table(model)
    extra = {"history_date": timezone.now(), "history_type": history_type, "history_change_reason": reason}
    table.insert({**record, **extra} for record in records)
