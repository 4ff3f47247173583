"""The source chart's geometry: each figure as an interval on one shared scale (DESIGN.md)."""

import pytest

from incidents import charts
from incidents.charts import ARROW_TIP, DOT, OPEN, RANGE, SCALE_LEFT, SCALE_RIGHT, round_maximum, source_chart
from incidents.figures import ABOUT, AT_LEAST, BETWEEN, DOZENS, EXACT, MORE_THAN, UNKNOWN, UP_TO, Figure

LONG_NAME = "Syrian Network for Human Rights, field documentation network"  # 60 characters


def four_sources():
    return source_chart(
        [
            ("French military intelligence", Figure(BETWEEN, 100, 300)),
            ("Local council", Figure(EXACT, 471)),
            ("MoH", Figure(AT_LEAST, 10)),
            (LONG_NAME, Figure(DOZENS, None)),
        ]
    )


def at(value, scale_max):
    """Where ``value`` sits on a scale from 0 to ``scale_max``."""
    return pytest.approx(SCALE_LEFT + (SCALE_RIGHT - SCALE_LEFT) * value / scale_max, abs=0.05)


@pytest.mark.parametrize(
    "largest, axis_end",
    [(0, 10), (1, 1), (7, 8), (10, 10), (89, 100), (120, 150), (300, 300), (471, 500), (2_001, 2_500)],
)
def test_the_axis_ends_at_a_round_number_not_below_the_largest_figure(largest, axis_end):
    assert round_maximum(largest) == axis_end


def test_a_between_is_a_line_from_its_low_to_its_high_on_the_shared_scale():
    chart = four_sources()
    between = chart.rows[0]
    assert chart.scale_max == 500  # 471 is the largest number any source stated
    assert between.shape == RANGE
    assert between.x_low == at(100, 500) and between.x_high == at(300, 500)
    assert between.line_end == between.x_high


def test_up_to_is_a_line_from_zero():
    (row,) = source_chart([("UN", Figure(UP_TO, 50))]).rows
    assert row.shape == RANGE and row.x_low == SCALE_LEFT and row.x_high == at(50, 50)


@pytest.mark.parametrize("figure", [Figure(EXACT, 471), Figure(ABOUT, 471)], ids=["exact", "about"])
def test_an_exact_figure_or_about_is_a_dot_at_its_number(figure):
    chart = source_chart([("A", figure), ("B", Figure(BETWEEN, 100, 300))])
    dot = chart.rows[0]
    assert dot.shape == DOT and dot.x_low == dot.x_high == at(471, 500)


def test_a_real_zero_is_a_dot_at_the_start_of_the_scale():
    (row,) = source_chart([("ACLED", Figure(EXACT, 0))]).rows
    assert row.shape == DOT and row.x_low == SCALE_LEFT


@pytest.mark.parametrize(
    "figure, start",
    [(Figure(AT_LEAST, 10), 10), (Figure(MORE_THAN, 120), 120), (Figure(DOZENS, None), 24)],
    ids=["at least", "more than", "dozens from its floor"],
)
def test_an_open_figure_starts_at_its_stated_floor_and_its_arrow_reaches_the_right_end(figure, start):
    chart = source_chart([("A", figure), ("B", Figure(EXACT, 471))])
    row = chart.rows[0]
    assert row.shape == OPEN
    assert row.x_low == at(start, 500)
    # Past the end of the scale: the source said the toll may be higher than anything drawn.
    assert row.x_high == ARROW_TIP > SCALE_RIGHT
    assert row.line_end < row.x_high


def test_every_x_lies_inside_the_view_box():
    chart = four_sources()
    xs = [x for row in chart.rows for x in row.xs] + [tick.x for tick in chart.ticks]
    assert all(0 <= x <= chart.width for x in xs)
    assert all(0 < row.line_y < chart.axis_y < chart.tick_label_y < chart.height for row in chart.rows)


def test_rows_are_stacked_without_overlapping():
    rows = four_sources().rows
    for upper, lower in zip(rows, rows[1:], strict=False):
        assert upper.label_y < upper.words_y < upper.line_y < lower.label_y


def test_each_row_carries_its_label_and_its_figure_in_words():
    rows = four_sources().rows
    assert [row.full_label for row in rows] == [
        "French military intelligence",
        "Local council",
        "MoH",
        LONG_NAME,
    ]
    assert [row.words for row in rows] == [
        "between 100 and 300",
        "471",
        "at least 10",
        "dozens (counted as at least 24)",
    ]


def test_a_long_label_is_cut_with_an_ellipsis_and_kept_whole_for_its_title():
    long_row = four_sources().rows[3]
    assert long_row.is_shortened
    assert len(long_row.label) <= charts.LABEL_CHARS and long_row.label.endswith("…")
    assert LONG_NAME.startswith(long_row.label[:-1]) and long_row.full_label == LONG_NAME
    assert not four_sources().rows[0].is_shortened


def test_the_axis_is_labelled_with_zero_and_the_round_maximum():
    chart = four_sources()
    assert [(tick.text, tick.x) for tick in chart.ticks] == [
        ("0", SCALE_LEFT),
        ("250", at(250, 500)),
        ("500", SCALE_RIGHT),
    ]
    assert [tick.text for tick in source_chart([("A", Figure(EXACT, 2_400))]).ticks] == [
        "0",
        "1,250",
        "2,500",
    ]


def test_unknown_figures_are_not_drawn_and_no_figure_means_no_chart():
    chart = source_chart([("A", Figure(UNKNOWN, None)), ("B", Figure(EXACT, 5))])
    assert [row.full_label for row in chart.rows] == ["B"]
    assert source_chart([("A", Figure(UNKNOWN, None))]).rows == []
