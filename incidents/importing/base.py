"""Bulk import of conflict-event datasets (UCDP GED, ACLED): reading, validating, saving.

The dataset-specific mapping lives in ``incidents.importing.ucdp`` and ``.acled``; this module turns each
mapped ``Event`` into an incident with its place chain, actors and one report whose
source is the dataset itself. Each row is saved in its own savepoint, so a bad row is
skipped with its reason and never leaves half an incident.
"""

import csv
import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation


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


ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")


def parse_date(row, column):
    value = required(row, column)
    if ISO_DATE.fullmatch(value):  # most files: what the first format reads, read faster
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise RowError(f"{column} is not a date: {value!r}") from None
    text = value.split(".")[0] if re.match(r"^\d{4}-\d\d-\d\d \d", value) else value
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    raise RowError(f"{column} is not a date: {value!r}")


def chain(*levels):
    """[(kind, name) or (kind, name, P-code)] without the empty levels."""
    return [level for level in levels if level[1]]


@dataclass
class Figure:
    """One figure of a dataset's event: becomes one report (one per population)."""

    killed: int | None
    killed_qualifier: str
    killed_upper: int | None = None
    killed_best: int | None = None
    killed_counts: str = "all"


@dataclass
class Event:
    """One dataset row, mapped to our vocabulary."""

    event_id: str
    title: str
    kind: str
    start_date: datetime.date
    end_date: datetime.date | None
    date_precision: str
    places: list  # [(Location.Kind, name) or (kind, name, P-code)], largest first
    latitude: object
    longitude: object
    location_precision: str
    place: str
    perpetrators: list  # [(name, Actor.Kind)]: those the dataset says did it (its attributions)
    figures: list  # [Figure]: the all-deaths figure first, then a civilians-only one, ...
    published_on: datetime.date
    summary: str = ""
    quote: str = ""
    note: str = ""
    parties: list = field(default_factory=list)  # names of every actor involved, as the dataset gives them
    # Incident kinds this event may be recorded as by others; None when the dataset's kind says
    # nothing about the means (UCDP's "state-based conflict").
    matching_kinds: set | None = None
    flags: list = field(default_factory=list)  # kept, but a person should look (low above high …)


@dataclass
class ImportSummary:
    counts: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)  # (row number, reason)
    flagged: list = field(default_factory=list)  # (row number, what was odd and how it was read)
    conflicts: list = field(default_factory=list)  # (row number, a person's edit kept over the dataset's)
    queued: list = field(default_factory=list)  # (row number, the incident created, the ones it may be)
    places_created: list = field(default_factory=list)
    actors_created: list = field(default_factory=list)

    LIMIT = 200

    def lines(self):
        counts = self.counts
        yield (
            f"{counts['created']} created, {counts['attached']} attached to incidents already recorded, "
            f"{counts['updated']} updated, {counts['unchanged']} unchanged, {len(self.skipped)} skipped."
        )
        yield from self._section("Skipped", [f"row {n}: {reason}" for n, reason in self.skipped])
        yield from self._section("Kept, but check", [f"row {n}: {what}" for n, what in self.flagged])
        yield from self._section(
            "Edited by a person since the last import, so kept (the dataset's value is in its report)",
            [f"row {n}: {what}" for n, what in self.conflicts],
        )
        yield from self._section(
            "Possible matches to review, kept as drafts until decided (admin: Possible matches)",
            [f"row {n}: {what}" for n, what in self.queued],
        )
        yield from self._section("New places", self.places_created)
        yield from self._section("New actors", self.actors_created)

    def _section(self, title, items):
        if not items:
            return
        yield f"{title} ({len(items)}):"
        for item in items[: self.LIMIT]:
            yield f"  {item}"
        if len(items) > self.LIMIT:
            yield f"  … and {len(items) - self.LIMIT} more."


class MissingColumns(Exception):
    """The file lacks columns every row needs: refused before any row is read."""


def read_rows(path, required_columns=(), renamed=None):
    """(row number, {lower-case column: value}) for each data row; an HXL hashtag row is skipped.

    Row numbers are the file's line numbers as a spreadsheet shows them (header = 1). A file
    without one of ``required_columns`` (after ``renamed`` old names) raises ``MissingColumns``
    before any row.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip().lower() for name in next(reader)]
        except StopIteration:
            header = []
        header = [(renamed or {}).get(name, name) for name in header]
        missing = [column for column in required_columns if column not in header]
        if missing:
            raise MissingColumns(
                f"{path.name if hasattr(path, 'name') else path} lacks the column(s) {', '.join(missing)}"
                + (f" (it has: {', '.join(header[:12])}{' …' if len(header) > 12 else ''})" if header else "")
            )
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
