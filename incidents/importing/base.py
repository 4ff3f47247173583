"""Bulk import of conflict-event datasets (UCDP GED, ACLED): reading, validating, saving.

The dataset-specific mapping lives in ``incidents.importing.ucdp`` and ``.acled``; this module turns each
mapped ``Event`` into an incident with its place chain, actors and one report whose
source is the dataset itself. Each row is saved in its own savepoint, so a bad row is
skipped with its reason and never leaves half an incident.
"""

import contextlib
import csv
import datetime
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from incidents import workflow
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport

PROGRESS_EVERY = 500


class RowError(Exception):
    """A row that cannot be imported; the message says why, in words an analyst understands."""


# --- Reading a row's columns -----------------------------------------------------------------------


def required(row, column):
    value = row.get(column, "")
    if not value:
        raise RowError(f"the {column} column is empty")
    return value


def whole_number(row, column, allow_empty=True):
    value = row.get(column, "")
    if value == "":
        if allow_empty:
            return None
        raise RowError(f"the {column} column is empty")
    try:
        number = int(Decimal(value))
    except (InvalidOperation, ValueError):
        raise RowError(f"{column} is not a number: {value!r}") from None
    if number < 0:
        raise RowError(f"{column} is negative: {value}")
    return number


def coordinate(row, column, limit):
    value = row.get(column, "")
    if value == "":
        return None
    try:
        number = Decimal(value).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        raise RowError(f"{column} is not a number: {value!r}") from None
    if abs(number) > limit:
        raise RowError(f"{column} is out of range: {value}")
    return number


DATE_FORMATS = ["%Y-%m-%d", "%d %B %Y", "%d/%m/%Y", "%d-%B-%Y", "%Y-%m-%d %H:%M:%S"]


def parse_date(row, column):
    value = required(row, column)
    text = value.split(".")[0] if re.match(r"^\d{4}-\d\d-\d\d \d", value) else value
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    raise RowError(f"{column} is not a date: {value!r}")


def chain(*levels):
    """[(kind, name)] without the empty levels."""
    return [(kind, name) for kind, name in levels if name]


@dataclass
class Event:
    """One dataset row, mapped to our vocabulary."""

    event_id: str
    title: str
    kind: str
    start_date: datetime.date
    end_date: datetime.date | None
    date_precision: str
    places: list  # [(Location.Kind, name)], largest first; the last is where the event is placed
    latitude: object
    longitude: object
    location_precision: str
    place: str
    perpetrators: list  # [(name, Actor.Kind)]: those the dataset says did it (its attributions)
    killed: int | None
    killed_qualifier: str
    killed_upper: int | None
    civilians: int | None
    published_on: datetime.date
    summary: str = ""
    quote: str = ""
    note: str = ""
    parties: list = field(default_factory=list)  # names of every actor involved, as the dataset gives them


@dataclass
class ImportSummary:
    counts: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)  # (row number, reason)

    def lines(self):
        yield (
            f"{self.counts['created']} created, {self.counts['updated']} updated, "
            f"{self.counts['unchanged']} unchanged, {len(self.skipped)} skipped."
        )
        for row_number, reason in self.skipped[:200]:
            yield f"  row {row_number}: {reason}"
        if len(self.skipped) > 200:
            yield f"  … and {len(self.skipped) - 200} more skipped rows."


def read_rows(path):
    """(row number, {lower-case column: value}) for each data row; an HXL hashtag row is skipped.

    Row numbers are the file's line numbers as a spreadsheet shows them (header = 1).
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip().lower() for name in next(reader)]
        except StopIteration:
            return
        for row_number, values in enumerate(reader, start=2):
            if row_number == 2 and is_hxl_row(values):
                continue
            if not any(value.strip() for value in values):
                continue
            yield row_number, dict(zip(header, (value.strip() for value in values), strict=False))


def is_hxl_row(values):
    filled = [value.strip() for value in values if value.strip()]
    return bool(filled) and all(value.startswith("#") for value in filled)


def count_rows(path):
    with open(path, "rb") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


class Progress:
    """A progress bar on stderr, redrawn every few hundred rows."""

    def __init__(self, total, stream=None, width=30):
        self.total, self.stream, self.width = max(total, 1), stream or sys.stderr, width

    def update(self, done, force=False):
        if done % PROGRESS_EVERY and not force:
            return
        filled = int(self.width * min(done / self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done:,}/{self.total:,} rows")
        self.stream.flush()

    def finish(self, done):
        self.update(done, force=True)
        self.stream.write("\n")


class Importer:
    """Saves mapped events. ``dataset`` is ``Incident.Dataset``; ``source`` (name, short name,
    website) describes the dataset as the Source of every report."""

    def __init__(self, *, dataset, source, publish=False):
        self.dataset = dataset
        self.source_details = source
        self.source = None
        self.publish = publish
        self.places = {}
        self.actors = {}

    def prepare(self):
        """Inside the import's transaction, so that a dry run leaves no Source behind."""
        name, short_name, website = self.source_details
        self.source, _ = Source.objects.get_or_create(
            name=name, defaults={"short_name": short_name, "kind": Source.Kind.DATASET, "website": website}
        )

    def save(self, event):
        """Create or update the event's incident and report; 'created', 'updated' or 'unchanged'."""
        location = self.location_for(event)
        incident = Incident.objects.filter(dataset=self.dataset, dataset_event_id=event.event_id).first()
        outcome = "unchanged"
        values = {
            "title": event.title[:200],
            "kind": event.kind,
            "start_date": event.start_date,
            "end_date": event.end_date,
            "date_precision": event.date_precision,
            "location": location,
            "place": event.place[:200],
            "location_precision": event.location_precision,
            "summary": event.summary,
        }
        if incident is None:
            incident = Incident(
                **values,
                dataset=self.dataset,
                dataset_event_id=event.event_id,
                slug=f"{self.dataset}-{event.event_id}"[:120].lower(),
            )
            outcome = "created"
        elif any(getattr(incident, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(incident, name, value)
            outcome = "updated"
        if outcome != "unchanged":
            _validate(incident)
            incident.save()
        if outcome == "created" and self.publish:
            workflow.publish_incident(incident=incident, user=None, via=f"import_{self.dataset}")
        report, report_changed = self.save_report(incident, event)
        attributions_changed = self.save_attributions(incident, report, event)
        if outcome == "unchanged" and (report_changed or attributions_changed):
            outcome = "updated"
        return outcome

    def save_attributions(self, incident, report, event):
        """The dataset's own attributions: it alleges the actors its event type names as perpetrators
        (see the mappers). Other sources' attributions are never touched. True if any changed."""
        wanted = {self.actor_for(name, kind).pk for name, kind in event.perpetrators}
        held = dict(
            Attribution.objects.filter(incident=incident, source=self.source, stance="alleged").values_list(
                "actor_id", "pk"
            )
        )
        stale = [pk for actor, pk in held.items() if actor not in wanted]
        if stale:
            Attribution.objects.filter(pk__in=stale).delete()
        for actor in wanted - set(held):
            Attribution(
                incident=incident, actor_id=actor, source=self.source, stance="alleged", report=report,
                published_on=report.published_on,
            ).save()  # fmt: skip
        return bool(stale) or bool(wanted - set(held))

    def save_report(self, incident, event):
        """The dataset's one report on the incident, kept up to date with the latest release.
        (report, whether it changed)."""
        report = TollReport.objects.filter(incident=incident, source=self.source).first() or TollReport(
            incident=incident, source=self.source
        )
        values = {
            "published_on": max(event.published_on, event.start_date),
            "killed": event.killed,
            "killed_qualifier": event.killed_qualifier,
            "killed_upper": event.killed_upper,
            "civilians": event.civilians,
            "quote": event.quote,
            "note": "; ".join(part for part in (event.note, parties_note(event.parties)) if part),
        }
        if report.pk and all(getattr(report, name) == value for name, value in values.items()):
            return report, False
        for name, value in values.items():
            setattr(report, name, value)
        _validate(report)
        report.save()
        return report, True

    def location_for(self, event):
        """The place chain (country > … > place), created when missing; cached for the run."""
        parent = None
        for kind, name in event.places:
            key = (parent.pk if parent else None, kind, name.lower())
            place = self.places.get(key)
            if place is None:
                place = Location.objects.filter(parent=parent, kind=kind, name__iexact=name).first()
                if place is None:
                    place = Location(name=name[:200], kind=kind, parent=parent)
                    _validate(place)
                    place.save()
                self.places[key] = place
            parent = place
        if parent is None:
            raise RowError("no country or place given")
        if event.latitude is not None and parent.latitude is None:
            parent.latitude, parent.longitude = event.latitude, event.longitude
            _validate(parent)
            parent.save()
        return parent

    def actor_for(self, name, kind):
        actor = self.actors.get(name.lower())
        if actor is None:
            actor = Actor.objects.filter(name__iexact=name).first() or Actor.objects.create(
                name=name[:200], kind=kind
            )
            self.actors[name.lower()] = actor
        return actor


def parties_note(parties):
    return f"parties involved: {'; '.join(parties)}" if parties else ""


# Foreign keys the importer has just looked up or created: checking them again costs a query each.
KNOWN_RELATIONS = ["location", "incident", "source", "parent"]


def _validate(instance):
    try:
        instance.full_clean(exclude=KNOWN_RELATIONS, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise RowError(_describe(error)) from None


def _describe(error):
    if hasattr(error, "message_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
    return " ".join(error.messages)


class AtomicImportFailed(Exception):
    pass


def run_import(path, *, mapper, importer, dry_run=False, atomic=False, progress=None):
    """Import every row of ``path``; ``mapper(row)`` gives an ``Event`` or raises ``RowError``.

    Each row is its own transaction (a savepoint when the whole run is one): a bad row is
    skipped with its reason and rows already imported stay. With ``atomic`` the first bad row
    undoes everything; with ``dry_run`` everything is undone at the end.
    """
    summary = ImportSummary()
    done = 0
    with transaction.atomic() if (dry_run or atomic) else contextlib.nullcontext():
        importer.prepare()
        for row_number, row in read_rows(path):
            done += 1
            try:
                with transaction.atomic():
                    summary.counts[importer.save(mapper(row))] += 1
            except (RowError, DatabaseError, ValueError) as problem:
                summary.skipped.append((row_number, str(problem) or problem.__class__.__name__))
                if atomic:  # leaving the outer block undoes every row
                    raise AtomicImportFailed(f"row {row_number}: {problem}") from None
            if progress:
                progress.update(done)
        if dry_run:
            transaction.set_rollback(True)
    if progress:
        progress.finish(done)
    return summary
