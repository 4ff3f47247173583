"""Editorial workflow: publishing, corrections after publication, and restoring deleted records.

Every change is kept by django-simple-history (who, when, what); these functions read and
write it so that the admin and the public pages stay thin.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from incidents.figures import Figure
from incidents.models import Incident, Source, TollReport

# Reports deleted this close to their incident were deleted with it (a cascade).
CASCADE_WINDOW = datetime.timedelta(minutes=1)

FIGURE_FIELDS = ["killed", "killed_qualifier", "killed_upper", "source_id"]


def can_publish(user):
    return user.has_perm("incidents.publish_incident")


def publish_incident(*, incident, user):
    """Publish a draft, recording who and when. Only editors may."""
    if not can_publish(user):
        raise PermissionDenied("Only editors can publish incidents.")
    if incident.is_published:
        return False
    incident.status = Incident.Status.PUBLISHED
    mark_published(incident, user)
    incident._history_user = user
    incident.save()
    return True


def mark_published(incident, user):
    """Record who published and when (also used when an editor sets the status in the form)."""
    incident.published_at = timezone.now()
    incident.published_by = user
    incident._change_reason = "Published"


def unpublish_incident(*, incident, user):
    """Take an incident back to draft. Only editors may."""
    if not can_publish(user):
        raise PermissionDenied("Only editors can unpublish incidents.")
    if not incident.is_published:
        return False
    incident.status = Incident.Status.DRAFT
    incident._history_user = user
    incident._change_reason = "Unpublished"
    incident.save()
    return True


@dataclass(frozen=True)
class Correction:
    day: datetime.date
    sentence: str


def corrections(incident):
    """Published figures that were changed or removed after publication, oldest first.

    A new report from a source is a revision, shown in its history; a correction is an
    edit or deletion of a report already published. Two queries.
    """
    if not incident.published_at:
        return []
    records = list(
        TollReport.history.filter(incident_id=incident.pk).order_by("id", "history_date", "history_id")
    )
    labels = {s.pk: s.label for s in Source.objects.filter(pk__in={r.source_id for r in records})}
    found = []
    previous_by_report = {}
    for record in records:
        before = previous_by_report.get(record.id)
        previous_by_report[record.id] = record
        if before is None or record.history_date <= incident.published_at:
            continue
        label = labels.get(before.source_id, "a source")
        old = Figure(before.killed_qualifier, before.killed, before.killed_upper).as_stated()
        day = timezone.localtime(record.history_date).date()
        if record.history_type == "-":
            found.append(Correction(day, f"On {day:%-d %B %Y} the figure from {label} ({old}) was removed."))
        elif any(getattr(record, f) != getattr(before, f) for f in FIGURE_FIELDS):
            new = Figure(record.killed_qualifier, record.killed, record.killed_upper).as_stated()
            new_label = labels.get(record.source_id, label)
            found.append(
                Correction(
                    day,
                    f"On {day:%-d %B %Y} a figure was corrected from {label}: {old} to {new_label}: {new}.",
                )
            )
    return sorted(found, key=lambda c: c.day)


def deleted_incidents():
    """The deletion record of each incident that no longer exists, newest first (one query)."""
    return _latest_per_record(
        Incident.history.filter(history_type="-").exclude(id__in=Incident.objects.values("pk"))
    )


def deleted_reports():
    """Deleted reports whose incident still exists, newest first (one query).

    Reports deleted with their incident come back when the incident is restored.
    """
    return _latest_per_record(
        TollReport.history.filter(history_type="-", incident_id__in=Incident.objects.values("pk")).exclude(
            id__in=TollReport.objects.values("pk")
        )
    )


def _latest_per_record(deletions):
    """A record deleted, restored and deleted again is listed once."""
    latest = {}
    for deletion in deletions.order_by("-history_date", "-history_id"):
        latest.setdefault(deletion.id, deletion)
    return list(latest.values())


@transaction.atomic
def restore_incident(*, deletion, user):
    """Bring back a deleted incident with its alleged perpetrators, claims and the reports deleted with it."""
    if not can_publish(user):
        raise PermissionDenied("Only editors can restore deleted records.")
    if Incident.objects.filter(pk=deletion.id).exists():
        return None
    incident = deletion.instance
    incident.status = Incident.Status.DRAFT  # an editor republishes after checking
    incident._history_user = user
    incident._change_reason = "Restored after deletion"
    incident.save()
    previous = deletion.prev_record
    if previous is not None:
        incident.perpetrators.set([row.actor_id for row in previous.perpetrators.all()])
        incident.claimed_by.set([row.actor_id for row in previous.claimed_by.all()])
    cascade = TollReport.history.filter(
        incident_id=incident.pk,
        history_type="-",
        history_date__gte=deletion.history_date - CASCADE_WINDOW,
        history_date__lte=deletion.history_date + CASCADE_WINDOW,
    )
    for record in _latest_per_record(cascade.exclude(id__in=TollReport.objects.values("pk"))):
        _save_restored_report(record, user)
    incident.refresh_figures()
    return incident


@transaction.atomic
def restore_report(*, deletion, user):
    if not can_publish(user):
        raise PermissionDenied("Only editors can restore deleted records.")
    if TollReport.objects.filter(pk=deletion.id).exists():
        return None
    if not Incident.objects.filter(pk=deletion.incident_id).exists():
        raise ValueError("Restore its incident first: the report belongs to a deleted incident.")
    return _save_restored_report(deletion, user)


def _save_restored_report(record, user):
    report = record.instance
    report._history_user = user
    report._change_reason = "Restored after deletion"
    report.save()
    return report
