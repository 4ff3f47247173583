"""Geometry for the small inline-SVG charts. Templates draw; this module only measures.

Charts must read without colour: shapes carry the meaning, and every mark has its figure in
words beside it and in the SVG's text alternative.

The source chart is an interval plot (DESIGN.md, "Reading the figures"): each source's current
figure on one shared scale, as a dot (an exact figure, "about N"), a line between two end caps
(a range: "between N and M", "up to N" from 0), or a line from its floor that ends in an arrow
past the end of the scale (an open figure: "at least", "more than", a plural word from its
floor). Each source's label and its figure in words sit on their own lines above its plot line,
left-aligned, so nothing has to share a line with a mark and nothing clips.

The SVG scales with its container (viewBox, width 100%), text included, so the viewBox is narrow
enough that its text stays legible on a 320 px phone, and CSS caps its width on a desktop.

Right to left (Arabic pages, ``rtl=True``): a horizontal axis starts where the reader starts, on
the right. The source chart's scale grows from 0 on the right towards the left, its labels start
at the right edge and an open figure's arrow points left; the monthly chart puts its oldest month
on the right. The x coordinates are mirrored here, never the drawing with a CSS transform, so
that text is never written backwards. Vertical meaning (a bar's height) does not change.
"""

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import ngettext

CHART_WIDTH = 600  # the monthly chart

# --- The source chart, in viewBox units -------------------------------------------------------

SOURCE_CHART_WIDTH = 340  # about 290 px on a 320 px phone: 14-unit text is still 12 px there
TEXT_X = 8  # labels start here, left-aligned
SCALE_LEFT = 14  # zero; room on its left for a dot's radius
SCALE_RIGHT = 290  # the round maximum of the axis
ARROW_TIP = 330  # open figures run past the scale's end to here: "and more"
ARROW_LENGTH = 10
CHART_TOP = 6  # room above the first label for its ascenders and its halo (see site.css)
ROW_HEIGHT = 58  # label line, figure line, plot line, a gap
LABEL_BASELINE = 16  # from the row's top
WORDS_BASELINE = 34
PLOT_LINE = 46
# A label longer than this is cut with "…" and given whole in a <title>. 14-unit bold text is at
# most about 10 units a character for ordinary names: 30 of them fit between TEXT_X and the edge.
LABEL_CHARS = 30
# The axis's end is the smallest of these (times a power of ten) not below the largest figure.
ROUND_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)

DOT = "dot"
RANGE = "range"
OPEN = "open"


def round_maximum(value):
    """The axis's end: the smallest round number not below ``value`` (89 → 100, 120 → 150,
    300 → 300, 471 → 500). Zero gets 10, so that a real zero sits at the left of a scale."""
    if value <= 0:
        return 10
    magnitude = 10 ** (len(str(value)) - 1)
    for step in ROUND_STEPS:
        if step * magnitude >= value:
            return int(step * magnitude)
    return 10 * magnitude  # not reached: 10 × magnitude is always enough


def _x(value, scale_max):
    return round(SCALE_LEFT + (SCALE_RIGHT - SCALE_LEFT) * value / scale_max, 1)


def _shortened(label):
    if len(label) <= LABEL_CHARS:
        return label
    return label[: LABEL_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class SourceRow:
    """One source's figure: its label and words above, its mark on the plot line below."""

    label: str  # as drawn: cut to LABEL_CHARS
    full_label: str
    words: str  # the figure as stated, a plural word with how it is counted
    shape: str  # DOT, RANGE or OPEN
    x_low: float  # the dot, or where the line starts
    x_high: float  # where a range ends; an open figure's arrow tip; the dot again for a dot
    top: int
    rtl: bool = False

    @property
    def label_y(self):
        return self.top + LABEL_BASELINE

    @property
    def words_y(self):
        return self.top + WORDS_BASELINE

    @property
    def line_y(self):
        return self.top + PLOT_LINE

    @property
    def is_shortened(self):
        return self.label != self.full_label

    @property
    def line_end(self):
        """Where the line stops: at a range's end, or where an open figure's arrowhead begins."""
        if self.shape != OPEN:
            return self.x_high
        return round(self.x_high + (ARROW_LENGTH if self.rtl else -ARROW_LENGTH), 1)

    @property
    def text_x(self):
        return _mirrored(TEXT_X) if self.rtl else TEXT_X

    @property
    def xs(self):
        """Every x this row draws at (tests check that all lie inside the viewBox)."""
        return (self.text_x, self.x_low, self.x_high, self.line_end)


@dataclass(frozen=True)
class Tick:
    x: float
    value: int

    @property
    def text(self):
        return f"{self.value:,}"  # Western digits on Arabic pages too (casualty_tracker/formats)


@dataclass(frozen=True)
class SourceChart:
    rows: list
    ticks: list
    scale_max: int
    width: int
    height: int
    axis_y: int
    axis_left: float = SCALE_LEFT  # where the scale starts (0): on the right when right to left
    axis_right: float = SCALE_RIGHT
    text_x: float = TEXT_X
    rtl: bool = False

    @property
    def tick_label_y(self):
        return self.axis_y + 18

    @property
    def arrow_back(self):
        """From an open figure's arrow tip back to its base (the SVG path's relative move)."""
        return ARROW_LENGTH if self.rtl else -ARROW_LENGTH


def _mirrored(x):
    """The x of the same point right to left: as far from the right edge as ``x`` is from the left."""
    return round(SOURCE_CHART_WIDTH - x, 1)


def source_chart(labelled_figures, *, rtl=False):
    """Each source's figure as an interval on one scale, for an incident page.

    ``labelled_figures``: (label, Figure) pairs, in the order to draw them; unknown figures are
    left out (they have no interval to draw). The scale runs from 0 to a round number at or
    above the largest number any source stated; from right to left when ``rtl``.
    """
    place = _mirrored if rtl else (lambda x: x)
    known = [(label, figure) for label, figure in labelled_figures if figure.is_known]
    scale_max = round_maximum(max((figure.stated_high for _, figure in known), default=0))
    rows = []
    for index, (label, figure) in enumerate(known):
        x_low = place(_x(figure.stated_low, scale_max))
        if figure.is_open:
            shape, x_high = OPEN, place(ARROW_TIP)
        elif figure.stated_high > figure.stated_low:
            shape, x_high = RANGE, place(_x(figure.stated_high, scale_max))
        else:
            shape, x_high = DOT, x_low
        rows.append(
            SourceRow(
                label=_shortened(label),
                full_label=label,
                words=figure.as_stated_with_reading(),
                shape=shape,
                x_low=x_low,
                x_high=x_high,
                top=CHART_TOP + index * ROW_HEIGHT,
                rtl=rtl,
            )
        )
    half = scale_max // 2
    tick_values = [0, half, scale_max] if half * 2 == scale_max and half else [0, scale_max]
    axis_y = CHART_TOP + len(rows) * ROW_HEIGHT + 4
    return SourceChart(
        rows=rows,
        ticks=[Tick(x=place(_x(value, scale_max)), value=value) for value in tick_values],
        scale_max=scale_max,
        width=SOURCE_CHART_WIDTH,
        height=axis_y + 26,
        axis_y=axis_y,
        axis_left=place(SCALE_LEFT),
        axis_right=place(SCALE_RIGHT),
        text_x=place(TEXT_X),
        rtl=rtl,
    )


@dataclass(frozen=True)
class MonthBar:
    label: str
    x: float
    width: float
    low_y: float
    low_height: float
    high_y: float
    high_height: float
    words: str
    label_x: float = 0  # where the month's name starts: the bar's left edge, its right one in RTL


@dataclass(frozen=True)
class MonthChart:
    bars: list
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    scale_max: int


def monthly_chart(months, height=180, *, rtl=False):
    """Lowest and highest totals per month, oldest first (on the right when ``rtl``).
    ``months``: (date, Total) pairs. Month names and words in the page's language."""
    months = list(months)
    plot_top, plot_bottom = 16, height - 28
    drawable = plot_bottom - plot_top
    scale_max = max((t.highest for _, t in months), default=0)
    slot = CHART_WIDTH / max(len(months), 1)
    bar_width = min(slot * 0.7, 40)  # one month alone should not fill the chart
    bars = []
    for index, (month, month_total) in enumerate(months):
        low = drawable * month_total.lowest / scale_max if scale_max else 0
        high = drawable * month_total.highest / scale_max if scale_max else 0
        x = index * slot + (slot - bar_width) / 2
        bars.append(
            MonthBar(
                label=date_format(month, "M Y"),
                x=round(CHART_WIDTH - x - bar_width if rtl else x, 1),
                width=round(bar_width, 1),
                low_y=round(plot_bottom - low, 1),
                low_height=round(low, 1),
                high_y=round(plot_bottom - high, 1),
                high_height=round(high - low, 1),
                label_x=round(CHART_WIDTH - x if rtl else x, 1),
                words=ngettext(
                    "%(month)s: %(range)s killed in %(count)s incident",
                    "%(month)s: %(range)s killed in %(count)s incidents",
                    month_total.incidents,
                )
                % {
                    "month": date_format(month, "F Y"),
                    "range": month_total.short(),
                    "count": month_total.incidents,
                },
            )
        )
    return MonthChart(
        bars=bars,
        width=CHART_WIDTH,
        height=height,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        scale_max=scale_max,
    )
