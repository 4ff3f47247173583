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
    _move_possible_matches(keep, remove, user)
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


def _move_possible_matches(keep, remove, user):
    """The review queue after ``remove`` is merged into ``keep``: every decision stays on record.

    The removed incident's own questions stay in the queue, naming it (``merged_incident``):
    merged into ``keep``, its event is that incident, so the question about ``keep`` is answered
    "the same event" and its other open questions "a different event", by the person who
    merged. Questions that had ``remove`` as their candidate now ask about ``keep``.
    """
    merged = f"{remove.slug} “{remove.title}”"[:300]
    now = timezone.now()
    Decision = PossibleMatch.Decision
    own = PossibleMatch.objects.filter(incident=remove)
    own.filter(candidate=keep).update(decision=Decision.ATTACHED, decided_by=user, decided_at=now)
    own.filter(decision=Decision.OPEN).update(decision=Decision.SEPARATE, decided_by=user, decided_at=now)
    own.update(incident=None, merged_incident=merged)
    # The other way round (a candidate merged into the imported incident), the question goes
    # with the candidate's deletion: the kept incident's history records the merge.
    PossibleMatch.objects.filter(incident=keep, candidate=remove).delete()
    for match in PossibleMatch.objects.filter(candidate=remove):
        if not PossibleMatch.objects.filter(incident=match.incident_id, candidate=keep).exists():
            PossibleMatch.objects.filter(pk=match.pk).update(candidate=keep)
        # Else the queue already asks it about ``keep``: this one goes with ``remove``.


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
