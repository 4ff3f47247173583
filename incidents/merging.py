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
    """The review queue after ``remove`` is merged into ``keep``.

    The removed incident's own questions stay in the queue as a record, naming it and the
    incident it became (``merged_incident``): merged into ``keep``, its event is that incident,
    so the question about ``keep`` is answered "the same event" and its other open questions "a
    different event", by the person who merged; questions answered before keep their answer.
    Questions that had ``remove`` as their candidate now ask about ``keep``; one the queue
    already asks about ``keep`` goes with ``remove``, and so does the question about these two
    asked the other way round (the candidate merged into the imported incident: the kept
    incident's history records the merge).
    """
    now = timezone.now()
    Decision = PossibleMatch.Decision
    own = PossibleMatch.objects.filter(incident=remove)
    own.filter(candidate=keep).update(decision=Decision.ATTACHED, decided_by=user, decided_at=now)
    own.filter(decision=Decision.OPEN).update(decision=Decision.SEPARATE, decided_by=user, decided_at=now)
    own.update(incident=None, merged_incident=_merged_description(remove, keep))
    PossibleMatch.objects.filter(incident=keep, candidate=remove).delete()
    for match in PossibleMatch.objects.filter(candidate=remove):
        # A record of an incident merged away earlier always moves (it asks nothing any more).
        asked = match.incident_id is not None and (
            PossibleMatch.objects.filter(incident=match.incident_id, candidate=keep).exists()
        )
        if not asked:
            PossibleMatch.objects.filter(pk=match.pk).update(candidate=keep)


def _merged_description(remove, keep):
    """``merged_incident``: "ucdp-502 “One-sided violence …”, merged into idlib-shelling-…"."""
    into = f"”, merged into {keep.slug}"
    room = PossibleMatch._meta.get_field("merged_incident").max_length - len(remove.slug) - len(into) - 2
    title = remove.title if len(remove.title) <= room else remove.title[: room - 1] + "…"
    return f"{remove.slug} “{title}{into}"


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
