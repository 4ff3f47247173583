"""What every record model shares: validation left to clean(), dates, optimistic locking."""

from django.db import models, transaction
from django.db.models import CheckConstraint, F
from django.utils import timezone


def today():
    return timezone.localdate()


class RulesInCleanMixin:
    """Leave CheckConstraints to the database when validating a form.

    Each CheckConstraint repeats a rule that ``clean()`` already explains on the
    field that is wrong; validating it again in ``full_clean()`` would only add a
    second, vaguer message ("Constraint ... is violated").
    """

    def get_constraints(self):
        return [
            (model, [c for c in constraints if not isinstance(c, CheckConstraint)])
            for model, constraints in super().get_constraints()
        ]


class OfAnIncident:
    """For the rows beneath an incident (reports, attributions): their writes lock the incident
    first (``tolls.lock``), then refresh its derived data (``tolls.refresh``)."""

    def lock_incidents(self):
        """Lock the incident this row is on now and the one it was stored on; the stored one's id."""
        from incidents import tolls

        stored = None
        if self.pk:
            stored = type(self)._base_manager.filter(pk=self.pk).values_list("incident_id", flat=True).first()
        tolls.lock({stored, self.incident_id})
        return stored


class OfAnIncidentQuerySet(models.QuerySet):
    """Bulk writes of rows beneath an incident (reports, attributions) obey what a save does:
    the incidents are locked first, history rows are written (a delete's are: Django sends its
    signals), and the one writer of derived data refreshes every incident touched."""

    def delete(self):
        from incidents import tolls

        with transaction.atomic():
            incident_ids = set(self.values_list("incident_id", flat=True))
            tolls.lock(incident_ids)
            result = super().delete()
            tolls.refresh(incident_ids)
        return result

    def update(self, **values):
        from incidents import tolls

        moved_to = values.get("incident_id", values.get("incident"))
        with transaction.atomic():
            touched = dict(self.values_list("pk", "incident_id"))
            tolls.lock({*touched.values(), getattr(moved_to, "pk", moved_to)})
            updated = super().update(**values)
            changed = list(self.model._base_manager.filter(pk__in=touched))
            self.model.history.bulk_history_create(changed, update=True, default_change_reason="Bulk update")
            tolls.refresh({*touched.values(), *(row.incident_id for row in changed)})
        return updated

    def bulk_create(self, objs, *args, **kwargs):
        from incidents import tolls

        with transaction.atomic():
            created = super().bulk_create(objs, *args, **kwargs)
            self.model.history.bulk_history_create(created, batch_size=kwargs.get("batch_size"))
            tolls.refresh({row.incident_id for row in created})
        return created


class EditConflict(Exception):
    """Someone saved the record after this edit started from it (see ``Versioned.claim_version``)."""


class Versioned(models.Model):
    """A version number that every save moves on, so that no save overwrites a newer one.

    A form that edits a record claims the version it started from (``claim_version``): one
    conditional UPDATE, inside the transaction that then saves. Under PostgreSQL's row lock a
    second editor's claim of the same version waits for the first to commit, then matches no
    row, so exactly one of two same-moment saves wins. Saves made without a claim (scripts,
    imports) move the version on too, so an editor who opened the record before them is told.
    """

    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    def claim_version(self, expected):
        """Move the stored version from ``expected`` to the next one, or raise ``EditConflict``."""
        claimed = (
            type(self)._base_manager.filter(pk=self.pk, version=expected).update(version=F("version") + 1)
        )
        if not claimed:
            raise EditConflict
        self.version = expected + 1
        self._version_claimed = True

    def move_version_on(self):
        """For a save without a claim: one UPDATE, then the new number is read back."""
        if getattr(self, "_version_claimed", False):
            self._version_claimed = False
            return
        manager = type(self)._base_manager
        manager.filter(pk=self.pk).update(version=F("version") + 1)
        self.version = manager.filter(pk=self.pk).values_list("version", flat=True).first() or 1
