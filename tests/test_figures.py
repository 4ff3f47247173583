"""The toll arithmetic of DESIGN.md, without a database."""

import pytest

from incidents.figures import Figure, TollRange, incident_range, total


@pytest.mark.parametrize(
    "figure, words",
    [
        (Figure("exact", 17), "17"),
        (Figure("at_least", 89), "at least 89"),
        (Figure("more_than", 120), "more than 120"),
        (Figure("about", 50), "about 50"),
        (Figure("between", 10, 15), "between 10 and 15"),
        (Figure("up_to", 15), "up to 15"),
        (Figure("unknown", None), "unknown"),
        (Figure("exact", 1200), "1,200"),
    ],
)
def test_a_figure_reads_as_the_source_stated_it(figure, words):
    assert figure.as_stated() == words


def test_homs_ranges_from_89_to_an_open_120():
    toll = incident_range([Figure("at_least", 89), Figure("more_than", 120)])
    assert (toll.lowest, toll.highest, toll.highest_open) == (89, 120, True)
    assert toll.is_disputed
    assert toll.short() == "89–120+"


def test_a_range_uses_its_lower_end_for_lowest_and_upper_end_for_highest():
    toll = incident_range([Figure("between", 10, 15), Figure("exact", 12)])
    assert (toll.lowest, toll.highest, toll.highest_open) == (10, 15, False)


def test_the_highest_is_open_only_when_the_report_giving_it_is_open():
    toll = incident_range([Figure("at_least", 50), Figure("exact", 60)])
    assert toll.highest == 60 and not toll.highest_open


def test_the_highest_is_open_when_any_report_giving_it_is_open():
    toll = incident_range([Figure("exact", 60), Figure("more_than", 60), Figure("exact", 40)])
    assert toll.highest == 60 and toll.highest_open


def test_unknown_figures_count_as_sources_but_not_in_the_range():
    toll = incident_range([Figure("unknown", None), Figure("exact", 5)])
    assert (toll.lowest, toll.highest, toll.source_count, toll.figure_count) == (5, 5, 2, 1)
    assert not toll.is_disputed


def test_an_incident_with_only_unknown_figures_has_no_range():
    toll = incident_range([Figure("unknown", None)])
    assert not toll.is_known and toll.short() == "unknown" and toll.source_count == 1


def test_one_source_giving_a_range_is_uncertain_not_disputed():
    assert not incident_range([Figure("between", 10, 15)]).is_disputed


def test_two_sources_agreeing_are_not_disputed():
    assert not incident_range([Figure("exact", 7), Figure("about", 7)]).is_disputed


def test_totals_add_lowests_and_highests_and_never_average():
    homs = incident_range([Figure("at_least", 89), Figure("more_than", 120)])
    idlib = incident_range([Figure("exact", 17)])
    unknown = incident_range([Figure("unknown", None)])
    result = total([homs, idlib, unknown], sources=3)
    assert (result.lowest, result.highest, result.highest_open) == (106, 137, True)
    assert (result.incidents, result.incidents_with_figures, result.disputed_incidents) == (3, 2, 1)
    assert result.short() == "106–137+"


def test_an_empty_total_is_zero_incidents_and_unknown():
    result = total([])
    assert result.incidents == 0 and result.short() == "unknown"


def test_spread_measures_disagreement():
    assert TollRange(lowest=89, highest=120, figure_count=2).spread == 31
