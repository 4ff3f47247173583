"""Two incidents that are one event: merged by an editor, or an import's possible match decided.

``merge_incidents`` moves everything of the removed incident (reports, attributions, people, parts,
related incidents, possible matches, old addresses) to the kept one through the querysets that
write history and refresh the stored figures, records the merge in both incidents' history,
deletes the removed incident (restorable, like any deletion) and keeps its address working
(``SlugRedirect``).
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
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
    """The review queue after ``remove`` is merged into ``keep``: its questions move to ``keep``,
    and the decisions stay on record.

    A question about these two is answered (attached: they are one event now). Another about
    ``remove`` becomes one about ``keep``, unless the queue already asks it about ``keep``: then an
    open one goes (it is asked once) and a decided one stays, naming the merged incident.
    """
    merged = f"{remove.slug} “{remove.title}”"[:300]
    PossibleMatch.objects.filter(incident=remove, candidate=keep).update(
        incident=None,
        merged_incident=merged,
        decision=PossibleMatch.Decision.ATTACHED,
        decided_by=user,
        decided_at=timezone.now(),
    )
    # The other way round (the candidate merged into the imported incident), the question goes
    # with the candidate's deletion: the kept incident's history records the merge.
    PossibleMatch.objects.filter(incident=keep, candidate=remove).delete()
    for match in PossibleMatch.objects.filter(Q(incident=remove) | Q(candidate=remove)):
        side = "incident" if match.incident_id == remove.pk else "candidate"
        other = match.candidate_id if side == "incident" else match.incident_id
        asked = PossibleMatch.objects.filter(
            Q(incident=keep, candidate=other) | Q(incident=other, candidate=keep)
        ).exists()
        if not asked:
            PossibleMatch.objects.filter(pk=match.pk).update(**{side: keep})
        elif match.decision == PossibleMatch.Decision.OPEN:
            PossibleMatch.objects.filter(pk=match.pk).delete()
        elif side == "incident":
            PossibleMatch.objects.filter(pk=match.pk).update(incident=None, merged_incident=merged)
        # A decided question about a candidate merged away stays until the candidate's deletion
        # removes it with the rest of that incident (the kept incident has its own answer).


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
