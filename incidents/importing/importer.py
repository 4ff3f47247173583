"""Saving a dataset's events, a batch at a time, through the same rules as any other write.

For each batch of mapped rows: places and actors are found (or made) in memory (``places``;
the new places written in one go), each event's existing report is looked up by its event id
(one query), the incident each new event describes is looked for (``matching``, one query),
every new or changed record is checked row by row with its model's rules (a bad row is skipped
with its reason), then the batch is written with multi-row inserts and updates of plain values
(``rows``), their history rows, and one ``tolls.refresh()`` of every incident touched, in one
transaction. If the database still refuses a batch, it is written again one row at a time so
that only the bad row is skipped.

A field of an incident that a person changed (a history row by someone other than an import)
is never overwritten: the summary lists the conflict, and the dataset's value stays in its report.
"""

import contextlib
from collections import defaultdict

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from incidents import tolls, workflow
from incidents.history import write_history
from incidents.importing.base import ImportSummary, MissingColumns, RowError, read_rows
from incidents.importing.matching import EventMatcher
from incidents.importing.places import ActorIndex, PlaceIndex
from incidents.models import (
    Attribution,
    Incident,
    Location,
    PossibleMatch,
    SlugRedirect,
    Source,
    TollReport,
    today,
)
from incidents.models.incidents import incident_errors, refuse_derived_writes, search_text
from incidents.models.reports import report_errors
from incidents.names import normalise
from incidents.rows import FieldChecks, Row, Table, check

BATCH_SIZE = 1000
# PostgreSQL plans each batch's lookups (this dataset's reports by event id, a refresh's reports
# by incident) from the tables' statistics. An import that multiplies a table's rows leaves them
# wrong by as much, and the planner then reads whole tables for every batch: the import slows
# down as it goes. Autovacuum catches up late (or never, where it is off), so an import analyses
# the tables it fills itself, each time the incidents it has created have doubled, from this many.
ANALYZE_FROM = 10_000

# What an import writes on an incident it created; a person's change to any of them wins.
INCIDENT_FIELDS = [
    "title", "kind", "start_date", "end_date", "date_precision", "location_id", "place", "location_precision",
    "summary", "latitude", "longitude",
]  # fmt: skip
# The incident's other texts its folded Arabic search text is made of (``search_text``).
ENTERED_TEXT = ["title_ar", "summary_ar"]
REPORT_FIELDS = [
    "published_on", "killed", "killed_qualifier", "killed_upper", "killed_best", "civilians", "quote", "note",
]  # fmt: skip
# What an import sets on a report, checked row by row (the rest keeps its valid default).
CHECKED_REPORT_FIELDS = {*REPORT_FIELDS, "killed_counts", "dataset", "dataset_event_id"}
# Figures and status are written only by tolls and workflow (search_ar as save() makes it: search_text).
refuse_derived_writes(Incident, {*INCIDENT_FIELDS, "slug"})


class AtomicImportFailed(Exception):
    pass


def validate(row, fields, rules, **context):
    """A row's values against its model's rules: the checks of ``fields`` (``rows.FieldChecks``;
    relations are the ones just found or made) and ``rules``, the function the model's
    ``clean()`` calls; a ``RowError`` an analyst reads. Fields an import leaves at their default
    are valid."""
    problem = check(row, fields, rules, **context)
    if problem is not None:
        raise RowError(describe(problem))


def describe(error):
    if hasattr(error, "message_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
    return " ".join(error.messages)


def parties_note(parties):
    return f"parties involved: {'; '.join(parties)}" if parties else ""


class Planned:
    """What one row will write: filled by ``Importer.plan``, written by ``Importer.write``."""

    def __init__(self, row_number, event, place):
        self.row_number, self.event, self.place = row_number, event, place
        self.incident = None  # a new incident's Row, or None when the event goes on an existing one
        self.incident_id = None  # the existing incident
        self.changed_incident = None  # an existing incident's Row, with fields to update
        self.new_reports, self.changed_reports = [], []  # Rows
        self.new_attributions = []  # a new incident's attribution Rows
        self.actor_ids = []
        self.possible = []  # [(incident id, reason)]
        self.outcome = "unchanged"


class Importer:
    """Saves mapped events. ``dataset`` is ``Incident.Dataset``; ``source`` (name, short name,
    website) describes the dataset as the Source of every report."""

    def __init__(self, *, dataset, source, publish=False, batch_size=BATCH_SIZE):
        self.dataset = dataset
        self.source_details = source
        self.publish = publish
        self.batch_size = batch_size
        self.reason = f"import {dataset}"
        self.source = None
        self.created, self.analysed_at = 0, 0  # incidents created; how many there were at the last ANALYZE

    def prepare(self):
        """Inside the import's transaction, so that a dry run leaves no Source behind."""
        name, short_name, website = self.source_details
        self.source, _ = Source.objects.get_or_create(
            name=name, defaults={"short_name": short_name, "kind": Source.Kind.DATASET, "website": website}
        )
        self.places = PlaceIndex()
        self.actors = ActorIndex()
        self.matcher = EventMatcher(self.dataset)
        self.incident_table, self.report_table = Table(Incident), Table(TollReport)
        self.attribution_table = Table(Attribution)
        self.incident_checks = FieldChecks(Incident, INCIDENT_FIELDS)
        self.report_checks = FieldChecks(TollReport, CHECKED_REPORT_FIELDS)

    # --- Planning: everything read and validated before anything is written ---------------------

    def plan(self, rows, summary):
        """[Planned] for ``rows`` [(row number, Event)]; a row that cannot be imported is skipped."""
        for table in (self.incident_table, self.report_table, self.attribution_table):
            table.restamp()
        self.today = today()  # what the rules check dates against, once a batch
        planned = []
        for row_number, event in rows:
            try:
                place = self.places.find(event.places, event.latitude, event.longitude)
                if place is None:
                    raise RowError("no country or place given")
                planned.append(Planned(row_number, event, place))
            except RowError as problem:
                summary.skipped.append((row_number, str(problem)))
        self.places.flush(self.reason)
        existing = self._existing_reports([p.event.event_id for p in planned])
        owned, touched = self._incident_history(
            {r.incident_id for rs in existing.values() for r in rs.values()}
        )
        self.owned_incidents = {
            values["id"]: Row(values)
            for values in Incident.objects.filter(pk__in=owned).values("id", *INCIDENT_FIELDS, *ENTERED_TEXT)
        }
        self.matcher.load([(p.event, p.place) for p in planned if p.event.event_id not in existing])
        kept = []
        for item in planned:
            try:
                reports = existing.get(item.event.event_id)
                if reports:
                    self._plan_update(item, reports, owned, touched, summary)
                else:
                    self._plan_new(item)
                item.actor_ids = [self.actors.find(name, kind) for name, kind in item.event.perpetrators]
            except RowError as problem:
                summary.skipped.append((item.row_number, str(problem)))
                continue
            kept.append(item)
        return kept

    def _existing_reports(self, event_ids):
        """{event id: {population: report Row}} of this dataset's reports on ``event_ids``."""
        found = defaultdict(dict)
        reports = TollReport.objects.filter(dataset=self.dataset, dataset_event_id__in=event_ids).values(
            "id", *self.report_table.attnames
        )
        for values in reports:
            found[values["dataset_event_id"]][values["killed_counts"]] = Row(values)
        return found

    def _incident_history(self, incident_ids):
        """(ids of the incidents this dataset's import created, {incident id: fields a person changed}),
        from the incidents' history rows (one query)."""
        owned, touched = set(), defaultdict(set)
        names = [name.removesuffix("_id") for name in INCIDENT_FIELDS]
        history = (
            Incident.history.filter(id__in=incident_ids)
            .order_by("id", "history_date", "history_id")
            .values_list("id", "history_type", "history_change_reason", *INCIDENT_FIELDS)
        )
        previous = {}
        for pk, history_type, reason, *values in history.iterator(chunk_size=2000):
            if history_type == "+" and reason == self.reason:
                owned.add(pk)
            before = previous.get(pk)
            by_import = (reason or "").startswith("import ")
            if before is not None and history_type == "~" and not by_import:
                touched[pk].update(
                    name for name, old, new in zip(names, before, values, strict=True) if old != new
                )
            previous[pk] = values
        return owned, touched

    def _incident_values(self, event, place):
        return {
            "title": event.title[:200],
            "kind": event.kind,
            "start_date": event.start_date,
            "end_date": event.end_date,
            "date_precision": event.date_precision,
            "location_id": place.pk,
            "place": event.place[:200],
            "location_precision": event.location_precision,
            "summary": event.summary,
            "latitude": event.latitude,
            "longitude": event.longitude,
        }

    def _report_values(self, event, figure):
        return {
            "published_on": max(event.published_on, event.start_date),
            "killed": figure.killed,
            "killed_qualifier": figure.killed_qualifier,
            "killed_upper": figure.killed_upper,
            "killed_best": figure.killed_best,
            "civilians": None,
            "quote": event.quote,
            "note": "; ".join(part for part in (event.note, parties_note(event.parties)) if part),
        }

    def _report(self, incident_id, event, figure):
        """A new, validated report Row of ``event``'s ``figure`` (checked against the event's
        start date, the incident's when the import makes it)."""
        report = self.report_table.defaults(
            incident_id=incident_id,
            source_id=self.source.pk,
            dataset=self.dataset,
            dataset_event_id=event.event_id,
            killed_counts=figure.killed_counts,
            **self._report_values(event, figure),
        )
        validate(report, self.report_checks, report_errors, incident_start=event.start_date, as_of=self.today)
        return report

    def _plan_new(self, item):
        event = item.event
        match = self.matcher.match(event, item.place, event.matching_kinds)
        if match.incident_id:
            # The same event, already recorded: this dataset's figure goes beside the others.
            item.incident_id, item.outcome = match.incident_id, "attached"
        else:
            incident = self.incident_table.defaults(**self._incident_values(event, item.place))
            validate(incident, self.incident_checks, incident_errors, as_of=self.today)
            incident["search_ar"] = search_text(incident)
            item.incident, item.outcome, item.possible = incident, "created", match.possible or []
        item.new_reports = [self._report(item.incident_id, event, figure) for figure in event.figures]

    def _plan_update(self, item, reports, owned, touched, summary):
        event = item.event
        incident_id = next(iter(reports.values())).incident_id
        item.incident_id = incident_id
        if incident_id in owned:
            incident = self.owned_incidents[incident_id]
            wanted = self._incident_values(event, item.place)
            changes = {}
            for name, value in wanted.items():
                current = incident[name]
                if current == value:
                    continue
                field = name.removesuffix("_id")
                if field in touched.get(incident_id, ()):
                    what = f"{field} kept as {current!s:.80}; the dataset says {value!s:.80}"
                    summary.conflicts.append((item.row_number, f"incident {incident_id}: {what}"))
                else:
                    changes[name] = value
            if changes:
                incident.update(changes)
                validate(incident, self.incident_checks, incident_errors, as_of=self.today)
                item.changed_incident, item.outcome = incident, "updated"
        for figure in event.figures:
            report = reports.get(figure.killed_counts)
            values = self._report_values(event, figure)
            if report is None:
                item.new_reports.append(self._report(incident_id, event, figure))
            elif any(report[name] != value for name, value in values.items()):
                report.update(values)
                validate(
                    report,
                    self.report_checks,
                    report_errors,
                    incident_start=event.start_date,
                    as_of=self.today,
                )
                item.changed_reports.append(report)
        if item.new_reports or item.changed_reports:
            item.outcome = "updated"

    # --- Writing: one transaction per batch ---------------------------------------------------

    def write(self, planned, summary):
        """Write the planned rows, refresh every incident touched once; count the outcomes."""
        with transaction.atomic():
            tolls.lock({item.incident_id for item in planned if item.incident_id})
            created = [item for item in planned if item.incident]
            for item in created:
                item.new_attributions = [
                    self._attribution(item, actor) for actor in dict.fromkeys(item.actor_ids)
                ]
            # A new incident's figures go into its INSERT (from the one writer), not a second write.
            derived = tolls.fill_new(
                [(item.incident, item.new_reports, item.new_attributions) for item in created]
            )
            self._create_incidents(created)
            changed = [item.changed_incident for item in planned if item.changed_incident]
            self._update(Incident, changed, INCIDENT_FIELDS, search=True)
            for item in planned:
                if item.incident:
                    item.incident_id = item.incident["id"]
                for report in item.new_reports:
                    report["incident_id"] = item.incident_id
            new_reports = [report for item in planned for report in item.new_reports]
            self.report_table.insert(new_reports, match_on=["dataset", "dataset_event_id", "killed_counts"])
            write_history(TollReport, [r["id"] for r in new_reports], history_type="+", reason=self.reason)
            changed_reports = [report for item in planned for report in item.changed_reports]
            self._update(TollReport, changed_reports, REPORT_FIELDS)
            self._write_attributions(planned)
            PossibleMatch.objects.bulk_create(
                PossibleMatch(incident_id=item.incident_id, candidate_id=pk, reason=reason[:300])
                for item in planned
                for pk, reason in item.possible
            )
            tolls.store_new({item.incident_id: both for item, both in zip(created, derived, strict=True)})
            tolls.refresh({item.incident_id for item in planned if not item.incident})
            new_incidents = [item.incident_id for item in planned if item.incident]
            # An event queued for review stays a draft until a person decides: published, its
            # deaths would count twice in every total meanwhile.
            to_publish = [item.incident_id for item in planned if item.incident and not item.possible]
            if self.publish and to_publish:
                workflow.publish_incidents(
                    incidents=Incident.objects.filter(pk__in=to_publish),
                    user=None,
                    via=f"import_{self.dataset}",
                )
            self._analyse_as_tables_grow(len(new_incidents))
        for item in planned:
            summary.counts[item.outcome] += 1
            summary.flagged.extend((item.row_number, flag) for flag in item.event.flags)
            if item.possible:
                ids = ", ".join(str(pk) for pk, _ in item.possible)
                summary.queued.append(
                    (item.row_number, f"incident {item.incident_id} may be incident(s) {ids}")
                )

    def _analyse_as_tables_grow(self, created):
        """ANALYZE the tables an import fills (PostgreSQL) when its new incidents have doubled
        since the last time (see ``ANALYZE_FROM``): about ten times in an import of 300,000."""
        self.created += created
        if connection.vendor != "postgresql" or self.created < max(ANALYZE_FROM, 2 * self.analysed_at):
            return
        self.analysed_at = self.created
        models = [Incident, TollReport, Attribution, Location, Incident.perpetrators.through,
                  Incident.history.model, TollReport.history.model]  # fmt: skip
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")

    def _create_incidents(self, items):
        """INSERT the new incidents (drafts, each with a free slug) and their history rows."""
        if not items:
            return
        incidents = [item.incident for item in items]
        wanted = [slugify(f"{self.dataset}-{item.event.event_id}")[:110] or self.dataset for item in items]
        taken = set(Incident.objects.filter(slug__in=wanted).values_list("slug", flat=True))
        taken |= set(SlugRedirect.objects.filter(old_slug__in=wanted).values_list("old_slug", flat=True))
        for incident, slug in zip(incidents, wanted, strict=True):
            number = 2
            free = slug
            while free in taken:
                free, number = f"{slug}-{number}", number + 1
            taken.add(free)
            incident["slug"] = free
            assert incident["status"] == Incident.Status.DRAFT and incident["part_of_id"] is None
        self.incident_table.insert(incidents, match_on=["slug"])
        # Their alleged perpetrators are written after them (tolls.store_new): none to copy yet.
        write_history(
            Incident,
            [incident["id"] for incident in incidents],
            history_type="+",
            reason=self.reason,
            with_m2m=False,
        )

    def _update(self, model, rows, fields, *, search=False):
        """UPDATE ``fields`` of the changed ``rows`` of ``model``, moving their version on (as a
        save does) and their ``updated_at``; then their history rows, as stored.
        ``search``: an incident's folded Arabic text too (as its save)."""
        if not rows:
            return
        now = timezone.now()
        names = [*fields, "updated_at", *(["search_ar"] if search else [])]
        for row in rows:
            row["updated_at"] = now
            if search:
                row["search_ar"] = search_text(row)
        version = connection.ops.quote_name("version")
        table = Table(model, [model._meta.get_field(name.removesuffix("_id")) for name in names])
        table.update(rows, also=[f"{version} = {version} + 1"])
        write_history(model, {row["id"] for row in rows}, history_type="~", reason=self.reason)

    def _write_attributions(self, planned):
        """The dataset's own attributions: it alleges the actors its event type names as perpetrators
        (see the mappers). Other sources' attributions are never touched."""
        new = []
        for item in planned:
            report = next((r for r in item.new_reports if r["killed_counts"] == "all"), None)
            for attribution in item.new_attributions:  # a new incident's, as tolls.fill_new() read them
                attribution.update(incident_id=item.incident_id, report_id=report["id"] if report else None)
                new.append(attribution)
        incident_ids = {
            item.incident_id
            for item in planned
            if not item.incident and (item.actor_ids or item.changed_reports)
        }
        held = defaultdict(dict)
        for pk, incident_id, actor_id in Attribution.objects.filter(
            incident_id__in=incident_ids, source=self.source, stance="alleged"
        ).values_list("pk", "incident_id", "actor_id"):
            held[incident_id][actor_id] = pk
        stale = []
        for item in planned:
            if item.incident_id not in incident_ids:
                continue
            wanted = set(item.actor_ids)
            have = held.get(item.incident_id, {})
            gone = [pk for actor, pk in have.items() if actor not in wanted]
            report = next((r for r in item.new_reports if r["killed_counts"] == "all"), None)
            added = [
                self._attribution(item, actor, report_id=report["id"] if report else None)
                for actor in sorted(wanted - set(have))
            ]
            have.update(dict.fromkeys(wanted - set(have)))
            stale += gone
            new += added
            if gone or added:
                item.outcome = item.outcome if item.outcome != "unchanged" else "updated"
        if stale:
            Attribution.objects.filter(pk__in=stale).delete()
        self.attribution_table.insert(new, match_on=["incident_id", "actor_id", "source_id", "published_on"])
        write_history(Attribution, [row["id"] for row in new], history_type="+", reason=self.reason)

    def _attribution(self, item, actor, report_id=None):
        """A new attribution Row: the dataset alleges ``actor`` (the event's report on it added
        once the report has its id)."""
        return self.attribution_table.defaults(
            incident_id=item.incident_id,
            actor_id=actor,
            source_id=self.source.pk,
            stance="alleged",
            report_id=report_id,
            published_on=max(item.event.published_on, item.event.start_date),
        )


def batches(rows, size):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_import(path, *, mapper, importer, required_columns=(), dry_run=False, atomic=False, progress=None):
    """Import every row of ``path``; ``mapper(row)`` gives an ``Event`` or raises ``RowError``.

    Each batch is its own transaction (a savepoint when the whole run is one): a bad row is
    skipped with its reason, rows already imported stay. With ``atomic`` the first bad row
    undoes everything; with ``dry_run`` everything is undone at the end. A file without
    ``required_columns`` raises ``MissingColumns`` before any row is read.
    """
    summary = ImportSummary()
    rows = read_rows(path, required_columns)
    first = next(rows, None)  # the header is checked here, before anything is written
    with transaction.atomic() if (dry_run or atomic) else contextlib.nullcontext():
        importer.prepare()
        for batch in batches(_prepend(first, rows), importer.batch_size):
            events = []
            for row_number, row in batch:
                try:
                    events.append((row_number, mapper(row)))
                except (RowError, ValueError) as problem:
                    summary.skipped.append((row_number, str(problem) or problem.__class__.__name__))
            _save_batch(importer, events, summary)
            if atomic and summary.skipped:
                row_number, reason = min(summary.skipped)
                raise AtomicImportFailed(f"row {row_number}: {reason}")
            if progress is not None:
                progress.update(len(batch))
        if dry_run:
            transaction.set_rollback(True)
    summary.places_created = importer.places.created
    summary.actors_created = importer.actors.created
    summary.skipped.sort()
    return summary


def _prepend(first, rows):
    if first is not None:
        yield first
        yield from rows


def _save_batch(importer, events, summary):
    """Plan and write a batch; if the database refuses it, again one row at a time."""
    if not events:
        return
    try:
        with transaction.atomic():
            importer.write(importer.plan(events, summary), summary)
        return
    except DatabaseError:
        if len(events) == 1:
            raise
    # The batch was undone: what it planned (places and actors created, skips, conflicts) is
    # planned again, one row at a time.
    numbers = {n for n, _ in events}
    summary.skipped = [skip for skip in summary.skipped if skip[0] not in numbers]
    summary.conflicts = [conflict for conflict in summary.conflicts if conflict[0] not in numbers]
    for one in events:
        _reload_indexes(importer)
        try:
            with transaction.atomic():
                importer.write(importer.plan([one], summary), summary)
        except DatabaseError as problem:
            _reload_indexes(importer)
            summary.skipped.append((one[0], f"the database refused it: {str(problem).strip()[:200]}"))


def _reload_indexes(importer):
    """Read places and actors again after an undone write (it may have created some), keeping
    the list of those created by the batches that were written."""
    created_places, created_actors = importer.places.created, importer.actors.created
    importer.places, importer.actors = PlaceIndex(), ActorIndex()
    known_places = {place.chain for place in importer.places.by_pk.values()}
    importer.places.created = [c for c in created_places if c.rsplit(" (", 1)[0] in known_places]
    known_actors = set(importer.actors.by_key)
    importer.actors.created = [name for name in created_actors if normalise(name) in known_actors]


__all__ = ["AtomicImportFailed", "Importer", "MissingColumns", "run_import"]
