"""OCHA common operational dataset (COD) P-code tables: admin levels 0–3 with English and Arabic
names and P-codes, in either naming (HDX's tabular ``admin1Name_en``, ``admin1Pcode`` … or the
COD-AB attribute tables' ``ADM1_EN``, ``ADM1_PCODE`` …), from CSV or XLSX.

Each place is found by P-code, then by name variants within its parent (``places.PlaceIndex``),
and only then created; its other names (English, Arabic, alternative names) become name
variants so that dataset imports find it too.
"""

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from incidents.importing.base import MissingColumns
from incidents.importing.places import PlaceIndex
from incidents.models import Location, PlaceName
from incidents.names import normalise

KINDS = {0: "country", 1: "admin1", 2: "admin2", 3: "admin3"}

# {naming: {what: column pattern for level n}}
NAMINGS = {
    "HDX": {
        "name": "admin{n}name_en",
        "name_ar": "admin{n}name_ar",
        "pcode": "admin{n}pcode",
        "other": ["admin{n}refname", "admin{n}altname1_en", "admin{n}altname2_en"],
    },
    "COD-AB": {
        "name": "adm{n}_en",
        "name_ar": "adm{n}_ar",
        "pcode": "adm{n}_pcode",
        "other": ["adm{n}_ref", "adm{n}alt1en", "adm{n}alt2en"],
    },
}


@dataclass
class PlacesSummary:
    counts: Counter = field(default_factory=Counter)
    skipped: list = field(default_factory=list)

    def lines(self):
        c = self.counts
        yield (
            f"{c['created']} places created, {c['matched']} matched by name (P-code added), "
            f"{c['updated']} updated, {c['unchanged']} unchanged, {c['names']} other names added, "
            f"{len(self.skipped)} rows skipped."
        )
        for row_number, reason in self.skipped[:200]:
            yield f"  row {row_number}: {reason}"


def read_table(path):
    """(row number, {lower-case column: text}) from a CSV (an HXL row is skipped) or XLSX file."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = (
            [("" if v is None else str(v)) for v in values] for values in sheet.iter_rows(values_only=True)
        )
    else:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed when read)
        rows = csv.reader(handle)
    header = [name.strip().lower() for name in next(rows, [])]
    for row_number, values in enumerate(rows, start=2):
        filled = [v.strip() for v in values if v and v.strip()]
        if not filled or (row_number == 2 and all(v.startswith("#") for v in filled)):
            continue
        yield row_number, dict(zip(header, (v.strip() for v in values), strict=False))


def levels_of(header):
    """(naming, [level numbers]) the header holds: each level needs its name and P-code columns."""
    for naming, columns in NAMINGS.items():
        levels = [
            n
            for n in KINDS
            if columns["name"].format(n=n) in header and columns["pcode"].format(n=n) in header
        ]
        if levels:
            return naming, levels
    raise MissingColumns(
        "no admin level with both a name and a P-code column: expected HDX's admin1Name_en and "
        "admin1Pcode (admin0 … admin3) or COD-AB's ADM1_EN and ADM1_PCODE (ADM0 … ADM3)"
    )


def import_places(path):
    """Create or update the places of a P-code table; a ``PlacesSummary``. Call in a transaction."""
    summary = PlacesSummary()
    index = PlaceIndex()
    rows = read_table(path)
    first = next(rows, None)
    if first is None:
        raise MissingColumns("the file has no rows")
    naming, levels = levels_of(first[1].keys())
    columns = NAMINGS[naming]
    done = {}  # P-code -> Place, for the rows that repeat a governorate or district
    for row_number, row in _chain(first, rows):
        parent = None
        try:
            for n in levels:
                pcode = row.get(columns["pcode"].format(n=n), "").upper()
                name = row.get(columns["name"].format(n=n), "")
                if not pcode or not name:
                    continue
                if pcode not in done:
                    names = [row.get(c.format(n=n), "") for c in columns["other"]]
                    name_ar = row.get(columns["name_ar"].format(n=n), "")
                    done[pcode] = _place(index, summary, KINDS[n], name, name_ar, pcode, names, parent)
                parent = done[pcode]
        except ValueError as problem:
            summary.skipped.append((row_number, str(problem)))
    return summary


def _chain(first, rows):
    yield first
    yield from rows


def _place(index, summary, kind, name, name_ar, pcode, other_names, parent):
    place = index.by_pcode.get(pcode)
    outcome = "unchanged"
    if place is None:
        place = index.by_name(kind, name, parent) or (
            index.by_name(kind, name_ar, parent) if name_ar else None
        )
        if place is not None:
            outcome = "matched"
    if place is None:
        location = Location(
            name=name[:200], name_ar=name_ar[:200], kind=kind, parent_id=parent.pk if parent else None
        )
        location.pcode = pcode
        _save(location)
        place = index.add(location)
        outcome = "created"
    else:
        outcome = _complete(index, place, pcode, name_ar, outcome)
    summary.counts[outcome] += 1
    for other in [name, name_ar, *other_names]:
        key = normalise(other, place=True)
        if other and key and key not in index.keys_by_pk[place.pk]:
            PlaceName.objects.create(location_id=place.pk, name=other[:200])
            index.by_key[key].append(place)
            index.keys_by_pk[place.pk].add(key)
            summary.counts["names"] += 1
    return place


def _complete(index, place, pcode, name_ar, outcome):
    """Add the P-code and Arabic name a known place lacks (never replacing a person's)."""
    location = Location.objects.get(pk=place.pk)
    changed = False
    if not location.pcode:
        location.pcode, changed = pcode, True
    if name_ar and not location.name_ar:
        location.name_ar, changed = name_ar, True
    if changed:
        _save(location)
        index.by_pcode[pcode] = place
        return "matched" if outcome == "matched" else "updated"
    return outcome


def _save(location):
    from django.core.exceptions import ValidationError

    try:
        location.full_clean(exclude=["parent"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ValueError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from None
    location.save()
