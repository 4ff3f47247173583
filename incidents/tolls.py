"""The one writer of derived data: which report of each source is current (per population),
each incident's stored figures (``Incident.FIGURE_FIELDS``), its alleged perpetrators and
claims (``Incident.perpetrators`` and ``claimed_by``, from the attributions), and the month
and place totals of published incidents (``MonthTotal``, ``PartTreeShare``, ``PlaceTotal``,
``Incident.totalled_in`` and ``totalled_at``), and the source totals (``SourceShare``,
``SourceTotal``).

Every path that changes reports (a save or delete, a bulk delete or update, a restore, an
import, ``generate_data``) or part trees (``Incident.part_of``) ends by calling ``refresh()``
in its own transaction; a change of status, start date or place calls ``recount()``, a delete
``forget()`` first. An import's new incidents get their figures before they are written
(``fill_new()``, the same reading), so that each is written once. Nothing else writes those
columns (their ``update()`` refuses them). The arithmetic is ``incidents.figures``; this module
only reads and stores.

The totals are kept as differences: each incident's row says where and how the totals count
it (``totalled_in``, ``totalled_at`` and its stored figures, read under its row lock; its
``SourceShare`` rows for the source totals), so a change adds the new counting and takes the
old one away. Part trees are not additive (a whole counts the larger of its own figure and its
parts' sum), so a change to a tree member recounts its whole tree and adds the difference from
what the tree's members added before (``PartTreeShare``).
"""

import datetime
from collections import Counter, defaultdict, namedtuple
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum

from incidents import blame, figures
from incidents.models.totals import MONTH_SUMS, PLACE_SUMS, SOURCE_SUMS
from incidents.rows import Row, Table

# Incidents refreshed per round trip: a few thousand reports read, two UPDATEs written.
CHUNK = 1000

# What the arithmetic reads of a report.
REPORT_FIELDS = [
    "pk", "incident_id", "source_id", "published_on", "published_time", "killed_qualifier", "killed",
    "killed_upper", "killed_counts", "civilians", "is_current",
]  # fmt: skip


ATTRIBUTION_FIELDS = ["pk", "incident_id", "source_id", "actor_id", "stance", "published_on"]

# What the arithmetic reads, as plain tuples: thousands of model instances cost more than the
# arithmetic (``figures`` and ``blame`` read any object with these attributes).
ReportFigures = namedtuple("ReportFigures", REPORT_FIELDS)
AttributionStance = namedtuple("AttributionStance", ATTRIBUTION_FIELDS)


def among(field, ids):
    """A filter for rows whose ``field`` is one of ``ids`` (distinct integers). When they are a
    run of consecutive numbers (the incidents and reports an import batch has just made) it is a
    range: far cheaper to build and to run than an IN list of a thousand."""
    ids = sorted(set(ids))
    if ids and ids[-1] - ids[0] + 1 == len(ids):
        return Q(**{f"{field}__gte": ids[0], f"{field}__lte": ids[-1]})
    return Q(**{f"{field}__in": ids})


def lock(incident_ids):
    """Lock the incidents' rows (``FOR NO KEY UPDATE``, in id order) for the rest of the transaction.

    Every writer of an incident's reports or attributions takes its incident first, then the
    rows beneath it: so a report page, the incident page with its inline rows, and a refresh
    never wait on each other in a circle (PostgreSQL would kill one with "deadlock detected").
    """
    from incidents.models import Incident

    ids = sorted({pk for pk in incident_ids if pk is not None})
    if ids:
        list(
            Incident.objects.select_for_update(no_key=True)
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk")
        )


def refresh(incident_ids):
    """Mark each source's current reports and store the figures of each of ``incident_ids``.

    The incidents' rows are locked first (``SELECT … FOR NO KEY UPDATE``, in id order so that
    two refreshes never wait on each other in a circle): a report saved at the same moment on
    the same incident waits, and its refresh then reads this one's report too. About five
    queries per thousand incidents.
    """
    ids = sorted({pk for pk in incident_ids if pk is not None})
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            _refresh_chunk(ids[start : start + CHUNK])


def _refresh_chunk(ids):
    # Imported here: the models call refresh() from their save().
    from incidents.models import Attribution, Incident, TollReport

    stored = {
        row[0]: row[1:]
        for row in Incident.objects.select_for_update(no_key=True)
        .filter(among("pk", ids))
        .order_by("pk")
        .values_list("pk", "part_of", "status", "start_date", "location", *Incident.FIGURE_FIELDS)
    }
    wholes = set(
        Incident.objects.filter(among("part_of", stored)).order_by().values_list("part_of", flat=True)
    )
    reports_by_incident = {pk: [] for pk in stored}
    for values in (
        TollReport.objects.filter(among("incident_id", stored)).order_by().values_list(*REPORT_FIELDS)
    ):
        report = ReportFigures._make(values)
        reports_by_incident[report.incident_id].append(report)
    attributions = {pk: [] for pk in stored}
    for values in (
        Attribution.objects.filter(among("incident_id", stored)).order_by().values_list(*ATTRIBUTION_FIELDS)
    ):
        attribution = AttributionStance._make(values)
        attributions[attribution.incident_id].append(attribution)
    blames = {}
    shares_before = stored_source_shares(stored)
    shares_after = {}

    now_current, no_longer_current, changed_incidents = [], [], []
    counted_before, counted_after, tree_members = {}, {}, set()
    for pk, reports in reports_by_incident.items():
        part_of, status, start_date, location, *old_values = stored[pk]
        values, current_ids, blames[pk] = _derive(
            reports, attributions[pk], in_part_tree=part_of is not None or pk in wholes, status=status,
            start_date=start_date, location=location,
        )  # fmt: skip
        shares_after[pk] = source_shares(reports, current_ids)
        for report in reports:
            if report.is_current and report.pk not in current_ids:
                no_longer_current.append(report.pk)
            elif not report.is_current and report.pk in current_ids:
                now_current.append(report.pk)
        if tuple(values[name] for name in Incident.FIGURE_FIELDS) != tuple(old_values):
            changed_incidents.append((pk, values))
        counted_before[pk] = Counted.of(dict(zip(Incident.FIGURE_FIELDS, old_values, strict=True)))
        counted_after[pk] = Counted.of(values)
        if counted_before[pk].in_part_tree or counted_after[pk].in_part_tree:
            tree_members.add(pk)

    if now_current:
        TollReport.objects.filter(among("pk", now_current))._write_current(True)
    if no_longer_current:
        TollReport.objects.filter(among("pk", no_longer_current))._write_current(False)
    _write_figures(Incident, changed_incidents)
    _count_in_totals(counted_before, counted_after, tree_members, (shares_before, shares_after))
    _write_source_shares(shares_before, shares_after)
    _write_actors(Incident.perpetrators.through, {pk: b.alleged for pk, b in blames.items()})
    _write_actors(Incident.claimed_by.through, {pk: b.claimed for pk, b in blames.items()})


def _derive(reports, attributions, *, in_part_tree, status, start_date, location):
    """(the stored figures, the pks of the current reports, the ``Blame``) of one incident with
    these ``reports`` (``ReportFigures``) and ``attributions`` (``AttributionStance``)."""
    blamed = blame.blame(attributions)
    values = stored_values(figures.incident_figures_of_reports(reports))
    values["in_part_tree"] = in_part_tree
    values["attribution_disputed"] = blamed.is_disputed
    values["totalled_in"] = totalled_in(status, start_date)
    values["totalled_at"] = totalled_at(status, location)
    return values, {report.pk for report in figures.current_reports(reports)}, blamed


def fill_new(new_incidents):
    """The figures of incidents about to be created, for their INSERTs to store: no second
    write of each row (an import creates hundreds of thousands).

    ``new_incidents``: [(incident Row, [report Row], [attribution Row])] of new drafts with
    all their reports and attributions, in no part tree: what ``refresh()`` would store just
    after the INSERTs, computed the same way (``_derive``). Sets ``Incident.FIGURE_FIELDS`` on
    each incident Row and ``is_current`` on each report Row; a report's entry order is its
    place in the list, as the INSERT numbers them. No lock: no one else sees the rows before
    they are committed, and no query. Returns each incident's (``Blame``, source shares), for
    ``store_new()`` once the incidents have their ids. A draft is not in the month, place or
    source totals: nothing to count (its source shares are, once it is published).
    """
    from incidents.models import Incident

    derived = []
    for incident, reports, attributions in new_incidents:
        assert incident["status"] == Incident.Status.DRAFT and incident["part_of_id"] is None
        figures_of = [ReportFigures(**{**{name: report.get(name) for name in REPORT_FIELDS}, "pk": i})
                      for i, report in enumerate(reports)]  # fmt: skip
        stances = [AttributionStance(**{**{name: a.get(name) for name in ATTRIBUTION_FIELDS}, "pk": i})
                   for i, a in enumerate(attributions)]  # fmt: skip
        values, current, blamed = _derive(
            figures_of,
            stances,
            in_part_tree=False,
            status=incident["status"],
            start_date=incident["start_date"],
            location=incident["location_id"],
        )
        incident.update(values)
        for i, report in enumerate(reports):
            report["is_current"] = i in current
        derived.append((blamed, source_shares(figures_of, current)))
    return derived


def store_new(derived):
    """The alleged perpetrators, claims and source shares of incidents created with
    ``fill_new()``'s figures ({incident id: its (``Blame``, source shares)}); a few queries."""
    from incidents.models import Incident

    _write_actors(Incident.perpetrators.through, {pk: b.alleged for pk, (b, _) in derived.items()})
    _write_actors(Incident.claimed_by.through, {pk: b.claimed for pk, (b, _) in derived.items()})
    _write_source_shares({}, {pk: shares for pk, (_, shares) in derived.items()})


def source_shares(reports, current_ids):
    """{source id: (reports, higher, lower, same)}: what one incident's ``reports`` (those of
    ``current_ids`` current) add to each source's totals (``SourceShare``). How a source's
    current figure of everyone killed compares with each other source's, by the numbers they
    state (``stats.verdict_rules``: higher when its lowest is above the other's highest)."""
    counts = Counter(report.source_id for report in reports)
    compared = [
        (report.source_id, figures.Figure(report.killed_qualifier, report.killed, report.killed_upper))
        for report in reports
        if report.pk in current_ids
        and report.killed_counts == figures.ALL
        and report.killed_qualifier in figures.COMPARABLE_QUALIFIERS
    ]
    verdicts = {source: [0, 0, 0] for source in counts}
    for mine_source, mine in compared:
        for their_source, theirs in compared:
            ends = (mine.stated_low, mine.stated_high, theirs.stated_low, theirs.stated_high)
            if their_source == mine_source or None in ends:
                continue
            mine_low, mine_high, their_low, their_high = ends
            verdict = 0 if mine_low > their_high else 1 if mine_high < their_low else 2
            verdicts[mine_source][verdict] += 1
    return {source: (counts[source], *verdicts[source]) for source in counts}


def stored_source_shares(incident_ids):
    """{incident id: {source id: (reports, higher, lower, same)}} as ``SourceShare`` holds them. One query."""
    from incidents.models import SourceShare

    shares = {pk: {} for pk in incident_ids}
    for incident_id, source_id, *sums in SourceShare.objects.filter(among("incident_id", shares)).values_list(
        "incident_id", "source_id", *SOURCE_SUMS
    ):
        shares[incident_id][source_id] = tuple(sums)
    return shares


def _write_source_shares(before, after):
    """Make the ``SourceShare`` rows of the incidents whose shares changed be ``after``."""
    from incidents.models import SourceShare

    changed = [pk for pk in after if after[pk] != before.get(pk, {})]
    if not changed:
        return
    SourceShare.objects.filter(among("incident_id", changed)).delete()
    # Plain rows (``rows.Table``), not model instances: an import writes one per new incident.
    Table(SourceShare).insert(
        Row(incident_id=pk, source_id=source, **dict(zip(SOURCE_SUMS, sums, strict=True)))
        for pk in changed
        for source, sums in after[pk].items()
    )


def _write_actors(through, wanted):
    """Make the incident-actor rows of ``through`` be ``wanted`` ({incident id: actor ids})."""
    held = {pk: set() for pk in wanted}
    for incident_id, actor_id in through.objects.filter(among("incident_id", wanted)).values_list(
        "incident_id", "actor_id"
    ):
        held[incident_id].add(actor_id)
    for pk, actors in wanted.items():
        if held[pk] - actors:
            through.objects.filter(incident_id=pk, actor_id__in=held[pk] - actors).delete()
    Table(through).insert(
        Row(incident_id=pk, actor_id=actor) for pk, actors in wanted.items() for actor in actors - held[pk]
    )


def _write_figures(Incident, incidents, names=None):
    """Write the ``names`` columns (default: ``Incident.FIGURE_FIELDS``) of the changed
    ``incidents`` ([(pk, {name: value})]), a few hundred incidents to a statement.

    Plain SQL (``rows.Table.update``): Django's update() refuses these columns outside this
    module, and its bulk_update builds a CASE per column and row, which took most of a bulk
    refresh's time.
    """
    if not incidents:
        return
    table = Table(Incident, [Incident._meta.get_field(name) for name in names or Incident.FIGURE_FIELDS])
    table.update({**values, "id": pk} for pk, values in incidents)


def stored_values(incident_figures):
    """The ``Incident.FIGURE_FIELDS`` (but ``in_part_tree``) of a ``figures.IncidentFigures``."""
    killed, civilians = incident_figures.killed, incident_figures.civilians
    return {
        "killed_lowest": killed.lowest,
        "killed_highest": killed.highest,
        "killed_highest_open": killed.highest_open,
        "killed_spread": killed.spread,
        "figure_count": killed.figure_count,
        "source_count": incident_figures.source_count,
        "is_disputed": incident_figures.is_disputed,
        "killed_agreement": killed.agreement or "",
        "killed_is_floor": killed.is_floor,
        "killed_contradictory": incident_figures.killed_contradictory,
        "civilians_lowest": civilians.lowest,
        "civilians_highest": civilians.highest,
        "civilians_highest_open": civilians.highest_open,
        "is_contradictory": incident_figures.is_contradictory,
    }


# --- Month, place and source totals --------------------------------------------------------------
#
# Locks: an incident's row first (``lock``, ``refresh``), then the totals (``_lock_totals``),
# never the other way round within one call. Every writer of the totals holds that one lock
# until it commits, so the totals are written by one transaction at a time, and a part tree is
# recounted from what the transactions before it committed plus the writer's own changes.

# pg_advisory_xact_lock key for "the totals" (any number no other lock of ours uses).
TOTALS_LOCK = 160_023_001

# What a part tree's recount reads of each incident in it.
TREE_FIELDS = ["pk", "part_of", "totalled_in", "in_part_tree", "killed_lowest", "killed_highest",
               "killed_highest_open"]  # fmt: skip


def totalled_in(status, start_date):
    """The month whose totals count an incident: its start date's, while it is published."""
    return start_date.replace(day=1) if status == "published" else None


def totalled_at(status, location_id):
    """The place whose totals (``PlaceTotal``) count an incident: its own, while it is published."""
    return location_id if status == "published" else None


@dataclass(frozen=True)
class Counted:
    """How the month and place totals count one incident, from its stored columns (``of``).

    Every published incident adds itself to its month's and its place's counts; one outside part
    trees also adds its own figure (a missing end as 0, as SQL's SUM skips it); one in a part
    tree adds its ``PartTreeShare`` instead (to the months; the places add part trees at
    reading)."""

    month: datetime.date | None = None
    place: int | None = None
    with_figures: bool = False
    disputed: bool = False
    in_part_tree: bool = False
    lowest: int = 0
    highest: int = 0
    highest_open: bool = False

    @classmethod
    def of(cls, values):
        return cls(
            month=values["totalled_in"],
            place=values["totalled_at"],
            with_figures=values["killed_lowest"] is not None,
            disputed=values["is_disputed"],
            in_part_tree=values["in_part_tree"],
            lowest=values["killed_lowest"] or 0,
            highest=values["killed_highest"] or 0,
            highest_open=values["killed_highest_open"],
        )


@dataclass(frozen=True)
class Share:
    """What one published part-tree incident adds (``PartTreeShare``): ``Ends`` or None."""

    month: datetime.date
    in_month: figures.Ends | None
    in_all: figures.Ends | None

    @classmethod
    def of_row(cls, row):
        def ends(prefix):
            lowest = getattr(row, f"{prefix}_lowest")
            if lowest is None:
                return None
            return figures.Ends(lowest, getattr(row, f"{prefix}_highest"), getattr(row, f"{prefix}_open"))

        return cls(row.month, ends("month"), ends("all"))

    def as_row(self, pk, PartTreeShare):
        values = {}
        for prefix, ends in (("month", self.in_month), ("all", self.in_all)):
            ends = ends or figures.Ends()
            values.update(
                {
                    f"{prefix}_lowest": ends.lowest,
                    f"{prefix}_highest": ends.highest,
                    f"{prefix}_open": ends.highest_open,
                }
            )
        return PartTreeShare(incident_id=pk, month=self.month, **values)


class _Differences:
    """What to add to each month's ``MonthTotal`` columns and each place's ``PlaceTotal`` columns."""

    def __init__(self):
        self.months = defaultdict(lambda: dict.fromkeys(MONTH_SUMS, 0))
        self.places = defaultdict(lambda: dict.fromkeys(PLACE_SUMS, 0))
        self.sources = defaultdict(lambda: dict.fromkeys(SOURCE_SUMS, 0))

    def _add_ends(self, row, prefix, ends, sign):
        row[f"{prefix}lowest"] += sign * ends.lowest
        row[f"{prefix}highest"] += sign * ends.highest
        row[f"{prefix}open_incidents"] += sign * ends.highest_open

    def add_incident(self, counted, sign):
        ends = figures.Ends(counted.lowest, counted.highest, counted.highest_open)
        # Part trees: added to the months as shares (add_share), to the places at reading.
        rows = []
        if counted.month is not None:
            rows.append((self.months[counted.month], ["", "all_"]))
        if counted.place is not None:
            rows.append((self.places[counted.place], [""]))
        for row, prefixes in rows:
            row["incidents"] += sign
            row["incidents_with_figures"] += sign * counted.with_figures
            row["disputed_incidents"] += sign * counted.disputed
            if not counted.in_part_tree:
                for prefix in prefixes:
                    self._add_ends(row, prefix, ends, sign)

    def add_share(self, share, sign):
        if share is None:
            return
        row = self.months[share.month]
        for prefix, ends in (("", share.in_month), ("all_", share.in_all)):
            if ends is not None:
                self._add_ends(row, prefix, ends, sign)

    def changed(self):
        return {month: row for month, row in self.months.items() if any(row.values())}

    def changed_places(self):
        return {place: row for place, row in self.places.items() if any(row.values())}

    def add_source_shares(self, shares, sign):
        """``shares``: {source id: (reports, higher, lower, same)} of one incident."""
        for source, sums in shares.items():
            row = self.sources[source]
            for name, value in zip(SOURCE_SUMS, sums, strict=True):
                row[name] += sign * value

    def changed_sources(self):
        return {source: row for source, row in self.sources.items() if any(row.values())}

    def any_changed(self):
        return bool(self.changed() or self.changed_places() or self.changed_sources())


def _lock_totals():
    """Wait for, then hold until commit, the one lock of the totals' writers.

    PostgreSQL: an advisory lock (no row to create or lose). SQLite lets one transaction
    write at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TOTALS_LOCK])


def _count_in_totals(before, after, tree_members, shares=None):
    """Add to the month, place and source totals the difference between how they counted these
    incidents (``before``: {pk: Counted}) and how they must count them now (``after``), and
    recount the part trees of ``tree_members``. ``shares``: (before, after), each {pk: {source
    id: sums}}, the incidents' source shares (``source_shares``), added while an incident is
    published. Takes the totals' lock only when something changes."""
    differences = _Differences()
    for pk, old in before.items():
        if old != after[pk]:
            differences.add_incident(old, -1)
            differences.add_incident(after[pk], +1)
        if shares is not None:
            old_shares, new_shares = shares[0].get(pk, {}), shares[1].get(pk, {})
            if old.month is not None:
                differences.add_source_shares(old_shares, -1)
            if after[pk].month is not None:
                differences.add_source_shares(new_shares, +1)
    if not differences.any_changed() and not tree_members:
        return
    _lock_totals()
    if tree_members:
        _recount_trees(tree_members, differences)
    _add_to_months(differences.changed())
    _add_to_places(differences.changed_places())
    _add_to_sources(differences.changed_sources())


def recount(incident_ids):
    """Count these incidents in the month and place totals as they now are, after a change of
    status, start date or place (their figures are as they were). Locks them first, like ``refresh()``. About
    four queries per thousand incidents, more when they are in part trees."""
    from incidents.models import Incident

    ids = sorted({pk for pk in incident_ids if pk is not None})
    counted_fields = ["totalled_in", "totalled_at", "killed_lowest", "killed_highest",
                      "killed_highest_open", "is_disputed", "in_part_tree"]  # fmt: skip
    with transaction.atomic():
        for start in range(0, len(ids), CHUNK):
            before, after, moved, tree_members = {}, {}, [], set()
            for pk, status, start_date, location, *values in (
                Incident.objects.select_for_update(no_key=True)
                .filter(pk__in=ids[start : start + CHUNK])
                .order_by("pk")
                .values_list("pk", "status", "start_date", "location", *counted_fields)
            ):
                values = dict(zip(counted_fields, values, strict=True))
                before[pk] = Counted.of(values)
                now = {
                    "totalled_in": totalled_in(status, start_date),
                    "totalled_at": totalled_at(status, location),
                }
                after[pk] = Counted.of({**values, **now})
                if (now["totalled_in"], now["totalled_at"]) != (values["totalled_in"], values["totalled_at"]):
                    moved.append((pk, now))
                    if values["in_part_tree"] and now["totalled_in"] != values["totalled_in"]:
                        tree_members.add(pk)
            _write_figures(Incident, moved, names=["totalled_in", "totalled_at"])
            # Published or unpublished: their source shares are added or taken away.
            shares = stored_source_shares(
                [pk for pk in before if (before[pk].month is None) != (after[pk].month is None)]
            )
            _count_in_totals(before, after, tree_members, (shares, shares))


def forget(incident_ids):
    """Take incidents that are about to be deleted out of the month, place and source totals.
    The part trees they leave are recounted by the ``refresh()`` of their wholes that follows
    the delete."""
    from incidents.models import Incident, PartTreeShare

    ids = sorted({pk for pk in incident_ids if pk is not None})
    with transaction.atomic():
        lock(ids)
        differences = _Differences()
        shares = stored_source_shares(ids)
        for values in Incident.objects.filter(pk__in=ids).values(*TREE_FIELDS, "is_disputed", "totalled_at"):
            differences.add_incident(Counted.of(values), -1)
            if values["totalled_in"] is not None:
                differences.add_source_shares(shares[values["pk"]], -1)
        tree_shares = PartTreeShare.objects.filter(incident_id__in=ids)
        for row in tree_shares:
            differences.add_share(Share.of_row(row), -1)
        if differences.any_changed():
            _lock_totals()
            _add_to_months(differences.changed())
            _add_to_places(differences.changed_places())
            _add_to_sources(differences.changed_sources())
        tree_shares.delete()


def _trees_of(incident_ids):
    """Every incident in the part trees of ``incident_ids`` (up to their wholes, down to every
    part, drafts too) as {pk: {TREE_FIELDS}}. A query per level of the trees."""
    from incidents.models import Incident

    found, asked, wanted = {}, set(), set(incident_ids)
    while wanted:
        asked |= wanted
        rows = (
            Incident.objects.filter(Q(pk__in=wanted) | Q(part_of__in=wanted)).order_by().values(*TREE_FIELDS)
        )
        wanted = set()
        for row in rows:
            found[row["pk"]] = row
            wanted |= {row["pk"], row["part_of"]}
        wanted = {pk for pk in wanted if pk is not None} - asked
    return found


def tree_shares(rows):
    """{pk: Share} of the published incidents in part trees among ``rows`` ({pk: {TREE_FIELDS}},
    whole trees: every incident linked to one of them by ``part_of`` is there too).

    The same arithmetic as ``stats.tree_ends``: ``figures.contributions`` over the published
    members of each tree, once over each month's and once over all of them, the climb from a
    part to its whole passing through drafts. A tree with a cycle (refused on every write path)
    counts each member alone.
    """
    members = [row for row in rows.values() if row["in_part_tree"] and row["totalled_in"] is not None]
    links = {pk: row["part_of"] for pk, row in rows.items() if row["part_of"] is not None}
    in_all, in_month, by_month = {}, {}, defaultdict(list)
    for tree in _separate_trees(members, links):
        in_all |= _contributions(tree, links)
        for row in tree:
            by_month[(id(tree), row["totalled_in"])].append(row)
    for group in by_month.values():
        in_month |= _contributions(group, links)
    shares = {}
    for row in members:
        pk = row["pk"]
        share = Share(row["totalled_in"], in_month.get(pk), in_all.get(pk))
        if share.in_month is not None or share.in_all is not None:
            shares[pk] = share
    return shares


def _separate_trees(members, links):
    """``members`` grouped by the tree they are in (the top of their chain of wholes)."""

    def top(pk):
        seen = {pk}
        while links.get(pk) is not None and links[pk] not in seen:
            pk = links[pk]
            seen.add(pk)
        return min(seen) if links.get(pk) in seen else pk  # a cycle: any one of it, the same each time

    trees = defaultdict(list)
    for row in members:
        trees[top(row["pk"])].append(row)
    return list(trees.values())


def _contributions(rows, links):
    """{pk: Ends} that the counted incidents of ``rows`` add (known ones only)."""
    tolls = [
        figures.IncidentToll(
            row["pk"],
            row["part_of"],
            figures.Ends(row["killed_lowest"], row["killed_highest"], row["killed_highest_open"]),
        )
        for row in rows
    ]
    try:
        counted = figures.contributions(tolls, parents=links)
    except ValueError:  # a part cycle: as stats.tree_ends, each member alone
        counted = {toll.pk: toll.toll for toll in tolls}
    return {pk: ends for pk, ends in counted.items() if ends.is_known}


def _recount_trees(incident_ids, differences):
    """Recount the part trees of ``incident_ids`` and store each member's new share, adding the
    difference to ``differences``. Read after the totals' lock is held (see above)."""
    from incidents.models import PartTreeShare

    rows = _trees_of(incident_ids)
    shares = tree_shares(rows)
    stored = {
        row.incident_id: Share.of_row(row)
        for row in PartTreeShare.objects.filter(incident_id__in={*rows, *incident_ids})
    }
    changed = [pk for pk in {*shares, *stored} if shares.get(pk) != stored.get(pk)]
    for pk in changed:
        differences.add_share(stored.get(pk), -1)
        differences.add_share(shares.get(pk), +1)
    if changed:
        PartTreeShare.objects.filter(incident_id__in=changed).delete()
        PartTreeShare.objects.bulk_create(
            [shares[pk].as_row(pk, PartTreeShare) for pk in changed if pk in shares]
        )


def _add_to_months(changed):
    """Add {month: {column: difference}} to the ``MonthTotal`` rows (made when missing). Three
    queries, however many months."""
    from incidents.models import MonthTotal

    _add_to_rows(MonthTotal, "month", MONTH_SUMS, changed)


def _add_to_places(changed):
    """Add {place id: {column: difference}} to the ``PlaceTotal`` rows (made when missing). Three
    queries, however many places."""
    from incidents.models import PlaceTotal

    _add_to_rows(PlaceTotal, "location_id", PLACE_SUMS, changed)


def _add_to_sources(changed):
    """Add {source id: {column: difference}} to the ``SourceTotal`` rows (made when missing).
    Three queries, however many sources."""
    from incidents.models import SourceTotal

    _add_to_rows(SourceTotal, "source_id", SOURCE_SUMS, changed)


def _add_to_rows(model, key, columns, changed):
    if not changed:
        return
    existing = set(model.objects.filter(**{f"{key}__in": changed}).values_list(key, flat=True))
    model.objects.bulk_create([model(**{key: value}) for value in changed if value not in existing])
    quote = connection.ops.quote_name
    key_field = model._meta.get_field(key.removesuffix("_id"))
    assignments = ", ".join(f"{quote(c)} = {quote(c)} + %s" for c in columns)
    # Only our own table and column names, quoted; every value is a parameter.
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(key_field.column)} = %s"  # noqa: S608
    rows = [
        [row[c] for c in columns] + [key_field.get_db_prep_value(value, connection)]
        for value, row in sorted(changed.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def totals_from_scratch(Incident=None):
    """({month: {column: value}}, {pk: Share}): the month totals and part-tree shares counted
    from every incident's stored columns, as ``rebuild_totals`` writes them and as the kept
    ones must always be. Two queries over every incident."""
    if Incident is None:
        from incidents.models import Incident
    differences = _Differences()
    for row in (
        Incident._base_manager.filter(totalled_in__isnull=False)
        .order_by()
        .values("totalled_in")
        .annotate(**_counted_columns())
    ):
        month = differences.months[row.pop("totalled_in")]
        month.update(row)
        for name in ("lowest", "highest", "open_incidents"):
            month[f"all_{name}"] = row[name]
    rows = {
        row["pk"]: row
        for row in Incident._base_manager.filter(Q(in_part_tree=True) | Q(part_of__isnull=False))
        .order_by()
        .values(*TREE_FIELDS)
    }
    shares = tree_shares(rows)
    for share in shares.values():
        differences.add_share(share, +1)
    return {month: row for month, row in differences.months.items() if row["incidents"]}, shares


def _counted_columns():
    """How a month's or a place's totals count the incidents in them, in SQL: every incident
    in the counts, only those outside part trees in the range (their trees are added apart)."""
    alone = Q(in_part_tree=False)
    return {
        "incidents": Count("*"),
        "incidents_with_figures": Count("killed_lowest"),
        "disputed_incidents": Count("pk", filter=Q(is_disputed=True)),
        "lowest": Sum("killed_lowest", filter=alone, default=0),
        "highest": Sum("killed_highest", filter=alone, default=0),
        "open_incidents": Count("pk", filter=alone & Q(killed_highest_open=True)),
    }


def place_totals_from_scratch(Incident=None):
    """{place id: {column: value}}: the place totals counted from every incident's stored
    columns, as ``rebuild_totals`` writes them and as the kept ones must always be. One query
    over every incident."""
    if Incident is None:
        from incidents.models import Incident
    return {
        row.pop("totalled_at"): row
        for row in Incident._base_manager.filter(totalled_at__isnull=False)
        .order_by()
        .values("totalled_at")
        .annotate(**_counted_columns())
    }


def source_shares_from_scratch(Incident=None, TollReport=None):
    """Yield (incident id, {source id: sums}) for every incident with reports, counted from the
    reports as they are marked (``source_shares``), a few thousand incidents to a query."""
    if Incident is None:
        from incidents.models import Incident, TollReport
    ids = list(Incident._base_manager.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), 5 * CHUNK):
        chunk = ids[start : start + 5 * CHUNK]
        reports = defaultdict(list)
        for values in (
            TollReport._base_manager.filter(incident_id__gte=chunk[0], incident_id__lte=chunk[-1])
            .order_by()
            .values_list(*REPORT_FIELDS)
        ):
            report = ReportFigures._make(values)
            reports[report.incident_id].append(report)
        for pk, rows in reports.items():
            yield pk, source_shares(rows, {row.pk for row in rows if row.is_current})


def rebuild_source_totals(apps=None):
    """Count the source shares and totals again from scratch (``SourceShare``, ``SourceTotal``).
    For ``rebuild_totals`` and the migration that made them (which passes its ``apps``)."""
    from django.apps import apps as installed

    apps = apps or installed
    Incident, TollReport, SourceShare, SourceTotal = (
        apps.get_model("incidents", name) for name in ("Incident", "TollReport", "SourceShare", "SourceTotal")
    )
    published = set(Incident._base_manager.filter(status="published").values_list("pk", flat=True))
    totals = defaultdict(lambda: [0] * len(SOURCE_SUMS))
    with transaction.atomic():
        _lock_totals()
        SourceShare.objects.all().delete()
        batch = []
        for pk, shares in source_shares_from_scratch(Incident, TollReport):
            for source, sums in shares.items():
                batch.append(
                    SourceShare(incident_id=pk, source_id=source, **dict(zip(SOURCE_SUMS, sums, strict=True)))
                )
                if pk in published:
                    totals[source] = [a + b for a, b in zip(totals[source], sums, strict=True)]
            if len(batch) >= 5 * CHUNK:
                SourceShare.objects.bulk_create(batch)
                batch = []
        SourceShare.objects.bulk_create(batch)
        SourceTotal.objects.all().delete()
        SourceTotal.objects.bulk_create(
            [
                SourceTotal(source_id=source, **dict(zip(SOURCE_SUMS, sums, strict=True)))
                for source, sums in totals.items()
            ]
        )


def rebuild_totals(apps=None):
    """Count the month, place and source totals again from scratch: every incident's
    ``totalled_in`` and ``totalled_at``, every ``PartTreeShare``, ``MonthTotal``, ``PlaceTotal``
    and (``rebuild_source_totals``) ``SourceShare`` and ``SourceTotal``. For ``manage.py
    rebuild_totals`` and the migrations that made them (which pass their ``apps``; the place
    totals once they exist). Returns how many months hold incidents."""
    from django.apps import apps as installed
    from django.db.models import DateField
    from django.db.models.functions import Trunc

    apps = apps or installed
    Incident, MonthTotal, PartTreeShare = (
        apps.get_model("incidents", name) for name in ("Incident", "MonthTotal", "PartTreeShare")
    )
    month = Trunc("start_date", "month", output_field=DateField())
    with transaction.atomic():
        # Incidents' rows first (an UPDATE locks them), then the totals: the order writers use.
        published = Incident._base_manager.filter(status="published")
        published.exclude(totalled_in=month).update(totalled_in=month)
        published.filter(totalled_in__isnull=True).update(totalled_in=month)
        Incident._base_manager.exclude(status="published").exclude(totalled_in=None).update(totalled_in=None)
        places = _model_if_migrated(apps)
        if places is not None:
            published.exclude(totalled_at=F("location_id")).update(totalled_at=F("location_id"))
            published.filter(totalled_at__isnull=True).update(totalled_at=F("location_id"))
            Incident._base_manager.exclude(status="published").exclude(totalled_at=None).update(
                totalled_at=None
            )
        _lock_totals()
        months, shares = totals_from_scratch(Incident)
        PartTreeShare.objects.all().delete()
        PartTreeShare.objects.bulk_create(
            [share.as_row(pk, PartTreeShare) for pk, share in shares.items()], batch_size=CHUNK
        )
        MonthTotal.objects.all().delete()
        MonthTotal.objects.bulk_create([MonthTotal(month=m, **row) for m, row in months.items()])
        if places is not None:
            places.objects.all().delete()
            places.objects.bulk_create(
                [places(location_id=pk, **row) for pk, row in place_totals_from_scratch(Incident).items()],
                batch_size=CHUNK,
            )
    if _model_if_migrated(apps, "SourceTotal") is not None:
        rebuild_source_totals(apps)
    return len(months)


def _model_if_migrated(apps, name="PlaceTotal"):
    """``PlaceTotal`` (or ``name``) as ``apps`` knows it, or None before the migration that made it."""
    try:
        return apps.get_model("incidents", name)
    except LookupError:
        return None
