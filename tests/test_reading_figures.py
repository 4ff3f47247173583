"""Every example of the figures issue, as a reader sees it on the page and in the exports, and
the SQL arithmetic checked against the Python arithmetic of ``incidents.figures``."""

import csv
import datetime
import io

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents import figures, stats
from incidents.models import Incident, TollReport
from tests.factories import make_incident, make_location, make_report, make_source

pytestmark = pytest.mark.django_db

DAY = datetime.date(2023, 10, 5)


def page_text(client, incident):
    return " ".join(client.get(incident.get_absolute_url()).content.decode().split())


def incidents_csv(client, query=""):
    content = b"".join(client.get(f"/export/incidents.csv{query}").streaming_content).decode()
    return {row["title"]: row for row in csv.DictReader(io.StringIO(content))}


def incident_with(*reports, title=None):
    """An incident with one report per (qualifier, killed, upper[, extra fields]) from its own source."""
    incident = make_incident(title)
    for qualifier, killed, upper, *extra in reports:
        make_report(incident, make_source(), killed=killed, qualifier=qualifier, killed_upper=upper,
                    **(extra[0] if extra else {}))  # fmt: skip
    incident.refresh_from_db()
    return incident


class TestTheIssuesExamples:
    def test_two_identical_betweens_agree_and_are_not_disputed(self, client, editor_client):
        incident = incident_with(("between", 10, 15), ("between", 10, 15), title="Identical")
        assert (
            "Between 10 and 15 people were reported killed, according to 2 sources that agree."
            in page_text(client, incident)
        )
        assert not incident.is_disputed
        row = incidents_csv(editor_client)["Identical"]
        assert (row["killed_disputed"], row["killed_contradictory"]) == ("false", "false")

    def test_exactly_120_and_more_than_120_contradict(self, client, editor_client):
        incident = incident_with(("exact", 120, None), ("more_than", 120, None), title="Contradict")
        text = page_text(client, incident)
        assert (
            "120 or more than 120 people were reported killed, according to 2 sources that contradict" in text
        )
        assert incident.is_disputed and incident.is_contradictory
        assert "120+" not in text
        row = incidents_csv(editor_client)["Contradict"]
        assert (row["killed_disputed"], row["killed_contradictory"]) == ("true", "true")
        listed = " ".join(client.get("/incidents/?contradictory=true").content.decode().split())
        assert "Contradict" in listed and "sources contradict each other" in listed

    def test_up_to_50_and_exactly_10_total_10_to_60(self):
        incident_with(("up_to", 50, None))
        incident_with(("exact", 10, None))
        assert stats.totals(Incident.objects.published()).short() == "10–60"

    def test_a_later_report_without_a_number_does_not_erase_a_figure(self, client):
        incident = make_incident()
        sohr, other = make_source("SOHR", short_name="SOHR"), make_source("Other")
        make_report(incident, sohr, killed=50, qualifier="at_least", published_on=DAY)
        make_report(incident, other, killed=30, published_on=DAY)
        make_report(
            incident, sohr, killed=None, qualifier="unknown", published_on=DAY + datetime.timedelta(1)
        )
        incident.refresh_from_db()
        assert incident.toll.short() == "30–50+"
        assert "Between 30 and at least 50 people were reported killed" in page_text(client, incident)

    def test_two_revisions_on_one_day_are_ordered_by_their_time(self):
        incident = make_incident()
        source = make_source()
        make_report(incident, source, killed=80, published_on=DAY, published_time=datetime.time(18, 0))
        make_report(incident, source, killed=60, published_on=DAY, published_time=datetime.time(9, 0))
        make_report(incident, source, killed=70, published_on=DAY)  # no time: before those with one
        incident.refresh_from_db()
        assert incident.toll.short() == "80"
        assert TollReport.objects.get(incident=incident, is_current=True).killed == 80

    def test_a_civilians_only_figure_is_not_ranged_against_everyone_killed(self, client, editor_client):
        incident = incident_with(
            ("exact", 89, None), ("exact", 31, None, {"killed_counts": "civilians"}), title="Populations"
        )
        assert incident.toll.short() == "89" and not incident.is_disputed
        text = page_text(client, incident)
        assert "89 people were reported killed, according to 1 source." in text
        assert "31 civilians were reported killed, according to 1 source." in text
        row = incidents_csv(editor_client)["Populations"]
        assert (row["killed_lowest"], row["killed_highest"], row["civilians_lowest"]) == ("89", "89", "31")

    def test_more_civilians_than_everyone_killed_is_contradictory(self, client):
        incident = incident_with(("exact", 5, None), ("exact", 50, None, {"killed_counts": "civilians"}))
        assert incident.is_contradictory
        assert "the sources contradict each other" in page_text(client, incident)

    def test_only_civilian_and_combatant_figures_make_a_floor(self, client):
        incident = incident_with(
            ("exact", 31, None, {"killed_counts": "civilians"}),
            ("at_least", 40, None, {"killed_counts": "combatants"}),
        )
        assert incident.toll.is_floor and incident.toll.short() == "71+"
        assert (
            "At least 71 people were reported killed, counting the civilian and combatant figures."
            in page_text(client, incident)
        )

    def test_dozens_is_shown_as_stated_and_counted_as_at_least_24(self, client, editor_client):
        incident = incident_with(("dozens", None, None), ("exact", 10, None), title="Dozens")
        text = page_text(client, incident)
        assert "dozens (counted as at least 24)" in text
        assert incident.toll.short() == "10–24+"
        row = incidents_csv(editor_client)["Dozens"]
        assert "dozens" in row["figures"] and row["killed_highest"] == "24"

    def test_a_zero_is_a_real_zero(self, client):
        incident = incident_with(("exact", 0, None))
        assert incident.toll.short() == "0"
        assert "No one was reported killed, according to 1 source." in page_text(client, incident)

    def test_the_demo_home_page_counts_the_child_within_the_shelling(self, client):
        call_command("load_demo", verbosity=0)
        home = " ".join(client.get("/").content.decode().split())
        assert "Between <strong>108</strong> and <strong>139+</strong>" in home
        shelling = Incident.objects.get(slug="idlib-shelling-2023-10-05")
        child = Incident.objects.get(slug="jaftallak-haj-hamoud-air-attack-2023-10")
        assert child.part_of == shelling
        assert "Part of" in page_text(client, child) and shelling.title in page_text(client, child)
        assert child.title in page_text(client, shelling)


class TestParts:
    def test_an_incident_cannot_be_part_of_itself_or_of_its_own_part(self):
        from django.core.exceptions import ValidationError

        wave = make_incident("Wave")
        day = make_incident("Day", part_of=wave)
        wave.part_of = day
        with pytest.raises(ValidationError, match="part of its own part"):
            wave.full_clean()
        day.part_of = day
        with pytest.raises(ValidationError, match="part of itself"):
            day.full_clean()

    def test_a_wave_of_17_with_one_child_recorded_as_a_part_still_counts_17(self):
        wave = incident_with(("exact", 17, None))
        child = make_incident(part_of=wave)
        make_report(child, killed=1)
        assert stats.totals(Incident.objects.published()).short() == "17"
        # A filter that keeps only the child counts the child.
        assert stats.totals(Incident.objects.filter(pk=child.pk)).short() == "1"

    def test_nested_parts_are_counted_once_even_when_the_middle_is_left_out(self):
        wave = incident_with(("exact", 10, None))
        day = make_incident(part_of=wave)
        make_report(day, killed=12)
        strike = make_incident(part_of=day)
        make_report(strike, killed=3)
        assert stats.totals(Incident.objects.published()).short() == "12"
        assert stats.totals(Incident.objects.exclude(pk=day.pk)).short() == "10"


# --- The SQL arithmetic equals the Python arithmetic ----------------------------------------------

qualified_figure = st.sampled_from(figures.QUALIFIERS).flatmap(
    lambda qualifier: st.tuples(
        st.just(qualifier),
        st.integers(0, 300) if qualifier in figures.NUMBER_QUALIFIERS else st.none(),
        st.integers(1, 40) if qualifier == figures.BETWEEN else st.none(),
    )
)
SETTINGS = hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(figure_list=st.lists(qualified_figure, min_size=1, max_size=6))
def test_sql_reads_each_figure_as_the_python_arithmetic_does(figure_list):
    incident = make_incident()
    for qualifier, killed, gap in figure_list:
        make_report(incident, killed=killed, qualifier=qualifier, killed_upper=killed + gap if gap else None)
    for report in TollReport.objects.filter(incident=incident).with_stated_ends().with_intervals():
        figure = report.killed_figure
        interval = figure.interval
        assert (report.stated_low, report.stated_high, report.stated_open) == (
            figure.stated_low, figure.stated_high, figure.is_open,
        )  # fmt: skip
        assert (report.interval_low, report.interval_high) == (
            (interval.low, interval.high) if interval else (None, None)
        )


@SETTINGS
@given(
    tolls=st.lists(st.lists(qualified_figure, max_size=3), min_size=1, max_size=6),
    wholes=st.lists(st.integers(-1, 5), min_size=6, max_size=6),
    chosen=st.sets(st.integers(0, 5)),
)
def test_sql_totals_equal_the_python_totals_and_never_count_a_part_twice(tolls, wholes, chosen):
    place = make_location()
    made = []
    for i, figure_list in enumerate(tolls):
        # Only an earlier incident can be a whole, so part trees never loop.
        whole = made[wholes[i]] if 0 <= wholes[i] < i else None
        incident = make_incident(location=place, part_of=whole)
        for qualifier, killed, gap in figure_list:
            make_report(
                incident, killed=killed, qualifier=qualifier, killed_upper=killed + gap if gap else None
            )
        made.append(incident)
    subset = Incident.objects.filter(pk__in=[made[i].pk for i in chosen if i < len(made)])
    rows = list(Incident.objects.filter(pk__in=[i.pk for i in made]))
    parents = {i.pk: i.part_of_id for i in rows if i.part_of_id}
    in_set = [i for i in rows if i.pk in {s.pk for s in subset}]
    expected = figures.total_with_parts(in_set, parents=parents)
    got = stats.totals(subset)
    assert (got.lowest, got.highest, got.highest_open, got.incidents) == (
        expected.lowest, expected.highest, expected.highest_open, expected.incidents,
    )  # fmt: skip
    # Never more than adding every incident up, parts on top of wholes, would give.
    everything = figures.total(i.toll for i in in_set)
    assert got.lowest <= everything.lowest and got.highest <= everything.highest
