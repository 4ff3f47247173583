"""The toll arithmetic of DESIGN.md ("Reading the figures"), without a database.

Expected values come from small oracles written straight from DESIGN.md's table, not from the
code under test: ``possible_tolls`` lists every toll from 0 to 2,100 that a figure allows, and
agreement, lowest, highest and openness are read off those sets by brute force.
"""

import datetime
import functools
import itertools
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents import figures
from incidents.figures import (
    ABOUT,
    AGREE,
    ALL,
    AT_LEAST,
    BETWEEN,
    CIVILIANS,
    COMBATANTS,
    CONTRADICT,
    DIFFER,
    DOZENS,
    EXACT,
    HUNDREDS,
    MORE_THAN,
    SCORES,
    SEVERAL,
    THOUSANDS,
    UNKNOWN,
    UP_TO,
    Ends,
    Figure,
    IncidentToll,
    Interval,
    SourceFigure,
    TollRange,
    agreement,
    contributions,
    current_figures,
    current_reports,
    floor_sentence,
    incident_figures,
    incident_figures_of_reports,
    incident_range,
    range_sentence,
    revision_sentence,
    total,
    total_with_parts,
)

# --- The oracle: DESIGN.md's table, read by brute force over tolls 0 … 2,100 -----------------

MAX_TOLL = 2100  # above every number used here; a figure allowing it is open-ended
FLOORS = {"several": 3, "dozens": 24, "scores": 40, "hundreds": 200, "thousands": 2000}


@functools.cache
def possible_tolls(figure):
    """Every toll from 0 to MAX_TOLL that ``figure`` allows, or None when it is unknown."""
    q, n, m = figure.qualifier, figure.value, figure.upper
    if q in FLOORS:
        n, q = FLOORS[q], "at_least"  # a plural word is read as "at least" its floor
    allows = {
        "exact": lambda t: t == n,
        "about": lambda t: t == n,
        "at_least": lambda t: t >= n,
        "more_than": lambda t: t > n,
        "up_to": lambda t: t <= n,
        "between": lambda t: n <= t <= m,
    }.get(q)
    if allows is None:
        return None
    return frozenset(t for t in range(MAX_TOLL + 1) if allows(t))


def oracle_ends(figure):
    """(stated lowest, stated highest, open) from the possible tolls: the lower end (one less
    for "more than N": N is the number stated), the upper end, or the lower one when open."""
    tolls = possible_tolls(figure)
    is_open = MAX_TOLL in tolls
    low = min(tolls) - (1 if figure.qualifier == "more_than" else 0)
    return low, (low if is_open else max(tolls)), is_open


def oracle_agreement(figure_list):
    sets = [possible_tolls(f) for f in figure_list if possible_tolls(f) is not None]
    if not sets:
        return None
    if all(s == sets[0] for s in sets):
        return "agree"
    return "differ" if frozenset.intersection(*sets) else "contradict"


def oracle_range(figure_list):
    ends = [oracle_ends(f) for f in figure_list if possible_tolls(f) is not None]
    if not ends:
        return None, None, False
    lowest = min(low for low, _, _ in ends)
    highest = max(high for _, high, _ in ends)
    return lowest, highest, any(is_open and high == highest for _, high, is_open in ends)


# One figure of every qualifier, several of some, chosen so that pairs meet at their ends.
SAMPLES = [
    Figure(EXACT, 0),
    Figure(EXACT, 24),
    Figure(EXACT, 120),
    Figure(EXACT, 471),
    Figure(ABOUT, 120),
    Figure(AT_LEAST, 24),
    Figure(AT_LEAST, 89),
    Figure(AT_LEAST, 120),
    Figure(MORE_THAN, 119),
    Figure(MORE_THAN, 120),
    Figure(UP_TO, 50),
    Figure(UP_TO, 120),
    Figure(BETWEEN, 10, 15),
    Figure(BETWEEN, 100, 300),
    Figure(SEVERAL, None),
    Figure(DOZENS, None),
    Figure(SCORES, None),
    Figure(HUNDREDS, None),
    Figure(THOUSANDS, None),
    Figure(UNKNOWN, None),
]
PAIRS = list(itertools.product(SAMPLES, repeat=2))


def pair_id(pair):
    return " vs ".join(f.as_stated().replace(" ", "_") for f in pair)


# --- One figure ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "figure, interval, stated_low, stated_high, is_open, words",
    [
        (Figure(EXACT, 17), Interval(17, 17), 17, 17, False, "17"),
        (Figure(EXACT, 0), Interval(0, 0), 0, 0, False, "0"),
        (Figure(EXACT, 1200), Interval(1200, 1200), 1200, 1200, False, "1,200"),
        (Figure(ABOUT, 50), Interval(50, 50), 50, 50, False, "about 50"),
        (Figure(AT_LEAST, 89), Interval(89, None), 89, 89, True, "at least 89"),
        (Figure(MORE_THAN, 120), Interval(121, None), 120, 120, True, "more than 120"),
        (Figure(UP_TO, 50), Interval(0, 50), 0, 50, False, "up to 50"),
        (Figure(BETWEEN, 10, 15), Interval(10, 15), 10, 15, False, "between 10 and 15"),
        (Figure(SEVERAL, None), Interval(3, None), 3, 3, True, "several"),
        (Figure(DOZENS, None), Interval(24, None), 24, 24, True, "dozens"),
        (Figure(SCORES, None), Interval(40, None), 40, 40, True, "scores"),
        (Figure(HUNDREDS, None), Interval(200, None), 200, 200, True, "hundreds"),
        (Figure(THOUSANDS, None), Interval(2000, None), 2000, 2000, True, "thousands"),
        (Figure(UNKNOWN, None), None, None, None, False, "unknown"),
    ],
    ids=lambda v: str(v) if isinstance(v, Figure) else None,
)
def test_each_qualifier_reads_as_the_interval_and_the_words_of_the_design_table(
    figure, interval, stated_low, stated_high, is_open, words
):
    assert figure.interval == interval
    assert (figure.stated_low, figure.stated_high, figure.is_open) == (stated_low, stated_high, is_open)
    assert figure.as_stated() == words == str(figure)


@pytest.mark.parametrize("figure", SAMPLES, ids=str)
def test_each_sample_figure_matches_the_brute_force_reading(figure):
    tolls = possible_tolls(figure)
    if tolls is None:
        assert not figure.is_known and figure.interval is None
        return
    assert figure.is_known
    assert all(t in figure.interval for t in tolls)
    assert not any(t in figure.interval for t in set(range(MAX_TOLL + 1)) - tolls)
    assert (figure.stated_low, figure.stated_high, figure.is_open) == oracle_ends(figure)


@pytest.mark.parametrize(
    "figure, with_reading",
    [
        (Figure(DOZENS, None), "dozens (counted as at least 24)"),
        (Figure(SEVERAL, None), "several (counted as at least 3)"),
        (Figure(THOUSANDS, None), "thousands (counted as at least 2,000)"),
        (Figure(AT_LEAST, 89), "at least 89"),
        (Figure(UNKNOWN, None), "unknown"),
    ],
)
def test_a_plural_word_is_shown_as_the_word_with_how_it_is_counted_beside_it(figure, with_reading):
    assert figure.as_stated_with_reading() == with_reading
    assert figure.as_stated() == with_reading.split(" (")[0]


def test_an_exact_zero_is_a_real_zero_shown_as_0_never_0_plus():
    zero = Figure(EXACT, 0)
    assert zero.is_known and not zero.is_open and zero.as_stated() == "0"
    assert incident_range([zero]).short() == "0"


def test_the_upper_bound_is_none_for_open_figures_and_the_end_for_closed_ones():
    assert Figure(AT_LEAST, 89).upper_bound is None
    assert Figure(DOZENS, None).upper_bound is None
    assert Figure(UP_TO, 50).upper_bound == 50
    assert Figure(BETWEEN, 10, 15).upper_bound == 15


def test_low_and_high_stay_the_stated_ends_for_charts_and_pages():
    assert (Figure(UP_TO, 50).low, Figure(UP_TO, 50).high) == (0, 50)
    assert (Figure(MORE_THAN, 120).low, Figure(MORE_THAN, 120).high) == (120, 120)


# --- Every qualifier against every other ---------------------------------------------------


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_two_figures_range_from_the_lowest_stated_to_the_highest_stated(pair):
    toll = incident_range(pair)
    assert (toll.lowest, toll.highest, toll.highest_open) == oracle_range(pair)
    assert toll.source_count == 2
    assert toll.figure_count == sum(f.is_known for f in pair)


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_two_figures_agree_differ_or_contradict_as_the_tolls_they_allow_say(pair):
    expected = oracle_agreement(pair)
    toll = incident_range(pair)
    assert agreement(pair) == expected == toll.agreement
    assert toll.is_disputed == (expected in ("differ", "contradict"))
    assert toll.is_contradictory == (expected == "contradict")


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
def test_the_order_of_the_sources_never_changes_the_range(pair):
    assert incident_range(pair) == incident_range(pair[::-1])
    assert agreement(pair) == agreement(pair[::-1])


# --- Ranges: the cases DESIGN.md and the issue name ---------------------------------------


def test_homs_ranges_from_89_to_an_open_120_and_its_sources_differ_without_contradicting():
    toll = incident_range([Figure(AT_LEAST, 89), Figure(MORE_THAN, 120)])
    assert (toll.lowest, toll.highest, toll.highest_open) == (89, 120, True)
    assert toll.agreement == DIFFER and toll.is_disputed and not toll.is_contradictory
    assert toll.short() == "89–120+"


@pytest.mark.parametrize(
    "pair",
    [
        (Figure(EXACT, 120), Figure(MORE_THAN, 120)),
        (Figure(EXACT, 471), Figure(BETWEEN, 100, 300)),
        (Figure(EXACT, 10), Figure(DOZENS, None)),
    ],
    ids=pair_id,
)
def test_figures_that_cannot_both_be_true_contradict_each_other(pair):
    toll = incident_range(pair)
    assert toll.agreement == CONTRADICT and toll.is_contradictory and toll.is_disputed


@pytest.mark.parametrize(
    "pair",
    [
        (Figure(BETWEEN, 10, 15), Figure(BETWEEN, 10, 15)),
        (Figure(EXACT, 7), Figure(ABOUT, 7)),
        (Figure(DOZENS, None), Figure(AT_LEAST, 24)),
    ],
    ids=pair_id,
)
def test_figures_stating_the_same_interval_agree(pair):
    toll = incident_range(pair)
    assert toll.agreement == AGREE and not toll.is_disputed


def test_when_the_ends_meet_but_the_figures_differ_the_range_says_so():
    toll = incident_range([Figure(EXACT, 120), Figure(MORE_THAN, 120)])
    assert (toll.lowest, toll.highest, toll.highest_open) == (120, 120, True)
    assert toll.ends_equal_but_figures_differ
    assert not incident_range([Figure(AT_LEAST, 120)]).ends_equal_but_figures_differ


def test_up_to_counts_from_zero_so_up_to_50_plus_exactly_10_totals_10_to_60():
    result = total([incident_range([Figure(UP_TO, 50)]), incident_range([Figure(EXACT, 10)])])
    assert result.short() == "10–60"


def test_one_source_giving_a_range_is_uncertain_not_disputed():
    assert not incident_range([Figure(BETWEEN, 10, 15)]).is_disputed


def test_unknown_figures_count_as_sources_but_not_in_the_range_nor_the_agreement():
    toll = incident_range([Figure(UNKNOWN, None), Figure(EXACT, 5)])
    assert (toll.lowest, toll.highest, toll.source_count, toll.figure_count) == (5, 5, 2, 1)
    assert toll.agreement == AGREE


def test_an_incident_with_only_unknown_figures_has_no_range():
    toll = incident_range([Figure(UNKNOWN, None)])
    assert not toll.is_known and toll.short() == "unknown" and toll.source_count == 1
    assert toll.agreement is None and not toll.is_disputed


def test_a_range_rebuilt_from_stored_numbers_equals_the_computed_one():
    computed = incident_range([Figure(AT_LEAST, 89), Figure(MORE_THAN, 120)])
    stored = TollRange(lowest=89, highest=120, highest_open=True, figure_count=2, source_count=2)
    assert stored == computed


def test_spread_measures_how_far_apart_the_sources_are():
    assert TollRange(lowest=89, highest=120, figure_count=2).spread == 31
    assert TollRange().spread == 0


# --- Current reports -----------------------------------------------------------------------

DAY = datetime.date(2023, 10, 5)
NEXT_DAY = datetime.date(2023, 10, 6)


@dataclass(frozen=True)
class Report:
    """What ``current_reports`` reads of a ``TollReport``."""

    pk: int
    source_id: int
    killed_figure: Figure
    published_on: datetime.date = DAY
    published_time: datetime.time | None = None
    killed_counts: str = ALL
    civilians: int | None = None


def pks(reports):
    return sorted(r.pk for r in reports)


def test_a_later_report_without_a_figure_does_not_erase_the_sources_figure():
    sohr_50 = Report(1, source_id=1, killed_figure=Figure(AT_LEAST, 50), published_on=DAY)
    sohr_rising = Report(2, source_id=1, killed_figure=Figure(UNKNOWN, None), published_on=NEXT_DAY)
    other_30 = Report(3, source_id=2, killed_figure=Figure(EXACT, 30), published_on=DAY)
    current = current_reports([sohr_50, sohr_rising, other_30])
    assert pks(current) == [1, 3]
    assert incident_range(r.killed_figure for r in current).short() == "30–50+"


def test_a_source_whose_reports_are_all_unknown_still_counts_as_reporting():
    first = Report(1, source_id=1, killed_figure=Figure(UNKNOWN, None), published_on=DAY)
    latest = Report(2, source_id=1, killed_figure=Figure(UNKNOWN, None), published_on=NEXT_DAY)
    other = Report(3, source_id=2, killed_figure=Figure(EXACT, 5))
    current = current_reports([first, latest, other])
    assert pks(current) == [2, 3]
    toll = incident_range(r.killed_figure for r in current)
    assert (toll.source_count, toll.figure_count) == (2, 1)


def test_a_later_figure_replaces_an_earlier_one():
    first = Report(1, source_id=1, killed_figure=Figure(EXACT, 100), published_on=DAY)
    revised = Report(2, source_id=1, killed_figure=Figure(EXACT, 120), published_on=NEXT_DAY)
    assert pks(current_reports([revised, first])) == [2]


@pytest.mark.parametrize(
    "reports, current_pk",
    [
        # On one day a report without a time comes before one with a time, whatever was typed first.
        (
            [
                Report(1, 1, Figure(EXACT, 10), published_time=datetime.time(9)),
                Report(2, 1, Figure(EXACT, 12)),
            ],
            1,
        ),
        # Two times on one day: the later time.
        (
            [
                Report(1, 1, Figure(EXACT, 10), published_time=datetime.time(18)),
                Report(2, 1, Figure(EXACT, 12), published_time=datetime.time(9)),
            ],
            1,
        ),
        # The same time, or no time at all: entry order.
        (
            [
                Report(1, 1, Figure(EXACT, 10), published_time=datetime.time(9)),
                Report(2, 1, Figure(EXACT, 12), published_time=datetime.time(9)),
            ],
            2,
        ),
        ([Report(2, 1, Figure(EXACT, 12)), Report(1, 1, Figure(EXACT, 10))], 2),
        # A later day beats any time.
        (
            [
                Report(1, 1, Figure(EXACT, 10), published_time=datetime.time(23)),
                Report(2, 1, Figure(EXACT, 12), published_on=NEXT_DAY),
            ],
            2,
        ),
    ],
    ids=["untimed-before-timed", "later-time", "same-time-entry-order", "no-time-entry-order", "later-day"],
)
def test_revisions_on_the_same_day_are_ordered_by_time_then_entry(reports, current_pk):
    assert pks(current_reports(reports)) == [current_pk]


def test_each_source_has_one_current_report_per_population():
    reports = [
        Report(1, 1, Figure(EXACT, 89)),
        Report(2, 1, Figure(EXACT, 31), killed_counts=CIVILIANS),
        Report(3, 1, Figure(EXACT, 40), killed_counts=CIVILIANS, published_on=NEXT_DAY),
        Report(4, 1, Figure(EXACT, 20), killed_counts=COMBATANTS),
        Report(5, 2, Figure(EXACT, 90)),
    ]
    assert pks(current_reports(reports)) == [1, 3, 4, 5]


def test_reports_without_a_population_or_a_time_count_everyone_and_have_no_time():
    old_style = [
        SimpleNamespace(pk=1, source_id=1, published_on=DAY, killed_figure=Figure(EXACT, 5)),
        SimpleNamespace(
            pk=2, source_id=1, published_on=DAY, killed_qualifier=EXACT, killed=7, killed_upper=None
        ),
    ]
    assert pks(current_reports(old_style)) == [2]


# --- Populations ---------------------------------------------------------------------------


def test_an_all_deaths_figure_and_a_civilians_only_figure_are_never_ranged_together():
    result = incident_figures_of_reports(
        [Report(1, 1, Figure(EXACT, 89)), Report(2, 2, Figure(EXACT, 31), killed_counts=CIVILIANS)]
    )
    assert result.killed.short() == "89" and result.civilians.short() == "31"
    assert not result.is_disputed and not result.is_contradictory
    assert result.source_count == 2


def test_five_killed_and_fifty_civilians_make_the_incident_contradictory():
    result = incident_figures({ALL: [Figure(EXACT, 5)], CIVILIANS: [Figure(EXACT, 50)]})
    assert result.conflicts_across and result.killed_contradictory and result.is_contradictory
    assert result.is_disputed
    assert not result.killed.is_contradictory  # the all-deaths figures alone agree


@pytest.mark.parametrize(
    "all_deaths, civilians, combatants, contradictory",
    [
        ([Figure(EXACT, 50)], [Figure(AT_LEAST, 50)], [], False),
        ([Figure(EXACT, 50)], [Figure(MORE_THAN, 50)], [], True),  # at least 51 civilians
        ([Figure(EXACT, 50)], [Figure(EXACT, 30)], [Figure(EXACT, 30)], True),  # 60 cannot fit in 50
        ([Figure(EXACT, 50)], [Figure(EXACT, 30)], [Figure(EXACT, 20)], False),
        ([Figure(AT_LEAST, 5)], [Figure(EXACT, 50)], [], False),  # an open toll has room
        ([Figure(BETWEEN, 10, 60)], [Figure(DOZENS, None)], [], False),
        ([Figure(BETWEEN, 10, 20)], [Figure(DOZENS, None)], [], True),
        ([Figure(EXACT, 5)], [Figure(UP_TO, 50)], [], False),  # up to 50 may be 5
        ([Figure(EXACT, 5), Figure(EXACT, 100)], [Figure(EXACT, 50)], [], False),  # against the highest
    ],
)
def test_civilians_and_combatants_that_cannot_fit_under_the_all_deaths_highest_contradict(
    all_deaths, civilians, combatants, contradictory
):
    result = incident_figures({ALL: all_deaths, CIVILIANS: civilians, COMBATANTS: combatants})
    assert result.conflicts_across == contradictory


def test_without_an_all_deaths_figure_the_range_is_the_largest_civilian_plus_combatant_floor():
    result = incident_figures(
        {
            ALL: [SourceFigure(4, Figure(UNKNOWN, None))],
            CIVILIANS: [SourceFigure(1, Figure(EXACT, 31)), SourceFigure(2, Figure(AT_LEAST, 30))],
            COMBATANTS: [SourceFigure(3, Figure(MORE_THAN, 20)), SourceFigure(1, Figure(EXACT, 12))],
        }
    )
    floor = result.killed
    assert floor.is_floor and (floor.lowest, floor.highest, floor.highest_open) == (51, 51, True)
    assert floor.short() == "51+" and not floor.is_disputed
    assert floor.source_count == 4 and result.source_count == 4
    assert result.civilians.agreement == DIFFER and result.combatants.agreement == CONTRADICT
    assert result.is_disputed and result.is_contradictory and not result.conflicts_across
    assert floor_sentence(floor) == (
        "At least 51 people were reported killed, counting the civilian and combatant figures."
    )


def test_a_civilians_only_figure_alone_gives_an_open_all_deaths_floor():
    result = incident_figures({CIVILIANS: [Figure(EXACT, 31)]})
    assert result.killed.short() == "31+" and result.killed.is_floor
    assert result.combatants.short() == "unknown"


def test_an_incident_without_figures_in_any_population_has_no_range():
    result = incident_figures({ALL: [Figure(UNKNOWN, None)]})
    assert not result.killed.is_known and not result.killed.is_floor and result.source_count == 1


def test_of_whom_civilians_counts_of_all_reports_join_the_civilian_range():
    result = incident_figures_of_reports(
        [
            Report(1, 1, Figure(EXACT, 89), civilians=31),  # "89 killed, of whom 31 civilians"
            Report(2, 2, Figure(EXACT, 31), killed_counts=CIVILIANS),
        ]
    )
    assert result.civilians.short() == "31" and result.civilians.agreement == AGREE
    assert result.civilians.source_count == 2


def test_an_of_whom_count_is_exact_within_a_closed_figure_and_a_floor_within_an_open_one():
    closed = current_figures([Report(1, 1, Figure(BETWEEN, 80, 90), civilians=31)])
    opened = current_figures([Report(1, 1, Figure(AT_LEAST, 89), civilians=31)])
    unknown = current_figures([Report(1, 1, Figure(UNKNOWN, None), civilians=31)])
    assert [sf.figure for sf in closed[CIVILIANS]] == [Figure(EXACT, 31)]
    assert [sf.figure for sf in opened[CIVILIANS]] == [Figure(AT_LEAST, 31)]
    assert [sf.figure for sf in unknown[CIVILIANS]] == [Figure(AT_LEAST, 31)]


def test_a_sources_civilian_figure_is_its_latest_civilian_statement_of_either_kind():
    reports = [
        Report(1, 1, Figure(EXACT, 20), killed_counts=CIVILIANS, published_on=DAY),
        Report(2, 1, Figure(EXACT, 60), civilians=25, published_on=NEXT_DAY),
        Report(3, 1, Figure(EXACT, 61), published_on=NEXT_DAY, published_time=datetime.time(12)),
    ]
    civilians = current_figures(reports)[CIVILIANS]
    # The later all-deaths report without a civilian count does not erase the 25 civilians.
    assert [(sf.source_id, sf.figure, sf.report.pk) for sf in civilians] == [(1, Figure(EXACT, 25), 2)]
    assert [sf.report.pk for sf in current_figures(reports)[ALL]] == [3]


def test_of_whom_counts_of_civilian_or_combatant_reports_are_not_read_again():
    reports = [Report(1, 1, Figure(EXACT, 20), killed_counts=COMBATANTS, civilians=3)]
    assert current_figures(reports)[CIVILIANS] == []


# --- Parts and totals ----------------------------------------------------------------------


def exactly(n):
    return incident_range([Figure(EXACT, n)])


HOMS = incident_range([Figure(AT_LEAST, 89), Figure(MORE_THAN, 120)])


def test_the_idlib_child_among_the_shellings_victims_is_not_counted_twice():
    incidents = [
        IncidentToll(1, None, HOMS),
        IncidentToll(2, None, exactly(17)),  # the shelling: 14 on Thursday, 3 on Friday
        IncidentToll(3, 2, exactly(1)),  # the two-year-old, among the shelling's victims
        IncidentToll(4, None, exactly(2)),  # the couple in Idlib city
    ]
    result = total_with_parts(incidents)
    assert result.short() == "108–139+"
    assert (result.incidents, result.incidents_with_figures, result.parts_within_wholes) == (4, 4, 1)
    assert result.disputed_incidents == 1
    counted_apart = [IncidentToll(i.pk, None, i.toll) for i in incidents]
    assert total_with_parts(counted_apart).short() == "109–140+" == total(i.toll for i in incidents).short()


@pytest.mark.parametrize(
    "whole, parts, expected",
    [
        (exactly(17), [exactly(1)], "17"),  # a wave of 17 with one child recorded as a part
        (TollRange(), [exactly(14), exactly(3)], "17"),  # a whole without a figure of its own
        (exactly(10), [exactly(14), exactly(3)], "17"),  # the parts found more than the whole says
        (incident_range([Figure(BETWEEN, 10, 20)]), [exactly(15)], "15–20"),  # end by end
        (exactly(17), [incident_range([Figure(AT_LEAST, 17)])], "17+"),  # a tie is open if either is
        (incident_range([Figure(MORE_THAN, 20)]), [exactly(25)], "25"),  # the closed 25 is higher
        (incident_range([Figure(AT_LEAST, 30)]), [exactly(25)], "30+"),
        (TollRange(source_count=1), [TollRange(source_count=1)], "unknown"),
        (exactly(0), [], "0"),
    ],
    ids=[
        "wave-of-17-with-a-child",
        "whole-without-figure",
        "parts-exceed-whole",
        "end-by-end",
        "tie-open-if-either",
        "closed-part-above-open-whole",
        "open-whole-above-parts",
        "nothing-known",
        "zero",
    ],
)
def test_a_whole_counts_the_larger_of_its_own_figure_and_its_parts_sum(whole, parts, expected):
    incidents = [IncidentToll("whole", None, whole)] + [
        IncidentToll(f"part{i}", "whole", part) for i, part in enumerate(parts)
    ]
    assert total_with_parts(incidents).short() == expected


def test_nested_parts_add_up_through_each_level():
    incidents = [
        IncidentToll("wave", None, TollRange()),
        IncidentToll("thursday", "wave", exactly(14)),
        IncidentToll("child", "thursday", exactly(1)),
        IncidentToll("friday", "wave", incident_range([Figure(AT_LEAST, 3)])),
        IncidentToll("couple", "friday", exactly(2)),
    ]
    assert total_with_parts(incidents).short() == "17+"
    assert contributions(incidents) == {"wave": Ends(17, 17, True)}


def test_a_part_counts_on_its_own_when_its_whole_is_not_in_the_set():
    assert total_with_parts([IncidentToll("child", "shelling", exactly(1))]).short() == "1"


def test_a_whole_in_the_set_takes_in_a_part_whose_middle_level_was_filtered_out():
    incidents = [IncidentToll("wave", None, exactly(17)), IncidentToll("child", "thursday", exactly(1))]
    assert total_with_parts(incidents, parents={"thursday": "wave"}).short() == "17"
    assert total_with_parts(incidents).short() == "18"  # without the ancestry, nothing links them


def test_an_incident_that_is_part_of_itself_is_refused():
    with pytest.raises(ValueError, match="part of itself"):
        total_with_parts([IncidentToll(1, 2, exactly(1)), IncidentToll(2, 1, exactly(2))])


def test_a_civilian_total_with_parts_picks_the_civilian_ranges():
    rows = [
        SimpleNamespace(pk=1, part_of_id=None, civilians=exactly(10)),
        SimpleNamespace(pk=2, part_of_id=1, civilians=exactly(4)),
    ]
    assert total_with_parts(rows, toll=lambda row: row.civilians).short() == "10"


def test_totals_add_lowests_and_highests_and_never_average():
    idlib = exactly(17)
    unknown = incident_range([Figure(UNKNOWN, None)])
    result = total([HOMS, idlib, unknown], sources=3)
    assert (result.lowest, result.highest, result.highest_open) == (106, 137, True)
    assert (result.incidents, result.incidents_with_figures, result.disputed_incidents) == (3, 2, 1)
    assert result.short() == "106–137+"


def test_an_empty_total_is_zero_incidents_and_unknown():
    result = total([])
    assert result.incidents == 0 and result.short() == "unknown"
    assert total_with_parts([]).short() == "unknown"


def test_a_per_source_total_adds_the_sources_own_figures_not_the_incidents_ranges():
    french = [Figure(BETWEEN, 100, 300), Figure(AT_LEAST, 10), Figure(UNKNOWN, None)]
    assert [f.ends() for f in french] == [Ends(100, 300, False), Ends(10, 10, True), Ends()]
    result = total(f.ends() for f in french)
    assert result.short() == "110–310+" and result.incidents_with_figures == 2
    assert total(f.as_range() for f in french).short() == "110–310+"


def test_the_contradictory_incidents_of_a_total_are_counted():
    result = total([incident_range([Figure(EXACT, 120), Figure(MORE_THAN, 120)]), HOMS])
    assert (result.disputed_incidents, result.contradictory_incidents) == (2, 1)


# --- Sentences -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, sentence",
    [
        (
            [Figure(AT_LEAST, 89), Figure(MORE_THAN, 120)],
            "Between 89 and more than 120 people were reported killed, according to 2 sources that differ.",
        ),
        (
            [Figure(EXACT, 120), Figure(MORE_THAN, 120)],
            "120 or more than 120 people were reported killed, according to 2 sources that contradict "
            "each other.",
        ),
        (
            [Figure(BETWEEN, 10, 15), Figure(BETWEEN, 10, 15)],
            "Between 10 and 15 people were reported killed, according to 2 sources that agree.",
        ),
        (
            [Figure(BETWEEN, 10, 50), Figure(DOZENS, None), Figure(EXACT, 471), Figure(BETWEEN, 100, 300)],
            "Between 10 and 471 people were reported killed, according to 4 sources that contradict "
            "each other.",
        ),
        ([Figure(AT_LEAST, 89)], "At least 89 people were reported killed, according to 1 source."),
        ([Figure(UP_TO, 50)], "Up to 50 people were reported killed, according to 1 source."),
        ([Figure(DOZENS, None)], "Dozens of people were reported killed, according to 1 source."),
        (
            [Figure(EXACT, 10), Figure(HUNDREDS, None)],
            "Between 10 and hundreds of people were reported killed, according to 2 sources that "
            "contradict each other.",
        ),
        (
            [Figure(DOZENS, None), Figure(EXACT, 300)],
            "Between dozens and 300 people were reported killed, according to 2 sources that differ.",
        ),
        ([Figure(EXACT, 1)], "1 person was reported killed, according to 1 source."),
        ([Figure(EXACT, 0)], "No one was reported killed, according to 1 source."),
        (
            [Figure(EXACT, 0), Figure(EXACT, 0)],
            "No one was reported killed, according to 2 sources that agree.",
        ),
        (
            [Figure(EXACT, 7), Figure(ABOUT, 7)],
            "7 or about 7 people were reported killed, according to 2 sources that agree.",
        ),
        (
            [Figure(UNKNOWN, None), Figure(EXACT, 5)],
            "5 people were reported killed, according to 1 source (1 more source gave no figure).",
        ),
        ([Figure(UNKNOWN, None)], "Deaths were reported without a figure, according to 1 source."),
        ([], "No source has reported a figure yet."),
    ],
)
def test_the_range_reads_as_a_sentence_with_the_figures_as_stated(current, sentence):
    assert range_sentence(current) == sentence


@pytest.mark.parametrize(
    "population, current, sentence",
    [
        (CIVILIANS, [Figure(EXACT, 31)], "31 civilians were reported killed, according to 1 source."),
        (CIVILIANS, [Figure(EXACT, 1)], "1 civilian was reported killed, according to 1 source."),
        (COMBATANTS, [Figure(EXACT, 0)], "No combatant was reported killed, according to 1 source."),
        (
            CIVILIANS,
            [Figure(UNKNOWN, None)],
            "Civilian deaths were reported without a figure, according to 1 source.",
        ),
    ],
)
def test_each_population_has_its_own_sentence(population, current, sentence):
    assert range_sentence(current, population=population) == sentence


def test_a_sources_revisions_read_oldest_first_with_words_as_stated():
    dated = [(DAY, Figure(DOZENS, None)), (NEXT_DAY, Figure(AT_LEAST, 50))]
    assert (
        revision_sentence("HRW", dated)
        == "HRW first reported dozens on 5 October 2023, then at least 50 on 6 October 2023."
    )
    assert revision_sentence("MoH", dated[1:]) == "MoH reported at least 50 on 6 October 2023."


# --- Properties ----------------------------------------------------------------------------


@st.composite
def any_figure(draw, max_value=40):
    qualifier = draw(st.sampled_from(figures.QUALIFIERS))
    if qualifier in figures.PLURAL_WORDS or qualifier == UNKNOWN:
        return Figure(qualifier, None)
    value = draw(st.integers(0, max_value))
    if qualifier == BETWEEN:
        return Figure(qualifier, value, draw(st.integers(value + 1, max_value + 10)))
    return Figure(qualifier, value)


@settings(max_examples=300, deadline=None)
@given(st.lists(any_figure(), max_size=5))
def test_agreement_is_what_brute_force_over_the_possible_tolls_says(figure_list):
    assert agreement(figure_list) == oracle_agreement(figure_list)


@settings(max_examples=300, deadline=None)
@given(st.lists(any_figure(), max_size=5))
def test_the_range_is_the_brute_force_lowest_and_highest_stated(figure_list):
    toll = incident_range(figure_list)
    assert (toll.lowest, toll.highest, toll.highest_open) == oracle_range(figure_list)
    assert toll.figure_count == sum(possible_tolls(f) is not None for f in figure_list)


def is_later(a, b):
    """Whether report ``a`` comes after report ``b``, spelled out rule by rule."""
    if a.published_on != b.published_on:
        return a.published_on > b.published_on
    if (a.published_time is None) != (b.published_time is None):
        return b.published_time is None
    if a.published_time != b.published_time:
        return a.published_time > b.published_time
    return a.pk > b.pk


@st.composite
def report_sets(draw):
    n = draw(st.integers(0, 10))
    pk_list = draw(st.permutations(range(1, n + 1)))
    reports = []
    for pk in pk_list:
        reports.append(
            Report(
                pk=pk,
                source_id=draw(st.integers(1, 3)),
                killed_figure=draw(any_figure()),
                published_on=DAY + datetime.timedelta(days=draw(st.integers(0, 2))),
                published_time=draw(st.sampled_from([None, datetime.time(8), datetime.time(20)])),
                killed_counts=draw(st.sampled_from(figures.POPULATIONS)),
                civilians=draw(st.one_of(st.none(), st.integers(0, 10))),
            )
        )
    return reports


@settings(max_examples=300, deadline=None)
@given(report_sets())
def test_current_reports_are_the_latest_known_per_source_and_population_else_the_latest(reports):
    expected = set()
    for key in {(r.source_id, r.killed_counts) for r in reports}:
        group = [r for r in reports if (r.source_id, r.killed_counts) == key]
        known = [r for r in group if r.killed_figure.qualifier != UNKNOWN]
        candidates = known or group
        (latest,) = [r for r in candidates if all(r is o or is_later(r, o) for o in candidates)]
        expected.add(latest.pk)
    current = current_reports(reports)
    assert len(current) == len(expected) and {r.pk for r in current} == expected


def latest_of(candidates):
    """The current one of some statements: the latest known one, else the latest one."""
    known = [(r, f) for r, f in candidates if f.qualifier != UNKNOWN]
    candidates = known or candidates
    (latest,) = [c for c in candidates if all(c is o or is_later(c[0], o[0]) for o in candidates)]
    return latest


@settings(max_examples=300, deadline=None)
@given(report_sets())
def test_current_figures_per_population_follow_the_same_rule_with_of_whom_civilians(reports):
    statements = {}
    for r in reports:
        statements.setdefault((r.killed_counts, r.source_id), []).append((r, r.killed_figure))
        if r.killed_counts == ALL and r.civilians is not None:
            counted = EXACT if r.killed_figure.qualifier in (EXACT, ABOUT, UP_TO, BETWEEN) else AT_LEAST
            statements.setdefault((CIVILIANS, r.source_id), []).append((r, Figure(counted, r.civilians)))
    expected = {population: set() for population in figures.POPULATIONS}
    for (population, source_id), candidates in statements.items():
        report, figure = latest_of(candidates)
        expected[population].add((source_id, report.pk, figure))
    result = current_figures(reports)
    assert {p: {(sf.source_id, sf.report.pk, sf.figure) for sf in result[p]} for p in result} == expected


# Parts: random forests of incidents, random sets of them.


@st.composite
def forests(draw, consistent=False):
    """(incidents: [IncidentToll], parents: {pk: whole pk}) with wholes before their parts."""
    n = draw(st.integers(1, 7))
    parents = {}
    for pk in range(n):
        parents[pk] = draw(st.one_of(st.none(), st.integers(0, pk - 1))) if pk else None
    tolls = {}
    if consistent:  # every whole's own figure is at least the sum of its parts' figures
        for pk in reversed(range(n)):
            parts_sum = sum(tolls[c].lowest for c in range(n) if parents[c] == pk)
            tolls[pk] = exactly(parts_sum + draw(st.integers(0, 5)))
    else:
        for pk in range(n):
            tolls[pk] = incident_range(draw(st.lists(any_figure(max_value=20), max_size=2)))
    return [IncidentToll(pk, parents[pk], tolls[pk]) for pk in range(n)], parents


def whole_in(subset, parents, pk):
    """The nearest whole of ``pk`` inside ``subset``, by climbing every level."""
    whole = parents[pk]
    while whole is not None and whole not in subset:
        whole = parents[whole]
    return whole


def oracle_total(incidents, parents):
    """Each counted incident adds its best "cut": either itself, or for each of its parts in the
    set, that part's cut; the largest sum wins, end by end (every cut is tried)."""
    subset = {i.pk for i in incidents}
    own = {i.pk: i.toll for i in incidents}
    inside = {pk: whole_in(subset, parents, pk) for pk in subset}

    def below(pk):  # pk and everything beneath it in the set
        return {pk} | {d for d in subset if any(a == pk for a in ancestors(d))}

    def ancestors(pk):
        while inside[pk] is not None:
            pk = inside[pk]
            yield pk

    lowest = highest = 0
    highest_open = known = False
    for root in (pk for pk in subset if inside[pk] is None):
        tree = below(root)
        leaves = [pk for pk in tree if not any(inside[d] == pk for d in tree)]
        cuts = []
        for size in range(1, len(tree) + 1):
            for cut in itertools.combinations(sorted(tree), size):
                chain_free = not any(a in cut for pk in cut for a in ancestors(pk))
                covers = all(leaf in cut or any(a in cut for a in ancestors(leaf)) for leaf in leaves)
                if chain_free and covers:
                    cuts.append(cut)
        if not any(own[pk].is_known for pk in tree):
            continue
        known = True

        def end(pk, name):
            return getattr(own[pk], name) or 0

        lowest += max(sum(end(pk, "lowest") for pk in cut) for cut in cuts)
        top = max(sum(end(pk, "highest") for pk in cut) for cut in cuts)
        highest += top
        highest_open = highest_open or any(
            sum(end(pk, "highest") for pk in cut) == top and any(own[pk].highest_open for pk in cut)
            for cut in cuts
        )
    return (lowest, highest, highest_open) if known else (0, 0, False)


def subsets_of(draw, incidents):
    return [i for i in incidents if draw(st.booleans())]


@settings(max_examples=300, deadline=None)
@given(forests(), st.data())
def test_a_total_with_parts_is_the_largest_cut_of_each_counted_incident(forest, data):
    incidents, parents = forest
    subset = subsets_of(data.draw, incidents)
    result = total_with_parts(subset, parents=parents)
    assert (result.lowest, result.highest, result.highest_open) == oracle_total(subset, parents)


@settings(max_examples=300, deadline=None)
@given(forests(), st.data())
def test_a_total_grows_with_its_set_but_never_beyond_the_sum_of_every_figure(forest, data):
    incidents, parents = forest
    smaller = subsets_of(data.draw, incidents)
    larger = smaller + [i for i in incidents if i not in smaller and data.draw(st.booleans())]
    small, large = total_with_parts(smaller, parents=parents), total_with_parts(larger, parents=parents)
    assert small.lowest <= large.lowest and small.highest <= large.highest
    every = total(i.toll for i in larger)  # each incident added on its own: an upper bound
    assert large.lowest <= every.lowest and large.highest <= every.highest


@settings(max_examples=300, deadline=None)
@given(forests(consistent=True), st.data())
def test_a_total_never_exceeds_its_wholes_nor_counts_a_part_on_top_of_its_whole(forest, data):
    incidents, parents = forest
    subset = subsets_of(data.draw, incidents)
    members = {i.pk for i in subset}
    counted = [i for i in subset if whole_in(members, parents, i.pk) is None]
    result = total_with_parts(subset, parents=parents)
    # When each whole's figure covers its parts, the total is exactly the counted incidents' own.
    assert result.lowest == result.highest == sum(i.toll.lowest for i in counted)

    def top(pk):
        while parents[pk] is not None:
            pk = parents[pk]
        return pk

    wholes = {top(i.pk) for i in subset}
    assert result.highest <= sum(incidents[pk].toll.highest for pk in wholes)


def test_a_range_rebuilt_without_its_agreement_reads_disputed_when_its_ends_differ():
    assert TollRange(lowest=89, highest=120, figure_count=2).is_disputed
    assert not TollRange(lowest=7, highest=7, figure_count=2).is_disputed
    assert not TollRange(lowest=10, highest=15, figure_count=2, agreement=AGREE).is_disputed


# --- How a figure reads, in the admin beside the entry -------------------------------------------


@pytest.mark.parametrize(
    "qualifier, value, upper, words",
    [
        ("exact", 89, None, "exactly 89"),
        ("exact", 0, None, "exactly 0"),
        ("about", 50, None, "exactly 50"),
        ("at_least", 89, None, "89 or more"),
        ("more_than", 120, None, "121 or more"),
        ("up_to", 50, None, "from 0 to 50"),
        ("between", 10, 15, "from 10 to 15"),
        ("several", None, None, "3 or more"),
        ("dozens", None, None, "24 or more"),
        ("thousands", None, None, "2,000 or more"),
        ("more_than", 1999, None, "2,000 or more"),
        ("unknown", None, None, "no figure"),
    ],
)
def test_a_figure_reads_as_its_interval_in_the_methodologys_words(qualifier, value, upper, words):
    assert Figure(qualifier, value, upper).reading() == words


def _apply_rule(rule, value, upper):
    """What the admin's script does with ``reading_rules()``, in Python."""
    if rule is None:
        return None
    numbers = {"value": value, "upper": upper}

    def end(term):
        field, add = term
        return add if field is None else numbers[field] + add

    return figures.Interval(end(rule["low"]), None if rule["high"] is None else end(rule["high"]))


@settings(max_examples=300)
@given(
    qualifier=st.sampled_from(figures.QUALIFIERS),
    value=st.integers(min_value=0, max_value=10_000_000),
    extra=st.integers(min_value=1, max_value=10_000_000),
)
def test_the_reading_rules_given_to_the_admin_read_every_figure_as_figures_does(qualifier, value, extra):
    rules = figures.reading_rules()["qualifiers"]
    takes_number = qualifier in figures.NUMBER_QUALIFIERS
    figure = Figure(
        qualifier,
        value if takes_number else None,
        value + extra if qualifier == figures.BETWEEN else None,
    )
    assert _apply_rule(rules[qualifier], figure.value, figure.upper) == figure.interval


def test_a_sentence_is_said_once_per_language_and_figures(monkeypatch):
    """Every page of every data version writes the same incidents' sentences again: each is
    worded once, and kept apart by language and population."""
    from django.utils import translation

    from incidents import figures

    worded = []
    word = figures._range_sentence
    monkeypatch.setattr(figures, "_range_sentence", lambda *args: worded.append(args) or word(*args))
    figures.SENTENCES_SAID.clear()
    current = [Figure(AT_LEAST, 89), Figure(MORE_THAN, 120)]
    english = [range_sentence(current) for _ in range(3)]
    with translation.override("ar"):
        arabic = range_sentence(current)
    civilians = range_sentence(current, population=CIVILIANS)
    assert len(worded) == 3
    assert english[0].startswith("Between 89 and more than 120 people")
    assert arabic != english[0] and "civilians" in civilians


def test_sentences_said_are_forgotten_when_a_setting_changes(settings):
    """A test that changes a number format or the languages must not be given a sentence
    worded under the old ones."""
    from incidents import figures

    range_sentence([Figure(EXACT, 1200)])
    assert figures.SENTENCES_SAID.kept
    settings.USE_THOUSAND_SEPARATOR = not settings.USE_THOUSAND_SEPARATOR
    assert not figures.SENTENCES_SAID.kept
