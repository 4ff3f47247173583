"""The toll arithmetic, in one place.

Sources' figures are never averaged. An incident's figures are read from the
*current* report of each source (its latest ``published_on``) and published as
a range: the lowest stated figure, the highest, and whether the highest is
open-ended ("120+"). Totals over many incidents are ranges too.

Everything here works on plain values so that it can be unit-tested without a
database; ``Incident.objects.with_figures()`` is the same arithmetic in SQL.
"""

from dataclasses import dataclass

# Stored values of ``TollReport.Qualifier`` (a contract, see DESIGN.md).
EXACT = "exact"
AT_LEAST = "at_least"
MORE_THAN = "more_than"
ABOUT = "about"
UP_TO = "up_to"
BETWEEN = "between"
UNKNOWN = "unknown"

OPEN_QUALIFIERS = (AT_LEAST, MORE_THAN)


@dataclass(frozen=True)
class Figure:
    """One stated figure: a number (or a range) and the words that qualify it."""

    qualifier: str
    value: int | None
    upper: int | None = None

    @property
    def is_known(self):
        return self.qualifier != UNKNOWN and self.value is not None

    @property
    def low(self):
        """The lower end: the figure itself, or the start of a range."""
        return self.value if self.is_known else None

    @property
    def high(self):
        """The upper end: the end of a range, otherwise the figure itself."""
        if not self.is_known:
            return None
        return self.upper if self.qualifier == BETWEEN and self.upper is not None else self.value

    @property
    def is_open(self):
        """True when the source says the real figure may be higher."""
        return self.is_known and self.qualifier in OPEN_QUALIFIERS

    def as_stated(self):
        """The figure in words, as the source put it: "at least 89"."""
        if not self.is_known:
            return "unknown"
        if self.qualifier == BETWEEN:
            return f"between {self.value:,} and {self.upper:,}"
        words = {
            EXACT: "",
            AT_LEAST: "at least ",
            MORE_THAN: "more than ",
            ABOUT: "about ",
            UP_TO: "up to ",
        }[self.qualifier]
        return f"{words}{self.value:,}"

    def __str__(self):
        return self.as_stated()


def short_range(lowest, highest, highest_open):
    plus = "+" if highest_open else ""
    if lowest == highest:
        return f"{lowest:,}{plus}"
    return f"{lowest:,}–{highest:,}{plus}"


@dataclass(frozen=True)
class TollRange:
    """An incident's figures over its current reports, or a total over incidents."""

    lowest: int | None = None
    highest: int | None = None
    highest_open: bool = False
    figure_count: int = 0  # current reports that give a number
    source_count: int = 0  # current reports, with or without a number

    @property
    def is_known(self):
        return self.lowest is not None

    @property
    def is_disputed(self):
        return self.figure_count >= 2 and self.lowest != self.highest

    @property
    def spread(self):
        """How far apart the sources are; orders "most disputed" lists."""
        return (self.highest - self.lowest) if self.is_known else 0

    def short(self):
        """Compact form for lists and charts: "89–120+", "17", "unknown"."""
        return short_range(self.lowest, self.highest, self.highest_open) if self.is_known else "unknown"


def incident_range(current_figures, source_count=None):
    """Lowest, highest and openness over one incident's current figures.

    ``current_figures`` holds one ``Figure`` per source (its latest report).
    The highest is open when any report that gives the highest says
    "at least" or "more than".
    """
    current_figures = list(current_figures)
    known = [f for f in current_figures if f.is_known]
    if source_count is None:
        source_count = len(current_figures)
    if not known:
        return TollRange(source_count=source_count)
    lowest = min(f.low for f in known)
    highest = max(f.high for f in known)
    highest_open = any(f.is_open and f.high == highest for f in known)
    return TollRange(
        lowest=lowest,
        highest=highest,
        highest_open=highest_open,
        figure_count=len(known),
        source_count=source_count,
    )


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

    def short(self):
        if not self.incidents_with_figures:
            return "unknown"
        return short_range(self.lowest, self.highest, self.highest_open)


def total(ranges, sources=0):
    """Add incident ranges up. Incidents with no known figure add nothing.

    ``sources`` is the number of distinct sources behind the total, which only
    the caller can know (a source may report on several incidents).
    """
    lowest = highest = incidents = with_figures = disputed = 0
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
    return Total(
        lowest=lowest,
        highest=highest,
        highest_open=highest_open,
        incidents=incidents,
        incidents_with_figures=with_figures,
        disputed_incidents=disputed,
        sources=sources,
    )


def _people(n):
    return "person was" if n == 1 else "people were"


def _sources(n):
    return f"{n} source" if n == 1 else f"{n} sources"


def _capitalised(text):
    return text[:1].upper() + text[1:]


def range_sentence(current_figures):
    """The range in words, for the top of an incident page.

    "Between 89 and more than 120 people were reported killed, according to 2 sources that disagree."
    """
    current_figures = list(current_figures)
    toll = incident_range(current_figures)
    if not current_figures:
        return "No source has reported a figure yet."
    if not toll.is_known:
        return f"Deaths were reported without a figure, according to {_sources(toll.source_count)}."

    known = [f for f in current_figures if f.is_known]
    # Say the highest the way its source said it: "more than 120" beats "at least 120".
    top_qualifiers = {f.qualifier for f in known if f.high == toll.highest and f.is_open}
    highest = f"{toll.highest:,}"
    if top_qualifiers:
        highest = ("more than " if MORE_THAN in top_qualifiers else "at least ") + highest

    according = f"according to {_sources(toll.figure_count)}"
    if toll.figure_count == 1:
        sentence = (
            f"{_capitalised(known[0].as_stated())} {_people(known[0].high)} reported killed, {according}"
        )
    elif toll.lowest == toll.highest:
        sentence = f"{_capitalised(highest)} {_people(toll.highest)} reported killed, {according} that agree"
    else:
        sentence = (
            f"Between {toll.lowest:,} and {highest} people were reported killed, {according} that disagree"
        )
    silent = toll.source_count - toll.figure_count
    if silent:
        sentence += f" ({silent} more {'source' if silent == 1 else 'sources'} gave no figure)"
    return sentence + "."


def revision_sentence(source_label, dated_figures):
    """A source's figures over time, oldest first: "SOHR first reported 100 on 5 October 2023, then …"."""
    parts = [f"{figure.as_stated()} on {day:%-d %B %Y}" for day, figure in dated_figures]
    if len(parts) == 1:
        return f"{source_label} reported {parts[0]}."
    return f"{source_label} first reported {parts[0]}, then " + ", then ".join(parts[1:]) + "."


def current_reports(reports):
    """Each source's current report among one incident's ``reports``: its latest by
    ``published_on``, then entry order (``pk``). The one definition of "current".

    ``reports`` are objects with ``source_id``, ``published_on`` and ``pk``.
    """
    current = {}
    for report in reports:
        held = current.get(report.source_id)
        if held is None or (report.published_on, report.pk) > (held.published_on, held.pk):
            current[report.source_id] = report
    return list(current.values())
