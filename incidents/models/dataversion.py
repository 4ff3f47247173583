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
    # The names version (incidents/dataversion.py): counted by database triggers, not by the
    # statement watcher, as only they see which columns a statement changed. A default in the
    # database: the version's own bump leaves it out, so it writes the same before migration 0027.
    names_changes = models.BigIntegerField(db_default=0)
    names_changed_at = models.DateTimeField(null=True)
    # The labels version (the places, sources and actors themselves), counted by the same triggers.
    labels_changes = models.BigIntegerField(db_default=0)
    labels_changed_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = "data version"

    def __str__(self):
        return f"writer {self.writer}: {self.changes} changes, the last at {self.changed_at}"


class IncidentRevision(models.Model):
    """An incident's revision (incidents/revisions.py): written by database triggers only, with
    every write to the incident's row or the rows beneath it. A table of its own, so that the
    application never writes it (a save writes every column of its row) and moving it on never
    writes the incident's wide row again. No foreign key: a constraint checked at commit would
    lock the incident's row too. A row removed with its incident is of no use and does no harm."""

    incident = models.OneToOneField(
        "incidents.Incident",
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="revision",
    )
    revision = models.BigIntegerField()

    class Meta:
        verbose_name = "incident revision"

    def __str__(self):
        return f"incident {self.incident_id}: revision {self.revision}"
