"""Two incidents that are one event: merged by an editor, or an import's possible match decided.

``merge_incidents`` moves everything of the removed incident (reports, attributions, people, parts,
related incidents, possible matches, old addresses) to the kept one through the querysets that
write history and refresh the stored figures, records the merge in both incidents' history,
deletes the removed incident (restorable, like any deletion) and keeps its address working
(``SlugRedirect``).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from incidents import tolls, workflow
from incidents.models import Attribution, Incident, PossibleMatch, SlugRedirect, TollReport, Victim
from incidents.roles import can_publish


@transaction.atomic
def merge_incidents(*, keep, remove, user):
    """Merge ``remove`` into ``keep``; the kept incident, refreshed.

    Only editors merge a published incident (it deletes one that readers have seen). When the
    removed incident was published and the kept one is a draft, the kept one is published (by
    that editor, through the workflow) so that readers still find the event.
    """
    if keep.pk == remove.pk:
        raise ValueError("An incident cannot be merged with itself.")
    tolls.lock([keep.pk, remove.pk])
    keep, remove = Incident.objects.get(pk=keep.pk), Incident.objects.get(pk=remove.pk)
    if (keep.is_published or remove.is_published) and not can_publish(user):
        raise PermissionDenied("Only editors can merge a published incident.")
    if keep.part_of_id == remove.pk:  # the kept incident was a part of the removed one
        keep.part_of_id = remove.part_of_id
        keep._history_user = user
        keep.save()
    Incident.objects.filter(part_of=remove).exclude(pk=keep.pk).update(part_of=keep)
    TollReport.objects.filter(incident=remove).update(incident=keep)
    Attribution.objects.filter(incident=remove).update(incident=keep)
    Victim.objects.filter(incident=remove).update(incident=keep)
    for related in remove.related.exclude(pk=keep.pk):
        keep.related.add(related)
    PossibleMatch.objects.filter(candidate=remove, incident=keep).delete()
    PossibleMatch.objects.filter(incident=remove, candidate=keep).update(
        decision=PossibleMatch.Decision.ATTACHED, decided_by=user, decided_at=timezone.now()
    )
    for match in PossibleMatch.objects.filter(candidate=remove).exclude(incident=keep):
        if not PossibleMatch.objects.filter(incident=match.incident_id, candidate=keep).exists():
            PossibleMatch.objects.filter(pk=match.pk).update(candidate=keep)
    SlugRedirect.objects.filter(incident=remove).update(incident=keep)
    SlugRedirect.objects.create(old_slug=remove.slug, incident=keep)
    keep._history_user = user
    keep._change_reason = f"Merged incident {remove.pk} “{remove.title}” ({remove.slug}) into this one"[:100]
    keep.save()
    was_published = remove.is_published
    remove._history_user = user
    remove._change_reason = f"Merged into incident {keep.pk} “{keep.title}”"[:100]
    remove.delete()
    tolls.refresh([keep.pk])
    if was_published and not keep.is_published:
        workflow.publish_incident(incident=keep, user=user)
    keep.refresh_from_db()
    return keep


@transaction.atomic
def keep_separate(*, match, user):
    """A reviewer says the imported event is not the candidate incident."""
    PossibleMatch.objects.filter(pk=match.pk).update(
        decision=PossibleMatch.Decision.SEPARATE, decided_by=user, decided_at=timezone.now()
    )


def attach(*, match, user):
    """A reviewer says the imported event is the candidate incident: the import's incident is
    merged into the candidate (its report goes beside the others)."""
    return merge_incidents(keep=match.candidate, remove=match.incident, user=user)
