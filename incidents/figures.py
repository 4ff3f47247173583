"""The toll arithmetic, in one place: DESIGN.md, "Reading the figures".

Pure functions and frozen dataclasses over plain values: no database, and of Django only its
translations, its number formats and its ``cached_property``. The one
writer of stored figures (``incidents.tolls``), the pages, the exports and the API all read
figures through this module, so that a figure means the same thing everywhere.

The reading, rule by rule (each rule names the code that implements it):

1. **A figure is an interval of possible tolls** (``Figure.interval``):
   exact N and about N: N to N; at least N: N to open; more than N: N+1 to open; up to N: 0 to N;
   between N and M: N to M; a plural word (several, dozens, scores, hundreds, thousands): its
   floor (3, 24, 40, 200, 2,000) to open; unknown: no interval. A plural word counts everywhere
   exactly as "at least" its floor would, but is always shown as the word.

2. **The stated ends** (``Figure.stated_low`` / ``Figure.stated_high``) are the numbers the
   source stated, and they make an incident's range: lowest = the smallest lower number (0 for
   up to, N for "more than N": a true if not tight floor), highest = the largest number stated
   (the end of a between; the figure of an open one; a plural word's floor). The highest is open
   ("120+") when a figure stating it is open-ended (``incident_range``).

3. **Current figures** (``current_reports``, ``current_figures``): per source and population,
   the latest report that gives a number or a word, by ``published_on``, then
   ``published_time`` (on one day a report without a time comes before those with one), then
   entry order (``pk``). A later unknown does not erase it. A source whose reports in a
   population are all unknown still reports there: its latest unknown report is current, so it
   is counted in ``source_count`` but adds no figure.

4. **Agreement** (``agreement``), over the current figures of one population: they *agree* when
   every figure states the same interval, *differ* when two state different intervals, and
   *contradict* when no single toll lies in every interval. Contradicting figures also differ.

5. **Populations** (``incident_figures``): all deaths, civilians, combatants, never mixed. The
   civilian figures are the ``civilians`` reports' figures and the "of whom civilians" counts of
   ``all`` reports (``of_whom_civilians``). Without any all-deaths figure, the all-deaths range
   is a floor (``TollRange.is_floor``): the largest civilian lowest plus the largest combatant
   lowest, open. Civilian and combatant figures are never ranged against all-deaths figures, but
   civilians and combatants who cannot fit under the all-deaths highest make the incident
   contradictory.

6. **Totals** (``total``, ``total_with_parts``): the sum of lowests to the sum of highests, open
   when any added highest is open. With parts, an incident counts only if no whole of it is in
   the set, and contributes, end by end, the larger of its own figure and the sum of its parts'
   contributions (``contributions``).

7. **Per-source totals** add each source's own current figure (``Figure.ends``), never the
   incident's range.

Words and sentences (``Figure.in_words``, ``range_sentence``, ``floor_sentence``,
``revision_sentence``) are in the language of the page, through Django's gettext: whole messages
with named placeholders and ngettext for counts (locale/*/LC_MESSAGES/django.po); a range
sentence once said is kept by its language and figures (``SENTENCES_SAID``). The arithmetic
itself reads no setting and no language. ``Figure.as_stated()`` stays English: it is data (CSV,
correction notes).
"""

import datetime
from dataclasses import dataclass, field
from operator import attrgetter

from django.utils.formats import date_format, number_format

# Django's, not functools': on Python 3.11 functools' takes a lock on every first reading, which
# cost an import a twentieth of its time (a figure is read once per report, thousands a batch).
from django.utils.functional import cached_property
from django.utils.translation import get_language, gettext, ngettext, pgettext

from incidents.remembered import Remembered

# --- Vocabulary (stored values: a contract, see DESIGN.md) ------------------------------------

EXACT = "exact"
AT_LEAST = "at_least"
MORE_THAN = "more_than"
ABOUT = "about"
UP_TO = "up_to"
BETWEEN = "between"
SEVERAL = "several"
DOZENS = "dozens"
SCORES = "scores"
HUNDREDS = "hundreds"
THOUSANDS = "thousands"
UNKNOWN = "unknown"

#: Qualifiers that come with a number (``killed``); ``between`` also with ``killed_upper``.
NUMBER_QUALIFIERS = (EXACT, AT_LEAST, MORE_THAN, ABOUT, UP_TO, BETWEEN)
#: Plural words: no number is entered; each is read as "at least" its floor.
PLURAL_WORDS = (SEVERAL, DOZENS, SCORES, HUNDREDS, THOUSANDS)
#: What two sources' figures are compared on (a source page's "higher, lower, the same"): a number
#: or a word; an unknown, a denial or "none" says nothing to compare.
COMPARABLE_QUALIFIERS = (*NUMBER_QUALIFIERS, *PLURAL_WORDS)
#: The smallest number each plural word can mean.
PLURAL_FLOORS = {SEVERAL: 3, DOZENS: 24, SCORES: 40, HUNDREDS: 200, THOUSANDS: 2000}
#: Every stored qualifier, in the order a form lists them.
QUALIFIERS = (*NUMBER_QUALIFIERS, *PLURAL_WORDS, UNKNOWN)
#: Qualifiers whose interval has no upper end.
OPEN_QUALIFIERS = (AT_LEAST, MORE_THAN, *PLURAL_WORDS)

# ``TollReport.killed_counts``: whom a report's killed figure counts.
ALL = "all"
CIVILIANS = "civilians"
COMBATANTS = "combatants"
POPULATIONS = (ALL, CIVILIANS, COMBATANTS)

# How the current figures of one population compare (``agreement``).
AGREE = "agree"
DIFFER = "differ"
CONTRADICT = "contradict"


def _number(n):
    return f"{n:,}"


# --- One figure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """The tolls a figure allows: ``low`` to ``high`` inclusive; ``high`` is None when open."""

    low: int
    high: int | None = None

    @property
    def is_open(self):
        return self.high is None

    def __contains__(self, toll):
        return self.low <= toll and (self.high is None or toll <= self.high)

    def intersection(self, other):
        """The tolls both allow, or None when no toll does."""
        low = max(self.low, other.low)
        highs = [h for h in (self.high, other.high) if h is not None]
        high = min(highs) if highs else None
        if high is not None and high < low:
            return None
        return Interval(low, high)


@dataclass(frozen=True)
class Ends:
    """What a figure or a part adds to a total: its lowest, its highest, and whether the highest
    is open. ``lowest``/``highest`` are None when nothing is known."""

    lowest: int | None = None
    highest: int | None = None
    highest_open: bool = False

    @property
    def is_known(self):
        return self.lowest is not None

    # A lone figure or contribution is never disputed; ``total()`` asks.
    is_disputed = False
    is_contradictory = False

    def ends(self):
        """Itself: ``Ends`` can stand where a range is read for its ends (``contributions``)."""
        return self

    def __add__(self, other):
        if not other.is_known:
            return self
        if not self.is_known:
            return other
        return Ends(
            self.lowest + other.lowest, self.highest + other.highest, self.highest_open or other.highest_open
        )


@dataclass(frozen=True)
class Figure:
    """One stated figure: a qualifier, its number (none for a plural word or unknown) and, for
    ``between``, its upper number. ``TollReport.killed_figure`` gives one.

    Its readings are computed once (``cached_property``: a page of a hundred incidents reads
    them tens of thousands of times); the figure itself never changes (frozen)."""

    qualifier: str
    value: int | None
    upper: int | None = None

    # What it says --------------------------------------------------------------------------

    @property
    def is_word(self):
        """A plural word ("dozens"), stated without a number."""
        return self.qualifier in PLURAL_WORDS

    @cached_property
    def is_known(self):
        """It gives a number or a word. Unknown ("deaths reported, no number") is not known."""
        if self.is_word:
            return True
        return self.qualifier in NUMBER_QUALIFIERS and self.value is not None

    @property
    def floor(self):
        """For a plural word, the smallest number it can mean (24 for dozens); else None."""
        return PLURAL_FLOORS.get(self.qualifier)

    @cached_property
    def interval(self):
        """The tolls this figure allows (an ``Interval``), or None when it is unknown.

        This exact reading decides agreement and contradiction.
        """
        if not self.is_known:
            return None
        q, n = self.qualifier, self.value
        if self.is_word:
            return Interval(self.floor, None)
        if q in (EXACT, ABOUT):
            return Interval(n, n)
        if q == AT_LEAST:
            return Interval(n, None)
        if q == MORE_THAN:
            return Interval(n + 1, None)
        if q == UP_TO:
            return Interval(0, n)
        # between; a between without its upper number (refused by validation) reads as N.
        return Interval(n, self.upper if self.upper is not None else n)

    @property
    def is_open(self):
        """The source says the real figure may be higher (at least, more than, a plural word)."""
        return self.is_known and self.qualifier in OPEN_QUALIFIERS

    @cached_property
    def stated_low(self):
        """The smallest number this figure states, for an incident's lowest: the figure itself,
        the start of a between, 0 for up to, a plural word's floor, N for "more than N"."""
        if not self.is_known:
            return None
        if self.qualifier == MORE_THAN:
            return self.value
        return self.interval.low

    @cached_property
    def stated_high(self):
        """The largest number this figure states, for an incident's highest: the end of a
        between, the figure of an open one (N for "at least N" and "more than N"), a plural
        word's floor. Whether it is open is ``is_open``."""
        if not self.is_known:
            return None
        interval = self.interval
        return interval.high if interval.high is not None else self.stated_low

    @property
    def upper_bound(self):
        """The most this figure allows (what "of whom" counts must not exceed); None when open
        or unknown."""
        return self.interval.high if self.is_known else None

    # Compatibility: charts, pages and validation read ``low``/``high`` as the stated ends.
    @property
    def low(self):
        """Same as ``stated_low`` (0 for "up to N")."""
        return self.stated_low

    @property
    def high(self):
        """Same as ``stated_high`` (a number even when open; see ``upper_bound``)."""
        return self.stated_high

    def ends(self):
        """What this one figure adds to a per-source total (``Ends``)."""
        if not self.is_known:
            return Ends()
        return Ends(self.stated_low, self.stated_high, self.is_open)

    def as_range(self, source_count=1):
        """This figure alone as a ``TollRange`` (a per-source summary row)."""
        return incident_range([self], source_count=source_count)

    # What it looks like ---------------------------------------------------------------------

    def as_stated(self):
        """The figure as the source put it, in English: "at least 89", "between 10 and 15", "0",
        "dozens", "unknown". A plural word is the word alone. This is data, the same in every
        language: CSV ``killed_as_reported`` and ``figures``, correction notes, the admin. Pages
        show ``in_words()``, in the reader's language."""
        if not self.is_known:
            return "unknown"
        if self.is_word:
            return self.qualifier
        if self.qualifier == BETWEEN:
            return f"between {_number(self.value)} and {_number(self.stated_high)}"
        words = {EXACT: "", AT_LEAST: "at least ", MORE_THAN: "more than ", ABOUT: "about ", UP_TO: "up to "}
        return f"{words[self.qualifier]}{_number(self.value)}"

    def in_words(self):
        """``as_stated()`` in the language of the page: "at least 89", "89 على الأقل"."""
        if not self.is_known:
            return pgettext("figure", "unknown")
        if self.is_word:
            return _plural_word(self.qualifier)
        if self.qualifier == BETWEEN:
            return gettext("between %(lowest)s and %(highest)s") % {
                "lowest": shown_number(self.value),
                "highest": shown_number(self.stated_high),
            }
        return _qualified(self.qualifier) % {"number": shown_number(self.value)}

    def counted_as(self):
        """How a plural word is counted, in the page's language: "at least 24" for dozens; ""
        for any other figure."""
        return _qualified(AT_LEAST) % {"number": shown_number(self.floor)} if self.is_word else ""

    def as_stated_with_reading(self):
        """The words with how they are counted, for a page's row, in the page's language:
        "dozens (counted as at least 24)"; any other figure as stated."""
        if self.is_word:
            return gettext("%(figure)s (counted as %(reading)s)") % {
                "figure": self.in_words(),
                "reading": self.counted_as(),
            }
        return self.in_words()

    def reading(self):
        """The interval in words, as /methodology/ puts it: "121 or more" for more than 120,
        "exactly 89", "from 10 to 15", "no figure" for unknown. The admin shows it beside the
        entry (``reading_rules`` lets the page redo it while the analyst types)."""
        return interval_words(self.interval)

    def __str__(self):
        """In the page's language (templates); ``as_stated()`` for data."""
        return self.in_words()


#: How an interval is said (``interval_words``); the admin's script uses the same phrases.
READING_PHRASES = {
    "none": "no figure",
    "exact": "exactly {low}",
    "open": "{low} or more",
    "range": "from {low} to {high}",
}


def interval_words(interval):
    if interval is None:
        return READING_PHRASES["none"]
    if interval.is_open:
        return READING_PHRASES["open"].format(low=_number(interval.low))
    if interval.low == interval.high:
        return READING_PHRASES["exact"].format(low=_number(interval.low))
    return READING_PHRASES["range"].format(low=_number(interval.low), high=_number(interval.high))


def reading_rules():
    """How each qualifier turns the numbers entered into an interval, as plain data for the
    admin's live reading (static/js/figure-reading.js), read off ``Figure.interval`` itself so
    that the page cannot drift from this module.

    ``{qualifier: {"number": bool, "upper": bool, "low": [field, add], "high": [field, add] or
    None when open}}``, where ``field`` is "value", "upper" or None (a constant ``add``);
    ``None`` for a qualifier that gives no interval (unknown). Also the phrases to say it in.
    """
    value, upper = 1_000_000, 2_000_000  # far apart, so each end shows which number it comes from

    def term(end):
        if end is None:
            return None
        for name, entered in (("upper", upper), ("value", value)):
            if abs(end - entered) < 1000:
                return [name, end - entered]
        return [None, end]

    rules = {}
    for qualifier in QUALIFIERS:
        takes_number = qualifier in NUMBER_QUALIFIERS
        interval = Figure(
            qualifier, value if takes_number else None, upper if qualifier == BETWEEN else None
        ).interval
        rules[qualifier] = (
            None
            if interval is None
            else {
                "number": takes_number,
                "upper": qualifier == BETWEEN,
                "low": term(interval.low),
                "high": term(interval.high),
            }
        )
    return {
        "qualifiers": rules,
        "phrases": READING_PHRASES,
        "prefix": "reads as",
        # While a number the qualifier needs is still missing.
        "missing": {"number": "enter the figure", "upper": "enter the upper figure"},
    }


def common_interval(intervals):
    """The tolls every interval allows, or None when there is none. None for no intervals."""
    intervals = list(intervals)
    if not intervals:
        return None
    common = intervals[0]
    for interval in intervals[1:]:
        common = common.intersection(interval)
        if common is None:
            return None
    return common


def agreement(figures):
    """``AGREE``, ``DIFFER`` or ``CONTRADICT`` over one population's current figures (unknown
    figures are left out); None when none is known. One figure agrees with itself.

    Homs (at least 89; more than 120) differ; exactly 120 and more than 120 contradict; two
    "between 10 and 15" agree, and so do "7" and "about 7" (both 7 to 7) and "dozens" and
    "at least 24".
    """
    intervals = [f.interval for f in figures if f.is_known]
    if not intervals:
        return None
    if len(set(intervals)) == 1:
        return AGREE
    return DIFFER if common_interval(intervals) is not None else CONTRADICT


# --- An incident's range ----------------------------------------------------------------------


def short_range(lowest, highest, highest_open):
    """ "89–120+", "17", "0" (an exact zero is never "0+"), "24+"."""
    plus = "+" if highest_open else ""
    if lowest == highest:
        return f"{lowest:,}{plus}"
    return f"{lowest:,}–{highest:,}{plus}"


@dataclass(frozen=True)
class TollRange:
    """One population's figures over an incident's current reports, or one figure alone.

    ``agreement`` is ``AGREE``/``DIFFER``/``CONTRADICT`` (None when no figure is known or the
    caller did not say). It is left out of ``==`` so that a range rebuilt from stored numbers
    (``Incident.toll``) equals the computed one; compare ``agreement`` (or ``is_disputed``,
    ``is_contradictory``) explicitly.
    """

    lowest: int | None = None
    highest: int | None = None
    highest_open: bool = False
    figure_count: int = 0  # current figures that give a number or a word
    source_count: int = 0  # sources reporting in this population, with or without a figure
    agreement: str | None = field(default=None, compare=False)
    # The all-deaths floor made of civilian and combatant figures (no all-deaths figure exists).
    is_floor: bool = False

    @property
    def is_known(self):
        return self.lowest is not None

    @property
    def is_disputed(self):
        """Sources differ: two current figures state different intervals.

        A range rebuilt from stored numbers without its ``agreement`` (``Incident.toll`` until it
        passes one) falls back to the old reading, two figures with different ends.
        """
        if self.agreement is None:
            return self.figure_count >= 2 and self.lowest != self.highest
        return self.agreement in (DIFFER, CONTRADICT)

    @property
    def is_contradictory(self):
        """No single toll lies in every current figure's interval."""
        return self.agreement == CONTRADICT

    @property
    def ends_equal_but_figures_differ(self):
        """Exactly 120 and more than 120: lowest and highest are both 120, yet the figures differ.
        A page must then show the figures as stated, not "120+"."""
        return self.is_known and self.lowest == self.highest and self.is_disputed

    @property
    def spread(self):
        """How far apart the sources are; orders "most disputed" lists."""
        return (self.highest - self.lowest) if self.is_known else 0

    def ends(self):
        return Ends(self.lowest, self.highest, self.highest_open)

    def short(self):
        """Compact form for lists and charts: "89–120+", "17", "0", "unknown"."""
        if not self.is_known:
            return pgettext("toll", "unknown")
        return short_range(self.lowest, self.highest, self.highest_open)


def incident_range(current_figures, source_count=None):
    """The range over one population's current figures (one ``Figure`` per source).

    lowest = the smallest ``stated_low``, highest = the largest ``stated_high``, open when a
    figure stating the highest is open-ended; agreement by ``agreement()``. Unknown figures
    count as sources (``source_count``, by default one per figure) but not in the range.
    """
    current_figures = list(current_figures)
    known = [f for f in current_figures if f.is_known]
    if source_count is None:
        source_count = len(current_figures)
    if not known:
        return TollRange(source_count=source_count)
    lowest = min(f.stated_low for f in known)
    highest = max(f.stated_high for f in known)
    return TollRange(
        lowest=lowest,
        highest=highest,
        highest_open=any(f.is_open and f.stated_high == highest for f in known),
        figure_count=len(known),
        source_count=source_count,
        agreement=agreement(known),
    )


# --- Current reports --------------------------------------------------------------------------
#
# A report is any object with ``source_id``, ``published_on`` (a date), ``pk`` and
# ``killed_figure`` (a ``Figure``; or else ``killed_qualifier``, ``killed``, ``killed_upper``),
# and optionally ``killed_counts`` (default "all"), ``published_time`` (default None) and
# ``civilians`` (the "of whom civilians" count, default None). ``TollReport`` is one.


def population_of(report):
    """Whom the report's killed figure counts: ``ALL``, ``CIVILIANS`` or ``COMBATANTS``."""
    return getattr(report, "killed_counts", None) or ALL


def figure_of(report):
    """The report's killed figure."""
    figure = getattr(report, "killed_figure", None)
    if figure is None:
        figure = Figure(report.killed_qualifier, report.killed, getattr(report, "killed_upper", None))
    return figure


def report_order(report):
    """Sort key, oldest first: ``published_on``, then ``published_time`` (none before any time on
    the same day), then entry order (``pk``; an unsaved report last)."""
    time = getattr(report, "published_time", None)
    return (
        report.published_on,
        time is not None,
        time or datetime.time.min,
        report.pk is None,
        report.pk or 0,
    )


def _latest(candidates):
    """The current one of one source's statements in one population: the latest known,
    else the latest (unknown) one. ``candidates``: (report, figure) pairs."""
    known = [c for c in candidates if c[1].is_known]
    return max(known or candidates, key=lambda c: report_order(c[0]))


def current_reports(reports):
    """Each source's current report per population among one incident's ``reports``: one per
    source and ``killed_counts``, in the order their sources and populations first appear.

    The latest report giving a number or a word (``report_order``); a later unknown does not
    erase it. When all of a source's reports in a population are unknown, the latest of them is
    current, so that the source still counts as reporting there. This is what
    ``TollReport.is_current`` marks.
    """
    groups = {}
    for report in reports:
        groups.setdefault((report.source_id, population_of(report)), []).append((report, figure_of(report)))
    return [_latest(candidates)[0] for candidates in groups.values()]


def of_whom_civilians(report):
    """The civilian figure an ``all`` report states through its "of whom civilians" count, or
    None when it has none (or is not an ``all`` report).

    The count carries no qualifier of its own, so it is read within the report's killed figure:
    exactly N civilians when that figure is closed (exact, about, up to, between: "89 killed, of
    whom 31 civilians"), at least N when it is open or unknown ("at least 89 killed, among them
    31 civilians": more may yet be counted, as more deaths may).
    """
    count = getattr(report, "civilians", None)
    if count is None or population_of(report) != ALL:
        return None
    killed = figure_of(report)
    closed = killed.is_known and not killed.is_open
    return Figure(EXACT if closed else AT_LEAST, count)


@dataclass(frozen=True)
class SourceFigure:
    """One source's current figure in one population, and the report that states it."""

    source_id: object
    figure: Figure
    report: object = None


def _statements(report):
    """(population, figure) for each population ``report`` speaks about."""
    yield population_of(report), figure_of(report)
    civilians = of_whom_civilians(report)
    if civilians is not None:
        yield CIVILIANS, civilians


def current_figures(reports):
    """{population: [SourceFigure, one per source]} over one incident's ``reports``, for every
    population in ``POPULATIONS`` (empty lists where nobody reported).

    The same rule as ``current_reports``, applied to what each report states about each
    population: so a source's civilian figure is the latest of its ``civilians`` reports'
    figures and its ``all`` reports' "of whom civilians" counts, whichever is later.
    """
    groups = {population: {} for population in POPULATIONS}
    for report in reports:
        for population, figure in _statements(report):
            groups.setdefault(population, {}).setdefault(report.source_id, []).append((report, figure))
    result = {}
    for population, by_source in groups.items():
        result[population] = []
        for source_id, candidates in by_source.items():
            report, figure = _latest(candidates)
            result[population].append(SourceFigure(source_id, figure, report))
    return result


# --- An incident over its populations ---------------------------------------------------------


@dataclass(frozen=True)
class IncidentFigures:
    """An incident's ranges per population and what they say together.

    ``killed`` is the all-deaths range (``killed.is_floor`` when made of civilian and combatant
    figures); ``civilians`` and ``combatants`` are ranges of their own. ``conflicts_across``:
    civilians plus combatants cannot fit under the all-deaths highest (5 killed, 50 civilians).
    """

    killed: TollRange
    civilians: TollRange
    combatants: TollRange
    conflicts_across: bool = False
    source_count: int = 0  # distinct sources over every population

    @property
    def killed_contradictory(self):
        """The all-deaths figures contradict each other or the civilian and combatant figures."""
        return self.killed.is_contradictory or self.conflicts_across

    @property
    def is_contradictory(self):
        """Some figures cannot all be true: within a population, or across them."""
        return self.conflicts_across or any(r.is_contradictory for r in self.ranges.values())

    @property
    def is_disputed(self):
        """Sources differ somewhere (the ``disputed=true`` filter); contradiction is a difference."""
        return self.is_contradictory or any(r.is_disputed for r in self.ranges.values())

    @property
    def ranges(self):
        return {ALL: self.killed, CIVILIANS: self.civilians, COMBATANTS: self.combatants}

    def range_for(self, population):
        return self.ranges[population]


def _source_figures(items):
    """SourceFigures from a population's items: SourceFigures as they are, a bare Figure as a
    source of its own."""
    result = []
    for item in items:
        if isinstance(item, Figure):
            item = SourceFigure(source_id=object(), figure=item)
        result.append(item)
    return result


def _population_range(source_figures):
    return incident_range(
        [sf.figure for sf in source_figures], source_count=len({sf.source_id for sf in source_figures})
    )


def incident_figures(by_population):
    """The ``IncidentFigures`` of ``{population: current figures}`` (``SourceFigure``s from
    ``current_figures()``, or bare ``Figure``s, each one source). A missing population is empty.

    Without an all-deaths figure, the all-deaths range is the floor
    ``max(civilian stated_low) + max(combatant stated_low)``, open (a population without figures
    adds 0), counted over every source of the incident; it is never compared with anything.

    Across populations: the incident is contradictory when the all-deaths highest is closed and
    below the largest civilian plus the largest combatant lower end (read as exact intervals,
    so "more than 50 civilians" needs at least 51 deaths). A civilian or a combatant figure alone
    above it (5 killed, 50 civilians) is the simplest case.
    """
    groups = {p: _source_figures(by_population.get(p, ())) for p in POPULATIONS}
    ranges = {p: _population_range(groups[p]) for p in POPULATIONS}
    sources = len({sf.source_id for items in groups.values() for sf in items})

    def largest(population, end):
        return max((end(sf.figure) for sf in groups[population] if sf.figure.is_known), default=0)

    killed = ranges[ALL]
    parts_known = ranges[CIVILIANS].is_known or ranges[COMBATANTS].is_known
    conflicts_across = False
    if not killed.is_known and parts_known:
        floor = largest(CIVILIANS, attrgetter("stated_low")) + largest(COMBATANTS, attrgetter("stated_low"))
        killed = TollRange(
            lowest=floor,
            highest=floor,
            highest_open=True,
            figure_count=ranges[CIVILIANS].figure_count + ranges[COMBATANTS].figure_count,
            source_count=sources,
            is_floor=True,
        )
    elif killed.is_known and not killed.highest_open and parts_known:
        at_least = largest(CIVILIANS, lambda f: f.interval.low) + largest(
            COMBATANTS, lambda f: f.interval.low
        )
        conflicts_across = at_least > killed.highest
    return IncidentFigures(
        killed=killed,
        civilians=ranges[CIVILIANS],
        combatants=ranges[COMBATANTS],
        conflicts_across=conflicts_across,
        source_count=sources,
    )


def incident_figures_of_reports(reports):
    """``incident_figures(current_figures(reports))``: an incident's figures from all its reports."""
    return incident_figures(current_figures(reports))


# --- Totals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Total:
    """A total over many incidents: the sum of lowests to the sum of highests."""

    lowest: int = 0
    highest: int = 0
    highest_open: bool = False
    incidents: int = 0
    incidents_with_figures: int = 0
    disputed_incidents: int = 0
    sources: int = 0
    contradictory_incidents: int = 0
    # Incidents left out of the sum because a whole of theirs is in the set (``total_with_parts``).
    parts_within_wholes: int = 0

    def ends(self):
        return Ends(self.lowest, self.highest, self.highest_open) if self.incidents_with_figures else Ends()

    def short(self):
        if not self.incidents_with_figures:
            return pgettext("toll", "unknown")
        return short_range(self.lowest, self.highest, self.highest_open)


def total(ranges, sources=0):
    """Add ranges up: ``TollRange``s (one per incident), or ``Ends`` (``Figure.ends()``: one
    source's own figure per incident, for per-source summaries). Unknown ones add nothing.

    ``sources`` is the number of distinct sources behind the total, which only the caller can
    know (a source may report on several incidents). No incident here is part of another: for
    sets that may hold parts, use ``total_with_parts``.
    """
    lowest = highest = incidents = with_figures = disputed = contradictory = 0
    highest_open = False
    for toll in ranges:
        incidents += 1
        if not toll.is_known:
            continue
        with_figures += 1
        lowest += toll.lowest
        highest += toll.highest
        highest_open = highest_open or toll.highest_open
        disputed += toll.is_disputed
        contradictory += toll.is_contradictory
    return Total(
        lowest=lowest,
        highest=highest,
        highest_open=highest_open,
        incidents=incidents,
        incidents_with_figures=with_figures,
        disputed_incidents=disputed,
        sources=sources,
        contradictory_incidents=contradictory,
    )


@dataclass(frozen=True)
class IncidentToll:
    """An incident for ``total_with_parts``: its id, the id of the incident it is part of (or
    None), and its range. ``Incident`` rows (``pk``, ``part_of_id``, ``toll``) fit the same
    protocol."""

    pk: object
    part_of_id: object = None
    toll: TollRange = TollRange()


def _larger(own, parts):
    """End by end, the larger of an incident's own figure and its parts' sum; open if the
    figure chosen for the highest is open (on a tie, if either is)."""
    if not parts.is_known:
        return own
    if not own.is_known:
        return parts
    if own.highest > parts.highest:
        highest_open = own.highest_open
    elif parts.highest > own.highest:
        highest_open = parts.highest_open
    else:
        highest_open = own.highest_open or parts.highest_open
    return Ends(max(own.lowest, parts.lowest), max(own.highest, parts.highest), highest_open)


def wholes_in_set(incidents, *, parents=None):
    """{pk: the nearest whole of that incident inside the set, or None} over ``incidents``.

    ``parents`` ({pk: part_of pk}) lets the climb pass through wholes outside the set (a
    filter that keeps a wave and one of its days' parts but not the day); by default only the
    incidents' own ``part_of_id`` are known. Raises ValueError on a cycle.
    """
    incidents = list(incidents)
    own = {incident.pk: incident.part_of_id for incident in incidents}
    parents = parents or {}

    def up(pk):  # the set's own links first, then those of wholes outside it (not copied: large)
        return own[pk] if pk in own else parents.get(pk)

    result = {}
    for incident in incidents:
        seen = {incident.pk}
        whole = incident.part_of_id
        while whole is not None and whole not in own:
            if whole in seen:
                raise ValueError(f"incident {incident.pk} is part of itself")
            seen.add(whole)
            whole = up(whole)
        result[incident.pk] = whole
    # A cycle inside the set: every member of it has its whole in the set, none is counted.
    for pk in result:
        seen, whole = {pk}, result[pk]
        while whole is not None:
            if whole in seen:
                raise ValueError(f"incident {pk} is part of itself")
            seen.add(whole)
            whole = result[whole]
    return result


def contributions(incidents, *, toll=attrgetter("toll"), parents=None):
    """{pk: Ends} for each incident of the set that counts (no whole of it in the set): the
    larger, end by end, of its own figure and the sum of its parts' contributions, recursively.

    A wave of 17 with one child recorded as its part adds 17; a whole without a figure of its
    own adds its parts' sum. ``toll`` picks the range to add (``lambda i: i.civilians`` for the
    civilian total).
    """
    incidents = list(incidents)
    whole_of = wholes_in_set(incidents, parents=parents)
    own = {incident.pk: toll(incident).ends() for incident in incidents}
    parts = {pk: [] for pk in own}
    for pk, whole in whole_of.items():
        if whole is not None:
            parts[whole].append(pk)

    def contribution(pk):
        summed = Ends()
        for part in parts[pk]:
            summed = summed + contribution(part)
        return _larger(own[pk], summed)

    return {pk: contribution(pk) for pk, whole in whole_of.items() if whole is None}


def total_with_parts(incidents, *, toll=attrgetter("toll"), parents=None, sources=0):
    """The total over a set of incidents that may hold parts of one another, never counting the
    same deaths twice (DESIGN.md, "Parts"): the sum of ``contributions()``.

    ``incidents`` are ``IncidentToll``s or objects with ``pk``, ``part_of_id`` and a range
    (``toll``). ``incidents``, ``incidents_with_figures``, ``disputed_incidents`` and
    ``contradictory_incidents`` count every incident of the set, parts too (they are incidents
    in their own right); ``parts_within_wholes`` says how many of them were added through their
    whole rather than on their own.
    """
    incidents = list(incidents)
    counted = contributions(incidents, toll=toll, parents=parents)
    summed = Ends()
    for ends in counted.values():
        summed = summed + ends
    ranges = [toll(incident) for incident in incidents]
    return Total(
        lowest=summed.lowest or 0,
        highest=summed.highest or 0,
        highest_open=summed.highest_open,
        incidents=len(incidents),
        incidents_with_figures=sum(1 for r in ranges if r.is_known),
        disputed_incidents=sum(1 for r in ranges if r.is_disputed),
        sources=sources,
        contradictory_incidents=sum(1 for r in ranges if r.is_contradictory),
        parts_within_wholes=len(incidents) - len(counted),
    )


# --- Words and sentences ----------------------------------------------------------------------
# In the language of the page: Django's gettext, the only Django in this module (the arithmetic
# above does not need it). Every sentence is a whole message with named placeholders, and every
# count goes through ngettext (Arabic has six plural forms), so that a translator can reorder and
# inflect it: nothing is glued together from English pieces. Where a function chooses among
# messages, each is behind a lambda: only the one asked for is translated (an API page of a
# hundred incidents asks thousands of times), and the literal calls stay where makemessages
# finds them.


def shown_number(n):
    """A number as the page's language writes it: "1,200" (casualty_tracker/formats)."""
    return number_format(n, force_grouping=True)


def _plural_word(qualifier):
    return {
        SEVERAL: lambda: pgettext("figure", "several"),
        DOZENS: lambda: pgettext("figure", "dozens"),
        SCORES: lambda: pgettext("figure", "scores"),
        HUNDREDS: lambda: pgettext("figure", "hundreds"),
        THOUSANDS: lambda: pgettext("figure", "thousands"),
    }[qualifier]()


def _qualified(qualifier):
    """A figure's pattern around its number: "at least %(number)s" …"""
    return {
        EXACT: lambda: "%(number)s",
        AT_LEAST: lambda: gettext("at least %(number)s"),
        MORE_THAN: lambda: gettext("more than %(number)s"),
        ABOUT: lambda: gettext("about %(number)s"),
        UP_TO: lambda: gettext("up to %(number)s"),
    }[qualifier]()


def _killed(population, count):
    """ "%(figures)s people were reported killed", in the plural form ``count`` asks for."""
    if population == CIVILIANS:
        return ngettext(
            "%(figures)s civilian was reported killed", "%(figures)s civilians were reported killed", count
        )
    if population == COMBATANTS:
        return ngettext(
            "%(figures)s combatant was reported killed", "%(figures)s combatants were reported killed", count
        )
    return ngettext(
        "%(figures)s person was reported killed", "%(figures)s people were reported killed", count
    )


def _killed_in_words(population):
    """A plural word takes "of": "dozens of people were reported killed"."""
    return {
        ALL: lambda: gettext("%(figures)s of people were reported killed"),
        CIVILIANS: lambda: gettext("%(figures)s of civilians were reported killed"),
        COMBATANTS: lambda: gettext("%(figures)s of combatants were reported killed"),
    }[population]()


def _killed_between(population, count):
    """ "Between %(lowest)s and %(highest)s people were reported killed"; ``count`` is the highest."""
    if population == CIVILIANS:
        return ngettext(
            "Between %(lowest)s and %(highest)s civilian was reported killed",
            "Between %(lowest)s and %(highest)s civilians were reported killed",
            count,
        )
    if population == COMBATANTS:
        return ngettext(
            "Between %(lowest)s and %(highest)s combatant was reported killed",
            "Between %(lowest)s and %(highest)s combatants were reported killed",
            count,
        )
    return ngettext(
        "Between %(lowest)s and %(highest)s person was reported killed",
        "Between %(lowest)s and %(highest)s people were reported killed",
        count,
    )


def _killed_between_and_words(population):
    """ "Between 10 and hundreds of people were reported killed": the highest is a plural word."""
    return {
        ALL: lambda: gettext("Between %(lowest)s and %(highest)s of people were reported killed"),
        CIVILIANS: lambda: gettext("Between %(lowest)s and %(highest)s of civilians were reported killed"),
        COMBATANTS: lambda: gettext("Between %(lowest)s and %(highest)s of combatants were reported killed"),
    }[population]()


def _no_one_killed(population):
    return {
        ALL: lambda: gettext("No one was reported killed"),
        CIVILIANS: lambda: gettext("No civilian was reported killed"),
        COMBATANTS: lambda: gettext("No combatant was reported killed"),
    }[population]()


def _without_figure(population, count):
    """The whole sentence for deaths reported without a number."""
    if population == CIVILIANS:
        return ngettext(
            "Civilian deaths were reported without a figure, according to %(count)s source.",
            "Civilian deaths were reported without a figure, according to %(count)s sources.",
            count,
        )
    if population == COMBATANTS:
        return ngettext(
            "Combatant deaths were reported without a figure, according to %(count)s source.",
            "Combatant deaths were reported without a figure, according to %(count)s sources.",
            count,
        )
    return ngettext(
        "Deaths were reported without a figure, according to %(count)s source.",
        "Deaths were reported without a figure, according to %(count)s sources.",
        count,
    )


def _according_to(count, agreement_value):
    """ "according to 2 sources that differ"; the agreement only with more than one figure."""
    if count > 1 and agreement_value == AGREE:
        text = ngettext(
            "according to %(count)s source that agrees", "according to %(count)s sources that agree", count
        )
    elif count > 1 and agreement_value == DIFFER:
        text = ngettext(
            "according to %(count)s source that differs", "according to %(count)s sources that differ", count
        )
    elif count > 1 and agreement_value == CONTRADICT:
        text = ngettext(
            "according to %(count)s source that contradicts itself",
            "according to %(count)s sources that contradict each other",
            count,
        )
    else:
        text = ngettext("according to %(count)s source", "according to %(count)s sources", count)
    return text % {"count": shown_number(count)}


def _capitalised(text):
    return text[:1].upper() + text[1:]


def _or_list(texts):
    """ "at least 120 or more than 120"."""
    if len(texts) == 1:
        return texts[0]
    return gettext("%(figures)s or %(last)s") % {
        "figures": pgettext("between items of a list", ", ").join(texts[:-1]),
        "last": texts[-1],
    }


def _stated_lowest(known, lowest):
    """The lowest as a reader should see it: the number, or the plural word when only words
    state it."""
    stating = [f for f in known if f.stated_low == lowest]
    if all(f.is_word for f in stating):
        return stating[0].in_words()
    return shown_number(lowest)


def _stated_highest(known, highest):
    """The figure that states the highest, the way its source said it: "more than 120" before
    "at least 120" before a plural word ("dozens"); an exact number when none is open."""
    stating = [f for f in known if f.stated_high == highest]
    for qualifier in (MORE_THAN, AT_LEAST):
        if any(f.qualifier == qualifier for f in stating):
            return Figure(qualifier, highest)
    words = [f for f in stating if f.is_word]
    return words[0] if words else Figure(EXACT, highest)


def _statement(known, toll, population):
    if toll.highest == 0 and not toll.highest_open:
        return _no_one_killed(population)
    ordered = sorted(known, key=lambda f: (f.interval.low, f.interval.high is None, f.interval.high or 0))
    stated = {}  # each way of saying it once: {words: the figure}
    for f in ordered:
        stated.setdefault(f.in_words(), f)
    stated = list(stated.items())
    if len(stated) == 1 or toll.lowest == toll.highest:
        # One way of saying it, or the ends meet (120; more than 120): the figures as stated.
        texts = [text for text, _ in stated]
        in_words = stated[-1][1].is_word
        pattern = _killed_in_words(population) if in_words else _killed(population, toll.highest)
        return _capitalised(pattern % {"figures": _or_list(texts)})
    highest = _stated_highest(known, toll.highest)
    pattern = (
        _killed_between_and_words(population)
        if highest.is_word
        else _killed_between(population, toll.highest)
    )
    return pattern % {"lowest": _stated_lowest(known, toll.lowest), "highest": highest.in_words()}


# The sentences said lately, by language, population and figures: the same incidents' sentences
# are written again on every page of every data version (a list of the API writes a hundred of
# them, about a quarter of its time).
SENTENCES_SAID = Remembered(size=4096)


def range_sentence(current_figures, *, population=ALL):
    """One population's range in words, for the top of an incident page.

    "Between 89 and more than 120 people were reported killed, according to 2 sources that
    differ." / "At least 89 people were reported killed, according to 1 source." / "No one was
    reported killed, according to 1 source." ``current_figures``: one ``Figure`` per source.
    """
    current_figures = tuple(current_figures)
    return SENTENCES_SAID.get(
        (get_language(), population, current_figures), lambda: _range_sentence(current_figures, population)
    )


def _range_sentence(current_figures, population):
    if not current_figures:
        return gettext("No source has reported a figure yet.")
    toll = incident_range(current_figures)
    if not toll.is_known:
        return _without_figure(population, toll.source_count) % {"count": shown_number(toll.source_count)}
    known = [f for f in current_figures if f.is_known]
    parts = {
        "statement": _statement(known, toll, population),
        "sources": _according_to(toll.figure_count, toll.agreement),
    }
    silent = toll.source_count - toll.figure_count
    if not silent:
        return gettext("%(statement)s, %(sources)s.") % parts
    parts["silent"] = ngettext(
        "%(count)s more source gave no figure", "%(count)s more sources gave no figure", silent
    ) % {"count": shown_number(silent)}
    return gettext("%(statement)s, %(sources)s (%(silent)s).") % parts


def floor_sentence(killed):
    """The all-deaths floor in words (``TollRange.is_floor``): "At least 71 people were reported
    killed, counting the civilian and combatant figures."."""
    return ngettext(
        "At least %(count)s person was reported killed, counting the civilian and combatant figures.",
        "At least %(count)s people were reported killed, counting the civilian and combatant figures.",
        killed.lowest,
    ) % {"count": shown_number(killed.lowest)}


def revision_sentence(source_label, dated_figures):
    """A source's figures over time, oldest first: "SOHR first reported 100 on 5 October 2023, then …"."""
    parts = [
        gettext("%(figure)s on %(date)s") % {"figure": figure.in_words(), "date": date_format(day, "j F Y")}
        for day, figure in dated_figures
    ]
    if len(parts) == 1:
        return gettext("%(source)s reported %(revision)s.") % {"source": source_label, "revision": parts[0]}
    return gettext("%(source)s first reported %(first)s, then %(later)s.") % {
        "source": source_label,
        "first": parts[0],
        "later": pgettext("between revisions of a figure", ", then ").join(parts[1:]),
    }
