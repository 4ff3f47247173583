"""Finding a row's place and actors among those already recorded, before creating any.

A place is matched by P-code, then by name variants (its name, Arabic name and other names,
compared as ``names.normalise`` does) within the place above it, then by coordinates (the
nearest known place within ``NEAR_KM``, whose chain gives the governorate and district).
Only what nothing matches is created, and each creation is reported; the places a batch makes
are written together (``PlaceIndex.flush``). Everything known is read once per import into
memory (a few thousand places), so a row costs no query.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from django.utils.text import slugify

from incidents.history import write_history
from incidents.importing.base import RowError
from incidents.models import Actor, ActorName, Location, PlaceName
from incidents.models.places import short_chain
from incidents.names import normalise
from incidents.rows import FieldChecks, Row, Table, check

# What an import gives a new place, checked by Location's field rules.
PLACE_FIELDS = {"name", "name_ar", "kind", "pcode", "latitude", "longitude", "admin1_name", "admin2_name",
                "admin3_name"}  # fmt: skip
ANCESTORS = ("country", "admin1", "admin2")
# A place within this distance of a row's coordinates gives the row its district and governorate.
NEAR_KM = 5
# Within this distance a known place of any name is taken as the row's place itself.
SAME_PLACE_KM = 1
EARTH_RADIUS_KM = 6371.0
# Coordinates are indexed in cells of a tenth of a degree (about 11 km): a row looks at its own
# cell and the eight around it.
CELL = 10


def distance_km(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = (math.radians(float(v)) for v in (lat1, lon1, lat2, lon2))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass
class Place:
    """What matching needs of a ``Location``."""

    pk: int
    name: str
    kind: str
    path: str
    chain: str
    country_id: int | None
    admin1_id: int | None
    admin2_id: int | None
    latitude: object
    longitude: object

    @property
    def level(self):
        return Location.LEVELS[self.kind]

    def lies_in(self, other):
        return other is None or self.path.startswith(other.path)


def _place(location):
    return Place(
        location.pk, location.name, location.kind, location.path, location.chain, location.country_id,
        location.admin1_id, location.admin2_id, location.latitude, location.longitude,
    )  # fmt: skip


class PlaceIndex:
    """Every known place, by P-code, by name key and by coordinates; creates the missing ones."""

    def __init__(self):
        self.by_pk, self.by_pcode = {}, {}
        self.by_key = defaultdict(list)
        self.keys_by_pk = defaultdict(set)
        self.by_cell = defaultdict(list)
        self.keys = {}  # name -> its key (``key``)
        self.created = []  # chains of the places this import created, for the summary
        self.slugs = set(Location.objects.values_list("slug", flat=True))
        self.pending = []  # [(Place, Row)] made but not written yet (``flush``)
        self.provisional = 0  # the last provisional id given
        self.table = Table(Location)
        self.checks = FieldChecks(Location, PLACE_FIELDS)
        locations = Location.objects.only(
            "pk",
            "name",
            "name_ar",
            "kind",
            "path",
            "chain",
            "pcode",
            "admin1",
            "admin2",
            "latitude",
            "longitude",
        ).order_by()
        for location in locations.iterator(chunk_size=5000):
            self._add(_place(location), location.name, location.name_ar, location.pcode)
        # What each country calls its levels ("district" in Syria), for the summary's new places.
        self.level_names = {
            pk: dict(zip(Location.LEVEL_NAME_FIELDS, names, strict=True))
            for pk, *names in Location.objects.filter(kind=Location.Kind.COUNTRY).values_list(
                "pk", *Location.LEVEL_NAME_FIELDS.values()
            )
        }
        for location_id, key in PlaceName.objects.values_list("location_id", "key"):
            if location_id in self.by_pk:
                self.by_key[key].append(self.by_pk[location_id])
                self.keys_by_pk[location_id].add(key)

    def key(self, name):
        """``normalise(name, place=True)``, remembered: a file repeats its place names."""
        key = self.keys.get(name)
        if key is None:
            key = self.keys[name] = normalise(name, place=True)
        return key

    def _add(self, place, *names_and_pcode):
        *names, pcode = names_and_pcode
        self.by_pk[place.pk] = place
        if pcode:
            self.by_pcode[pcode.upper()] = place
        for name in names:
            if name:
                key = self.key(name)
                self.by_key[key].append(place)
                self.keys_by_pk[place.pk].add(key)
        if place.latitude is not None and place.longitude is not None:
            self.by_cell[self._cell(place.latitude, place.longitude)].append(place)

    def add(self, location):
        """Index a place just saved; its ``Place``."""
        place = _place(location)
        self._add(place, location.name, location.name_ar, location.pcode)
        return place

    @staticmethod
    def _cell(latitude, longitude):
        return (math.floor(float(latitude) * CELL), math.floor(float(longitude) * CELL))

    def find(self, levels, latitude=None, longitude=None):
        """The place for a row: ``levels`` are (kind, name) or (kind, name, pcode), largest first.
        Returns a ``Place``, making what nothing matches (listed in ``created``; written by
        ``flush()``). A level that cannot be made raises ``RowError`` and makes nothing."""
        parent, missing = None, []
        for level in levels:
            kind, name, pcode = (*level, None)[:3]
            found = self.by_pcode.get(pcode.upper()) if pcode else None
            found = found or self.by_name(kind, name, parent)
            if found is not None and (parent is None or found.level > parent.level):
                parent, missing = found, []  # a finer level found: the levels between are skipped
            elif found is None:
                missing.append((kind, name))
        if missing and latitude is not None:
            near = self._nearest(latitude, longitude, parent)
            if near is not None:
                place, km = near
                finest_kind, finest_name = missing[-1]
                same_name = self.key(finest_name) in self.keys_by_pk[place.pk]
                if km <= SAME_PLACE_KM or same_name:
                    return place
                # The coordinates say which district (or governorate) the new place lies in.
                above = self.by_pk.get(place.admin2_id) or self.by_pk.get(place.admin1_id) or parent
                if above is not None and Location.LEVELS[finest_kind] > above.level:
                    parent, missing = above, [missing[-1]]
        if parent is None and not missing:
            return None
        new = self._checked(missing, parent, latitude, longitude)
        for kind, name, latitude, longitude in new:
            parent = self._create(kind, name, parent, latitude, longitude)
        return parent

    def by_name(self, kind, name, parent):
        """The place of ``kind`` called ``name`` beneath ``parent``; failing that, beneath the
        parent's district or governorate (datasets skip or add levels: ACLED's admin 3 "Homs"
        need not hold the city that a P-code table put under the district)."""
        matching = [p for p in self.by_key.get(self.key(name), ()) if p.kind == kind]
        for within in self._widening(parent):
            candidates = [p for p in matching if p.lies_in(within)]
            if candidates:
                break
        else:
            return None
        # The closest beneath the parent (a direct child before a grandchild), then the oldest.
        return min(candidates, key=lambda p: (p.path.count("/"), p.pk))

    def _widening(self, parent):
        """``parent``, then its district and governorate (each once)."""
        yield parent
        if parent is not None:
            for pk in (parent.admin2_id, parent.admin1_id):
                wider = self.by_pk.get(pk)
                if wider is not None and wider.pk != parent.pk:
                    yield wider

    def _nearest(self, latitude, longitude, parent):
        """The nearest known place within ``NEAR_KM``, in the parent's governorate."""
        governorate = self.by_pk.get(parent.admin1_id) if parent is not None else None
        parent = governorate or parent
        row, col = self._cell(latitude, longitude)
        best = None
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for place in self.by_cell.get((row + dr, col + dc), ()):
                    if place.kind in ("country", "admin1") or not place.lies_in(parent):
                        continue
                    km = distance_km(latitude, longitude, place.latitude, place.longitude)
                    if km <= NEAR_KM and (best is None or km < best[1]):
                        best = (place, km)
        return best

    def _checked(self, missing, parent, latitude, longitude):
        """[(kind, name, latitude, longitude)] of the ``missing`` levels beneath ``parent``, each
        checked by Location's field rules first (a ``RowError`` when one is refused). Only the
        finest level (below a governorate) takes the row's coordinates."""
        new = []
        above = (parent.level, parent.chain, parent.kind) if parent else None
        for kind, name in missing:
            if above is not None and Location.LEVELS[kind] <= above[0]:
                raise RowError(f"{name!r} ({kind}) cannot lie inside {above[1]!r} ({above[2]})")
            finest = (
                (kind, name) == missing[-1] and latitude is not None and kind not in ("country", "admin1")
            )
            row = Row(
                name=name[:200], name_ar="", kind=kind, pcode=None, admin1_name="", admin2_name="",
                admin3_name="", latitude=latitude if finest else None,
                longitude=longitude if finest else None,
            )  # fmt: skip
            problem = check(row, self.checks)
            if problem is not None:
                raise RowError(f"place {name!r}: {' '.join(problem.messages)}")
            new.append((kind, row.name, row.latitude, row.longitude))
            above = (Location.LEVELS[kind], f"{row.name}, {above[1]}" if above else row.name, kind)
        return new

    def _create(self, kind, name, parent, latitude, longitude):
        """A new place under ``parent``, indexed at once under a provisional (negative) id and
        written by ``flush()``, as ``Location.save()`` would write it (chain, ancestors, path, a
        free slug, a history row)."""
        self.provisional -= 1
        pk = self.provisional
        ancestors = {level: getattr(parent, f"{level}_id") if parent else None for level in ANCESTORS}
        if kind in ANCESTORS:
            ancestors[kind] = pk
        chain = f"{name}, {parent.chain}" if parent else name
        place = Place(
            pk, name, kind, f"{parent.path if parent else '/'}{pk}/", chain, ancestors["country"],
            ancestors["admin1"], ancestors["admin2"], latitude, longitude,
        )  # fmt: skip
        row = Row(
            name=name, kind=kind, parent_id=parent.pk if parent else None, latitude=latitude,
            longitude=longitude, slug=self._free_slug(name, parent), chain=chain,
        )  # fmt: skip
        self.pending.append((place, row))
        self._add(place, name, None)
        level = Location.level_name_in(kind, self.level_names.get(ancestors["country"], {}).get(kind))
        self.created.append(f"{short_chain(chain)} ({level})")
        return place

    def flush(self, reason):
        """Write the places made since the last call, their paths and ancestors, their history
        rows. On PostgreSQL they are numbered first and written in one go (``Table.copy``);
        elsewhere an INSERT per level of new places (a child needs its parent's id), then one
        UPDATE of their paths and ancestors."""
        if not self.pending:
            return
        self.table.restamp()
        self.pending = [(place, self.table.defaults(**values)) for place, values in self.pending]
        real = {}  # provisional id -> id

        def known(pk):
            return real.get(pk, pk) if pk is not None else None

        reserved = self.table.reserve_ids(len(self.pending))
        if reserved is not None:
            real.update((place.pk, pk) for (place, _), pk in zip(self.pending, reserved, strict=True))
        waiting = self.pending if reserved is None else []
        while waiting:
            ready = [
                (place, row) for place, row in waiting if row["parent_id"] is None or row["parent_id"] > 0
            ]
            for _, row in ready:
                row["parent_id"] = known(row["parent_id"])
            self.table.insert([row for _, row in ready], match_on=["slug"])
            for place, row in ready:
                real[place.pk] = row["id"]
            waiting = [(place, row) for place, row in waiting if place.pk not in real]
            for _, row in waiting:
                row["parent_id"] = known(row["parent_id"])
        ancestry = []
        for place, row in self.pending:  # parents come before their children
            old_pk, place.pk = place.pk, real[place.pk]
            row["id"], row["parent_id"] = place.pk, known(row["parent_id"])
            parent = self.by_pk[row["parent_id"]] if row["parent_id"] else None
            place.path = f"{parent.path if parent else '/'}{place.pk}/"
            place.country_id, place.admin1_id, place.admin2_id = (
                known(place.country_id), known(place.admin1_id), known(place.admin2_id),
            )  # fmt: skip
            self.by_pk[place.pk] = self.by_pk.pop(old_pk)
            self.keys_by_pk[place.pk] = self.keys_by_pk.pop(old_pk, set())
            ancestry.append(
                {"id": place.pk, "path": place.path, "country_id": place.country_id,
                 "admin1_id": place.admin1_id, "admin2_id": place.admin2_id}
            )  # fmt: skip
        if reserved is not None:
            for (_, row), values in zip(self.pending, ancestry, strict=True):
                row.update(values)
            self.table.copy([row for _, row in self.pending])
        else:
            Table(Location, [Location._meta.get_field(name) for name in ("path", *ANCESTORS)]).update(
                ancestry
            )
        write_history(Location, [place.pk for place, _ in self.pending], history_type="+", reason=reason)
        self.pending = []

    def _free_slug(self, name, parent):
        """As ``slugs.unique_slug`` chooses, from the slugs read once (a race with a person saving
        the same slug at that moment makes the database refuse the batch: written again row by row)."""
        candidates = [slugify(name)[:80].strip("-"), slugify(f"{name} {parent.name}" if parent else "")[:80]]
        candidates = [c for c in candidates if c] or ["place"]
        for slug in candidates:
            if slug not in self.slugs:
                break
        else:
            number = 2
            while f"{candidates[0][:76]}-{number}" in self.slugs:
                number += 1
            slug = f"{candidates[0][:76]}-{number}"
        self.slugs.add(slug)
        return slug


class ActorIndex:
    """Every known actor by its name and other names; creates the missing ones."""

    def __init__(self):
        self.by_key = {normalise(name): pk for pk, name in Actor.objects.values_list("pk", "name")}
        self.by_key.update(dict(ActorName.objects.values_list("key", "actor_id")))
        self.created = []

    def find(self, name, kind):
        key = normalise(name)
        if key not in self.by_key:
            actor = Actor(name=name[:200], kind=kind)
            actor.save()
            self.by_key[key] = actor.pk
            self.created.append(actor.name)
        return self.by_key[key]
