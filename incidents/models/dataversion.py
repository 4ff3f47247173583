from django.db import models


class DataVersion(models.Model):
    """How many writes to the public data have been committed, counted per database session.

    Public pages are cached under the data version (the sum of ``changes``): a write bumps it in
    the same transaction (incidents/dataversion.py), so a page cached under a version never lacks
    a change committed before that version could be read. One row per writer (PostgreSQL's
    backend process id; one row on SQLite, whose writers take turns anyway) means two writers
    never wait on each other's row, so the bump can neither slow a busy crisis day nor deadlock.
    """

    writer = models.BigIntegerField(primary_key=True)
    changes = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = "data version"

    def __str__(self):
        return f"writer {self.writer}: {self.changes} changes, the last at {self.changed_at}"
