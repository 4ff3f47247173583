"""Editorial workflow: the one place where an incident's status changes, restoring deleted
records, and the public corrections to figures readers have seen.

Every change is kept by django-simple-history (who, when, what); these functions read and
write it so that the admin and the public pages stay thin. ``Incident.save()`` and
``Incident.objects.update()`` never write the status; only ``_change_status`` below does.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext_lazy as _

from incidents import dataversion, tolls
from incidents.figures import Figure
from incidents.history import write_history
from incidents.models import Actor, Attribution, Incident, Source, TollReport, Victim
from incidents.models.victims import describe
from incidents.remembered import Remembered
from incidents.roles import can_publish, can_release_names
from incidents.templatetags.bilingual import text_in_page_language

# Reports deleted this close to their incident were deleted with it (a cascade).
CASCADE_WINDOW = datetime.timedelta(minutes=1)

# A change to one of these in a report readers have seen is a correction.
CORRECTED_FIELDS = ["killed", "killed_qualifier", "killed_upper", "source_id", "published_on"]


def publish_incident(*, incident, user, via=None):
    """Publish a draft, recording who (or which command, ``via``) and when. True if it was a draft."""
    changed = publish_incidents(incidents=Incident.objects.filter(pk=incident.pk), user=user, via=via)
    incident.refresh_from_db(fields=[*Incident.WORKFLOW_FIELDS, "version", "updated_at"])
    return changed == 1


def unpublish_incident(*, incident, user, via=None):
    """Take an incident back to draft. True if it was published."""
    changed = _change_status(
        Incident.objects.filter(pk=incident.pk), to=Incident.Status.DRAFT, user=user, via=via
    )
    incident.refresh_from_db(fields=[*Incident.WORKFLOW_FIELDS, "version", "updated_at"])
    return changed == 1


def publish_incidents(*, incidents, user, via=None, keep_history=True):
    """Publish the drafts among ``incidents`` (a QuerySet); how many were drafts.

    ``user`` is the editor, or None for a management command named by ``via``. Without
    ``keep_history`` (synthetic benchmark data only) no history row is written.
    """
    return _change_status(
        incidents, to=Incident.Status.PUBLISHED, user=user, via=via, keep_history=keep_history
    )


def unpublish_incidents(*, incidents, user, via=None):
    return _change_status(incidents, to=Incident.Status.DRAFT, user=user, via=via)


def _change_status(incidents, *, to, user, via, keep_history=True):
    if user is None and not via:
        raise ValueError("Say which command changes the status (via=...) when no user does.")
    if user is not None and not can_publish(user):
        raise PermissionDenied("Only editors can publish or unpublish incidents.")
    values = {"status": to}
    if to == Incident.Status.PUBLISHED:
        values.update(published_at=timezone.now(), published_by=user)
    reason = "Published" if to == Incident.Status.PUBLISHED else "Unpublished"
    if via:
        reason += f" by manage.py {via}"
    with transaction.atomic():
        # Locked, then written only where the status still differs: of two editors publishing the
        # same draft at the same moment, one publishes and the other finds nothing to do.
        ids = list(
            incidents.exclude(status=to)
            .select_for_update(no_key=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        changed = Incident.objects.filter(pk__in=ids)
        if keep_history:
            # As a save records a change: the version moved on, the time of the change, and a
            # history row by ``user`` copied from the row as stored (its new status, and its
            # alleged perpetrators and claims), for all of them at once.
            changed._write_status(**values, updated_at=timezone.now(), version=F("version") + 1)
            write_history(Incident, ids, history_type="~", reason=reason, user=user)
        else:
            changed._write_status(**values)
        tolls.recount(ids)  # the month, place and source totals count published incidents only
    return len(ids)


def set_victims_public(*, victims, user, public=True, via=None):
    """Release the names of ``victims`` (a QuerySet) for publication, or hide them again with
    ``public=False``: the one place ``Victim.is_public`` is written. How many changed.

    ``user`` is the editor, or None for a management command named by ``via``. Each change is
    kept in the person's history (who, when).
    """
    if user is None and not via:
        raise ValueError("Say which command releases names (via=...) when no user does.")
    if user is not None and not can_release_names(user):
        raise PermissionDenied("Only editors can release or hide the names of victims.")
    reason = "Name released" if public else "Name hidden"
    if via:
        reason += f" by manage.py {via}"
    with transaction.atomic():
        incident_ids = set(victims.values_list("incident_id", flat=True))
        tolls.lock(incident_ids)
        ids = list(
            victims.exclude(is_public=public).select_for_update().order_by("pk").values_list("pk", flat=True)
        )
        Victim.objects.filter(pk__in=ids)._write_public(public)
        for victim in Victim.objects.filter(pk__in=ids):
            victim._history_user = user
            victim._change_reason = reason
            victim.save(update_fields=["updated_at"])  # the history row, with the stored is_public
    return len(ids)


@dataclass(frozen=True)
class Correction:
    day: datetime.date
    sentence: str


def _figure(record):
    return Figure(record.killed_qualifier, record.killed, record.killed_upper).as_stated()


def _shown_figure(record):
    """The figure in the page's language, for the public corrections note ("at least 89")."""
    return Figure(record.killed_qualifier, record.killed, record.killed_upper).in_words()


def _on(day, change):
    """A correction's sentence: "On 14 November 2023 a figure was corrected …"."""
    return Correction(
        day, gettext("On %(date)s %(change)s.") % {"date": date_format(day, "j F Y"), "change": change}
    )


# The corrections of incidents lately shown, by incident, its revision, the labels version and
# the language (each process): after each revision of an incident its page, its Arabic page and
# its API record are rendered again, and each read every correction since its publication from
# the history again (a page revised all day lists one per revision).
CORRECTIONS_KEPT = Remembered(size=256)


def corrections_on_its_page(incident):
    """``corrections(incident)`` for the incident whose own page or API record is being rendered
    (only: the key is that page's).

    Kept while a reader's page of it is rendered: the public cache read the incident's revision
    and the labels version for that page (``dataversion.READ_FOR_THIS_PAGE``) before these are
    read, so they are never older than that key; both move with every change the corrections
    show (the incident's rows beneath it, with their history, in the same transaction; the
    names of its sources and actors). Read afresh anywhere else (staff pages).
    """
    version = dataversion.READ_FOR_THIS_PAGE.get()
    if version is None or version.incident is None or not dataversion.settled():
        return corrections(incident)
    own_revision = version.incident[0]
    key = (incident.pk, own_revision, version.labels, version.labels_changed_at, get_language())
    return CORRECTIONS_KEPT.get(key, lambda: tuple(corrections(incident)))


def corrections(incident):
    """Changes to what readers were shown, after publication, oldest first. Eight queries.

    A report edited, deleted, restored or moved to or from another incident; a source or an
    alleged perpetrator renamed; an attribution or a person identified changed, removed or
    restored. A new report from a source is a revision (shown in its history), not a correction.
    """
    if not incident.published_at:
        return []
    since = incident.published_at
    records = list(
        TollReport.history.filter(
            id__in=TollReport.history.filter(incident_id=incident.pk).values("id")
        ).order_by("id", "history_date", "history_id")
    )
    source_ids = {r.source_id for r in records}
    renames = _renames(Source.history.filter(id__in=source_ids), since, "source", lambda r: r.name)
    labels = {s.pk: text_in_page_language(s, "label") for s in Source.objects.filter(pk__in=source_ids)}
    named = Q(id__in=Incident.perpetrators.through.objects.filter(incident_id=incident.pk).values("actor_id"))
    named |= Q(id__in=Incident.claimed_by.through.objects.filter(incident_id=incident.pk).values("actor_id"))
    renames += _renames(Actor.history.filter(named), since, "actor", lambda r: r.name)

    found = list(renames)
    by_report = defaultdict(list)
    for record in records:
        by_report[record.id].append(record)
    for history in by_report.values():
        for before, record in zip(history, history[1:], strict=False):
            if record.history_date <= since:
                continue
            sentence = _report_change(incident.pk, before, record, labels)
            if sentence:
                found.append(_on(timezone.localtime(record.history_date).date(), sentence))
    found += _attribution_corrections(incident.pk, since)
    found += _victim_corrections(incident.pk, since)
    return sorted(found, key=lambda c: c.day)


# A change to one of these in a person readers were shown is a correction. The name is one,
# but the sentence never says it: corrections are public, and a name may be hidden again.
VICTIM_FIELDS = ["name", "name_ar", "sex", "age", "age_group", "status", "date_of_death"]


def _victim_corrections(incident_pk, since):
    """People readers were shown who were removed, restored, moved or corrected after publication,
    each by description only ("a child aged 2, civilian"), never by name. One query.

    A person added to the list is news, not a correction; nor is a name released or hidden.
    """
    rows = Victim.history.model._default_manager
    history = rows.filter(id__in=rows.filter(incident_id=incident_pk).values("id"))

    def who(record):
        return describe(record.sex, record.age, record.age_group, record.status)

    found, previous = [], {}
    for record in history.order_by("id", "history_date", "history_id"):
        before = previous.get(record.id)
        previous[record.id] = record
        if record.history_date <= since or before is None:
            continue
        was_here = before.incident_id == incident_pk and before.history_type != "-"
        is_here = record.incident_id == incident_pk and record.history_type != "-"
        shown = record  # the person as the list now shows them, or as it last did
        if before.history_type == "-" and is_here:
            sentence = gettext("a person identified (%(person)s) was restored to the list")
        elif was_here and record.history_type == "-":
            sentence, shown = gettext("a person identified (%(person)s) was removed from the list"), before
        elif was_here and not is_here:
            sentence, shown = (
                gettext("a person identified (%(person)s) was moved to another incident"),
                before,
            )
        elif is_here and not was_here:
            sentence = gettext("a person identified (%(person)s) was moved here from another incident")
        elif was_here and any(getattr(record, f) != getattr(before, f) for f in VICTIM_FIELDS):
            sentence = gettext("the record of a person identified was corrected (now: %(person)s)")
        else:
            continue
        found.append(_on(timezone.localtime(record.history_date).date(), sentence % {"person": who(shown)}))
    return found


ATTRIBUTION_FIELDS = ["actor_id", "source_id", "stance", "published_on"]
# "MoH alleged the IDF": what an attribution said, in the page's language.
STANCE_WORDS = {
    "alleged": _("%(source)s alleged %(actor)s"),
    "claimed": _("%(source)s claimed %(actor)s"),
    "denied": _("%(source)s denied %(actor)s"),
}


def _attribution_corrections(incident_pk, since):
    """Attributions readers saw that were changed, removed, restored or moved to or from another
    incident after publication (a new attribution is a new statement, not a correction). Three
    queries, however many there are."""
    # The history model's plain manager, so that the ids below are a subquery (simple-history's
    # own manager would read them into a list first, a query fewer only when there is none).
    rows = Attribution.history.model._default_manager
    history = rows.filter(id__in=rows.filter(incident_id=incident_pk).values("id"))
    records = list(history.order_by("id", "history_date", "history_id"))
    actors = Actor.objects.filter(pk__in=history.values("actor_id"))
    names = {("actor", a.pk): text_in_page_language(a, "name") for a in actors}
    sources = Source.objects.filter(pk__in=history.values("source_id"))
    names |= {("source", s.pk): text_in_page_language(s, "label") for s in sources}

    def said(record):
        return STANCE_WORDS[record.stance] % {
            "source": names.get(("source", record.source_id)) or pgettext("someone unnamed", "a source"),
            "actor": names.get(("actor", record.actor_id)) or pgettext("someone unnamed", "an actor"),
        }

    found, previous = [], {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        if record.history_date <= since:
            continue
        is_here = record.incident_id == incident_pk and record.history_type != "-"
        if before is None:
            # Made before history was kept (e.g. by a migration): a removal still shows.
            removed = gettext("the attribution “%(said)s” was removed") % {"said": said(record)}
            sentence = removed if record.history_type == "-" else None
        else:
            was_here = before.incident_id == incident_pk and before.history_type != "-"
            sentence = _attribution_change(before, record, was_here, is_here, said)
        if sentence and (record.incident_id == incident_pk or (before and before.incident_id == incident_pk)):
            found.append(_on(timezone.localtime(record.history_date).date(), sentence))
    return found


def _attribution_change(before, record, was_here, is_here, said):
    if before.history_type == "-" and is_here:
        return gettext("the attribution “%(said)s” was restored") % {"said": said(record)}
    if was_here and record.history_type == "-":
        return gettext("the attribution “%(said)s” was removed") % {"said": said(before)}
    if was_here and not is_here:
        return gettext("the attribution “%(said)s” was moved to another incident") % {"said": said(before)}
    if is_here and not was_here:
        return gettext("the attribution “%(said)s” was moved here from another incident") % {
            "said": said(record)
        }
    if was_here and any(getattr(record, f) != getattr(before, f) for f in ATTRIBUTION_FIELDS):
        return gettext("an attribution was corrected from “%(before)s” to “%(after)s”") % {
            "before": said(before),
            "after": said(record),
        }
    return None


@dataclass(frozen=True)
class ReportChange:
    record: object  # the history row
    source: str
    what: str
    figure: str


REPORT_CHANGE_WORDS = {"+": "added", "~": "changed", "-": "deleted"}


def report_changes(incident_pk, limit=500):
    """Every history row of the reports that are or were on the incident, newest first, for the
    admin's history page. Two queries."""
    records = list(
        TollReport.history.filter(id__in=TollReport.history.filter(incident_id=incident_pk).values("id"))
        .select_related("history_user")
        .order_by("-history_date", "-history_id")[:limit]
    )
    labels = {s.pk: s.label for s in Source.objects.filter(pk__in={r.source_id for r in records})}
    changes = []
    for record in records:
        what = REPORT_CHANGE_WORDS[record.history_type]
        if str(record.incident_id) != str(incident_pk):
            what = f"{what}, on another incident"
        if record.history_change_reason:
            what = f"{what} ({record.history_change_reason})"
        changes.append(ReportChange(record, labels.get(record.source_id, "?"), what, _figure(record)))
    return changes


def _report_change(incident_pk, before, record, labels):
    """What a reader would see change between two history rows of one report, or None (in the
    page's language; the figures as the page shows them)."""
    label = labels.get(before.source_id) or pgettext("someone unnamed", "a source")
    was_here = before.incident_id == incident_pk and before.history_type != "-"
    is_here = record.incident_id == incident_pk and record.history_type != "-"
    if before.history_type == "-" and is_here:
        return gettext("the figure from %(source)s (%(figure)s) was restored") % {
            "source": labels.get(record.source_id, label),
            "figure": _shown_figure(record),
        }
    if was_here and record.history_type == "-":
        return gettext("the figure from %(source)s (%(figure)s) was removed") % {
            "source": label,
            "figure": _shown_figure(before),
        }
    if was_here and not is_here:
        return gettext("the figure from %(source)s (%(figure)s) was moved to another incident") % {
            "source": label,
            "figure": _shown_figure(before),
        }
    if is_here and not was_here:
        return gettext("a figure from %(source)s (%(figure)s) was moved here from another incident") % {
            "source": labels.get(record.source_id, label),
            "figure": _shown_figure(record),
        }
    if was_here and any(getattr(record, f) != getattr(before, f) for f in CORRECTED_FIELDS):
        words = {
            "source": label,
            "before": _shown_figure(before),
            "new_source": labels.get(record.source_id, label),
            "after": _shown_figure(record),
        }
        if record.published_on != before.published_on:
            return gettext(
                "a figure was corrected from %(source)s: %(before)s to %(new_source)s: %(after)s "
                "(published %(date)s)"
            ) % {**words, "date": date_format(record.published_on, "j F Y")}
        return (
            gettext("a figure was corrected from %(source)s: %(before)s to %(new_source)s: %(after)s") % words
        )
    return None


# "the source “MoH” was renamed “Ministry of Health”"
RENAMED = {
    "source": _("the source “%(before)s” was renamed “%(after)s”"),
    "actor": _("the actor “%(before)s” was renamed “%(after)s”"),
}


def _renames(history, since, what, name_of):
    """Corrections for renames after ``since`` among ``history`` rows (one query). ``what``:
    "source" or "actor"."""
    found = []
    previous = {}
    for record in history.order_by("id", "history_date", "history_id"):
        before = previous.get(record.id)
        previous[record.id] = record
        if before is None or record.history_date <= since or record.history_type != "~":
            continue
        if name_of(before) != name_of(record):
            renamed = RENAMED[what] % {"before": name_of(before), "after": name_of(record)}
            found.append(_on(timezone.localtime(record.history_date).date(), renamed))
    return found


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


def deleted_victims():
    """Deleted people whose incident still exists, newest first (one query). People deleted with
    their incident come back when the incident is restored."""
    return _latest_per_record(
        Victim.history.filter(history_type="-", incident_id__in=Incident.objects.values("pk")).exclude(
            id__in=Victim.objects.values("pk")
        )
    )


def _latest_per_record(deletions):
    """A record deleted, restored and deleted again is listed once."""
    latest = {}
    for deletion in deletions.order_by("-history_date", "-history_id"):
        latest.setdefault(deletion.id, deletion)
    return list(latest.values())


def _require_editor(user):
    if not can_publish(user):
        raise PermissionDenied("Only editors can restore deleted records.")


@transaction.atomic
def restore_incident(*, deletion, user):
    """Bring back a deleted incident, as a draft, with the reports and attributions deleted with
    it (its alleged perpetrators and claims follow from them). None if it exists already."""
    _require_editor(user)
    if Incident.objects.filter(pk=deletion.id).exists():
        return None
    incident = deletion.instance
    incident.status = Incident.Status.DRAFT  # an editor republishes after checking
    if incident.part_of_id and not Incident.objects.filter(pk=incident.part_of_id).exists():
        incident.part_of = None  # its whole was deleted since: it comes back on its own
    incident._history_user = user
    incident._change_reason = "Restored after deletion"
    incident.save()
    for model in (TollReport, Attribution, Victim):  # reports first: an attribution may point to one
        cascade = model.history.filter(
            incident_id=incident.pk,
            history_type="-",
            history_date__gte=deletion.history_date - CASCADE_WINDOW,
            history_date__lte=deletion.history_date + CASCADE_WINDOW,
        )
        for record in _latest_per_record(cascade.exclude(id__in=model.objects.values("pk"))):
            _save_restored(record, user)
    tolls.refresh([incident.pk])
    incident.refresh_from_db()
    return incident


@transaction.atomic
def restore_report(*, deletion, user):
    """Bring back a deleted report on an incident that exists. None if it exists already."""
    _require_editor(user)
    if TollReport.objects.filter(pk=deletion.id).exists():
        return None
    if not Incident.objects.filter(pk=deletion.incident_id).exists():
        raise ValueError("Restore its incident first: the report belongs to a deleted incident.")
    return _save_restored(deletion, user)


@transaction.atomic
def restore_victim(*, deletion, user):
    """Bring back a deleted person on an incident that exists, their name hidden until an editor
    releases it again. None if they exist already."""
    _require_editor(user)
    if Victim.objects.filter(pk=deletion.id).exists():
        return None
    if not Incident.objects.filter(pk=deletion.incident_id).exists():
        raise ValueError("Restore its incident first: the person belongs to a deleted incident.")
    return _save_restored(deletion, user)


def _save_restored(record, user):
    """Save a deleted report, attribution or person again from its last history row (a person's
    name comes back hidden: ``Victim.save`` never releases one)."""
    restored = record.instance
    gone = isinstance(restored, Attribution) and restored.report_id
    if gone and not TollReport.objects.filter(pk=restored.report_id).exists():
        restored.report = None  # its report is gone for good
    restored._history_user = user
    restored._change_reason = "Restored after deletion"
    restored.save()
    return restored
