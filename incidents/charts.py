"""Geometry for the small inline-SVG charts. Templates draw; this module only measures.

Charts must read without colour: every bar carries its figure in words, a range is an
outlined bar, and an open figure ("more than 120") ends in an arrow.
"""

from dataclasses import dataclass

CHART_WIDTH = 600
LABEL_WIDTH = 140  # room for the source's name on the left
FIGURE_ROOM = 150  # room for the figure in words on the right
ROW_HEIGHT = 28


@dataclass(frozen=True)
class SourceBar:
    label: str
    words: str
    y: int
    solid_width: float  # from zero to the lower end
    range_x: float  # where a range starts (the lower end)
    range_width: float  # from the lower to the upper end; 0 for a single figure
    is_open: bool
    end_x: float  # where the bar ends and the arrow or words begin


@dataclass(frozen=True)
class SourceChart:
    bars: list
    height: int
    scale_max: int
    axis_x: int
    axis_end: int


def _scale(value, scale_max):
    drawable = CHART_WIDTH - LABEL_WIDTH - FIGURE_ROOM
    return round(drawable * value / scale_max, 1) if scale_max else 0


def source_chart(labelled_figures):
    """One bar per source for an incident page. ``labelled_figures``: (label, Figure) pairs."""
    known = [(label, figure) for label, figure in labelled_figures if figure.is_known]
    scale_max = max((figure.high for _, figure in known), default=0)
    bars = []
    for row, (label, figure) in enumerate(known):
        low_width = _scale(figure.low, scale_max)
        high_width = _scale(figure.high, scale_max)
        bars.append(
            SourceBar(
                label=label,
                words=figure.as_stated(),
                y=row * ROW_HEIGHT + 8,
                solid_width=low_width,
                range_x=LABEL_WIDTH + low_width,
                range_width=high_width - low_width,
                is_open=figure.is_open,
                end_x=LABEL_WIDTH + high_width,
            )
        )
    return SourceChart(
        bars=bars,
        height=len(bars) * ROW_HEIGHT + 16,
        scale_max=scale_max,
        axis_x=LABEL_WIDTH,
        axis_end=CHART_WIDTH - FIGURE_ROOM,
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


@dataclass(frozen=True)
class MonthChart:
    bars: list
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    scale_max: int


def monthly_chart(months, height=180):
    """Lowest and highest totals per month, oldest first. ``months``: (date, Total) pairs."""
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
        bars.append(
            MonthBar(
                label=f"{month:%b %Y}",
                x=round(index * slot + (slot - bar_width) / 2, 1),
                width=round(bar_width, 1),
                low_y=round(plot_bottom - low, 1),
                low_height=round(low, 1),
                high_y=round(plot_bottom - high, 1),
                high_height=round(high - low, 1),
                words=f"{month:%B %Y}: {month_total.short()} killed in {month_total.incidents} incidents",
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
