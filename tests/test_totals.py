"""The month totals the home page reads, the place totals the place pages read and the source
totals the source pages read (``MonthTotal``, ``PlaceTotal``, ``SourceTotal``, kept by
``incidents.tolls``) always equal the totals counted from the published
incidents themselves, whatever changed and in what order: figures, publishing, dates, places,
parts and wholes in different months and places, deletes and restores."""

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents import stats, tolls, workflow
from incidents.models import (
    Incident,
    Location,
    MonthTotal,
    PartTreeShare,
    PlaceTotal,
    Source,
    SourceShare,
    TollReport,
)
from incidents.models.totals import MONTH_SUMS, PLACE_SUMS, SOURCE_SUMS
from tests.factories import make_incident, make_report, make_source, make_tree, make_user

pytestmark = pytest.mark.django_db

SEPTEMBER, OCTOBER = datetime.date(2023, 9, 12), datetime.date(2023, 10, 5)


def kept_totals():
    """The month totals and part-tree shares as stored (months that hold nothing left out)."""
    months = {
        row["month"]: {name: row[name] for name in MONTH_SUMS}
        for row in MonthTotal.objects.values()
        if any(row[name] for name in MONTH_SUMS)
    }
    shares = {row.incident_id: tolls.Share.of_row(row) for row in PartTreeShare.objects.all()}
    return months, shares


def kept_place_totals():
    """The place totals as stored (places that hold nothing left out)."""
    return {
        row["location_id"]: {name: row[name] for name in PLACE_SUMS}
        for row in PlaceTotal.objects.values()
        if any(row[name] for name in PLACE_SUMS)
    }


def assert_totals_kept():
    """Stored = counted again from scratch = what ``stats`` adds up from the incidents, for
    every month and every place (each place's total holds the places beneath it)."""
    assert kept_totals() == tolls.totals_from_scratch()
    assert kept_place_totals() == tolls.place_totals_from_scratch()
    published = Incident.objects.published()
    assert stats.published_total() == stats.totals(published, sources=0)
    assert stats.published_months() == stats.monthly_totals(published)
    kept_shares = {}
    for row in SourceShare.objects.values("incident_id", "source_id", *SOURCE_SUMS):
        kept_shares.setdefault(row["incident_id"], {})[row["source_id"]] = tuple(row[n] for n in SOURCE_SUMS)
    assert kept_shares == dict(tolls.source_shares_from_scratch())
    for source in Source.objects.all():
        reports = TollReport.objects.filter(source=source, incident__status="published").count()
        afresh = {"reports": reports, **stats.compare_with_other_sources_afresh(source)}
        assert stats.source_totals(source) == afresh, source
    for place in Location.objects.all():
        assert stats.place_total(place) == stats.totals(published.beneath(place)), place
        children = list(place.children.all())
        assert stats.place_counts_beneath(place, children) == [
            (child, published.beneath(child).count()) for child in children
        ]


def home_headline(client):
    """The all-time and latest-month totals as the home page shows them."""
    context = client.get("/").context
    latest = context["latest_month"]
    return context["all_time"].short(), (latest[0], latest[1].short()) if latest else None


# --- Examples a reader would check on the home page --------------------------------------------


def test_a_part_in_another_month_than_its_whole_counts_within_it_all_time_and_alone_in_its_month(client):
    wave = make_incident("Shelling wave", start_date=SEPTEMBER)
    make_report(wave, killed=17)
    child = make_incident("A child among the victims", start_date=OCTOBER, part_of=wave)
    make_report(child, killed=1)
    strike = make_incident("Strike", start_date=OCTOBER)
    make_report(strike, killed=5, qualifier="at_least")

    # All time: the wave's 17 hold the child; October alone: the child and the strike.
    assert home_headline(client) == ("22+", (datetime.date(2023, 10, 1), "6+"))
    assert_totals_kept()

    workflow.unpublish_incident(incident=wave, user=None, via="tests")
    assert home_headline(client) == ("6+", (datetime.date(2023, 10, 1), "6+"))
    assert_totals_kept()

    child.start_date = SEPTEMBER  # moved: now a draft wave's part, alone in September
    child.save()
    assert home_headline(client) == ("6+", (datetime.date(2023, 10, 1), "5+"))
    assert_totals_kept()

    workflow.publish_incident(incident=wave, user=None, via="tests")
    assert home_headline(client) == ("22+", (datetime.date(2023, 10, 1), "5+"))
    assert_totals_kept()


def test_a_whole_counts_the_larger_of_its_own_figure_and_its_parts_sum_in_every_month(client):
    wave = make_incident("Wave", start_date=OCTOBER)
    make_report(wave, killed=3)
    day_one = make_incident("Day one", start_date=OCTOBER, part_of=wave)
    make_report(day_one, killed=2)
    day_two = make_incident("Day two", start_date=OCTOBER, part_of=wave)
    make_report(day_two, killed=4, qualifier="at_least")
    # The parts add up to 6+, more than the wave's own 3.
    assert home_headline(client) == ("6+", (datetime.date(2023, 10, 1), "6+"))
    make_report(wave, killed=40, qualifier="up_to")
    assert home_headline(client) == ("6–40", (datetime.date(2023, 10, 1), "6–40"))
    assert_totals_kept()


def test_drafts_unknown_figures_and_civilian_floors_count_as_the_incidents_do(client):
    draft = make_incident("Draft", status="draft", start_date=OCTOBER)
    make_report(draft, killed=500)
    unknown = make_incident("Unknown", start_date=OCTOBER)
    make_report(unknown, killed=None, qualifier="unknown")
    civilians = make_incident("Civilians only", start_date=OCTOBER)
    make_report(civilians, killed=12, killed_counts="civilians")
    context = client.get("/").context
    assert context["all_time"].short() == "12+"
    assert context["all_time"].incidents == 2
    assert context["all_time"].incidents_with_figures == 1
    assert_totals_kept()


def test_deleting_and_restoring_an_incident_takes_it_out_of_the_totals_and_back(client):
    editor = make_user("eddie-totals", group="Editor")
    wave = make_incident("Wave", start_date=SEPTEMBER)
    make_report(wave, killed=10)
    part = make_incident("Part", start_date=SEPTEMBER, part_of=wave)
    make_report(part, killed=30)
    assert home_headline(client)[0] == "30"
    part.delete()
    assert home_headline(client)[0] == "10"
    assert_totals_kept()
    restored = workflow.restore_incident(deletion=workflow.deleted_incidents()[0], user=editor)
    assert home_headline(client)[0] == "10"  # back as a draft
    workflow.publish_incident(incident=restored, user=editor)
    assert home_headline(client)[0] == "30"
    Incident.objects.filter(pk=restored.pk).delete()
    assert home_headline(client)[0] == "10"
    assert_totals_kept()


def test_rebuild_totals_repairs_totals_changed_around_the_application(client):
    incident = make_incident(start_date=OCTOBER)
    make_report(incident, killed=8)
    MonthTotal.objects.update(all_lowest=999, all_highest=999)  # a hand-made SQL change
    assert home_headline(client)[0] == "999"
    call_command("rebuild_totals", verbosity=0)
    assert home_headline(client)[0] == "8"
    assert_totals_kept()


def test_the_home_page_reads_the_totals_with_the_same_number_of_queries_however_many_incidents(
    client, django_assert_max_num_queries
):
    incident = make_incident(start_date=OCTOBER)
    make_report(incident, killed=8)
    with django_assert_max_num_queries(20) as few:
        client.get("/")
    for day in range(1, 28):
        for n in range(3):
            more = make_incident(start_date=datetime.date(2023, 9, day), part_of=incident if n == 0 else None)
            make_report(more, killed=n)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/")


# --- Any sequence of changes ---------------------------------------------------------------------

figure = st.one_of(
    st.tuples(st.sampled_from(["exact", "at_least", "more_than", "about", "up_to"]), st.integers(0, 60)),
    st.tuples(st.sampled_from(["dozens", "unknown"]), st.none()),
)
incident_index = st.integers(0, 4)
operation = st.one_of(
    st.tuples(st.just("report"), incident_index, st.sampled_from(["all", "all", "civilians"]), figure),
    st.tuples(st.just("publish"), incident_index),
    st.tuples(st.just("unpublish"), incident_index),
    st.tuples(st.just("part_of"), incident_index, st.none() | incident_index),
    st.tuples(st.just("date"), incident_index, st.integers(0, 2)),
    st.tuples(st.just("dates_in_bulk"), st.integers(0, 2)),
    st.tuples(st.just("place"), incident_index, st.integers(0, 2)),
    st.tuples(st.just("places_in_bulk"), st.integers(0, 2)),
    st.tuples(st.just("delete_report"), st.integers(0, 30)),
    st.tuples(st.just("revise"), st.integers(0, 30), figure),
    st.tuples(st.just("delete"), incident_index),
    st.tuples(st.just("restore"), incident_index),
)
MONTHS = [datetime.date(2023, 8, 20), SEPTEMBER, OCTOBER]


def places():
    """Three places at three levels of one tree: a city, its governorate, another governorate."""
    tree = make_tree()
    return [tree["city"], tree["idlib"], tree["homs"]]


def apply(op, incidents, editor, places):
    kind, index = op[0], op[1]
    if kind == "delete_report":
        reports = list(TollReport.objects.filter(incident_id__in=incidents).order_by("pk"))
        if reports:
            reports[index % len(reports)].delete()
        return
    if kind == "revise":  # a source's report corrected in place
        reports = list(TollReport.objects.filter(incident_id__in=incidents).order_by("pk"))
        if reports:
            report = reports[index % len(reports)]
            report.killed_qualifier, report.killed = op[2]
            report.save()
        return
    if kind == "dates_in_bulk":
        Incident.objects.filter(pk__in=incidents[::2]).update(start_date=MONTHS[index])
        return
    if kind == "places_in_bulk":
        Incident.objects.filter(pk__in=incidents[1::2]).update(location=places[index])
        return
    incident = Incident.objects.filter(pk=incidents[index]).first()
    if kind == "restore":
        if incident is None:
            deletion = next(d for d in workflow.deleted_incidents() if d.id == incidents[index])
            workflow.restore_incident(deletion=deletion, user=editor)
        return
    if incident is None:
        return
    if kind == "report":
        qualifier, killed = op[3]
        make_report(incident, source=make_source(), killed=killed, qualifier=qualifier, killed_counts=op[2])
    elif kind == "publish":
        workflow.publish_incident(incident=incident, user=editor)
    elif kind == "unpublish":
        workflow.unpublish_incident(incident=incident, user=editor)
    elif kind == "part_of":
        whole = op[2] if op[2] is None else Incident.objects.filter(pk=incidents[op[2]]).first()
        if whole is not None and incident.pk in whole.wholes_ids():
            return  # refused on every path: an incident cannot be part of its own part
        incident.part_of = whole
        incident.save()
    elif kind == "date":
        incident.start_date = MONTHS[op[2]]
        incident.save()
    elif kind == "place":
        incident.location = places[op[2]]
        incident.save()
    elif kind == "delete" and not incident.parts.exists():
        incident.delete()


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, max_size=14))
def test_after_any_sequence_of_changes_the_kept_totals_are_the_totals_counted_afresh(operations):
    with transaction.atomic():  # each example starts from an empty database
        editor = make_user("eddie-hypothesis", group="Editor")
        where = places()
        incidents = [
            make_incident(
                start_date=MONTHS[n % 3], location=where[n % 3], status="published" if n % 2 else "draft"
            ).pk
            for n in range(5)
        ]
        for op in operations:
            apply(op, incidents, editor, where)
        assert_totals_kept()
        transaction.set_rollback(True)


def place_headline(client, place):
    """The total as the place page shows it."""
    return client.get(f"/locations/{place.slug}/").context["total"].short()


def test_moving_an_incident_to_another_governorate_moves_its_toll_between_their_pages(client):
    tree = make_tree()
    strike = make_incident("Strike", location=tree["city"], start_date=OCTOBER)
    make_report(strike, killed=7)
    shelling = make_incident("Shelling", location=tree["homs"], start_date=OCTOBER)
    make_report(shelling, killed=3, qualifier="at_least")
    assert (place_headline(client, tree["idlib"]), place_headline(client, tree["homs"])) == ("7", "3+")
    strike.location = tree["homs"]
    strike.save()
    assert place_headline(client, tree["homs"]) == "10+"
    assert client.get(f"/locations/{tree['idlib'].slug}/").status_code == 404  # no incident left
    Incident.objects.filter(pk=strike.pk).update(location=tree["district"])
    assert (place_headline(client, tree["idlib"]), place_headline(client, tree["syria"])) == ("7", "10+")
    assert_totals_kept()


def test_a_part_in_another_place_than_its_whole_counts_within_it_where_both_are(client):
    tree = make_tree()
    wave = make_incident("Wave", location=tree["idlib"], start_date=SEPTEMBER)
    make_report(wave, killed=17)
    child = make_incident(
        "A child among the victims", location=tree["city"], start_date=OCTOBER, part_of=wave
    )
    make_report(child, killed=1)
    other = make_incident("Elsewhere", location=tree["homs"], start_date=OCTOBER, part_of=wave)
    make_report(other, killed=2)
    # Idlib holds the wave and its child: 17, the child within it; the city holds the child alone.
    assert place_headline(client, tree["idlib"]) == "17"
    assert place_headline(client, tree["city"]) == "1"
    assert place_headline(client, tree["homs"]) == "2"
    assert place_headline(client, tree["syria"]) == "17"
    assert_totals_kept()


def test_rebuild_totals_repairs_place_totals_changed_around_the_application(client):
    tree = make_tree()
    make_report(make_incident(location=tree["city"], start_date=OCTOBER), killed=8)
    PlaceTotal.objects.update(lowest=999, highest=999)  # a hand-made SQL change
    assert place_headline(client, tree["idlib"]) == "999"
    call_command("rebuild_totals", verbosity=0)
    assert place_headline(client, tree["idlib"]) == "8"
    assert_totals_kept()


def test_a_source_page_counts_its_reports_and_comparisons_from_the_source_totals(client):
    moh, sohr = make_source(name="Ministry"), make_source(name="Observatory")
    homs = make_incident("Homs academy", start_date=OCTOBER)
    make_report(homs, source=moh, killed=89, qualifier="at_least")
    revised = make_report(homs, source=sohr, killed=100, qualifier="more_than")
    make_report(
        homs,
        source=sohr,
        killed=120,
        qualifier="more_than",
        published_on=OCTOBER + datetime.timedelta(days=1),
    )
    draft = make_incident("A draft", status="draft", start_date=OCTOBER)
    make_report(draft, source=moh, killed=5)
    make_report(draft, source=sohr, killed=50)

    def seen(source):
        context = client.get(f"/sources/{source.slug}/").context
        return context["page"].paginator.count, context["comparison"]

    # "at least 89" is lower than "more than 120"; the draft's figures are not counted.
    assert seen(moh) == (1, {"higher": 0, "lower": 1, "same": 0})
    assert seen(sohr) == (2, {"higher": 1, "lower": 0, "same": 0})
    workflow.publish_incident(incident=draft, user=None, via="tests")
    assert seen(moh) == (2, {"higher": 0, "lower": 2, "same": 0})
    assert seen(sohr) == (3, {"higher": 2, "lower": 0, "same": 0})
    revised.delete()  # an earlier figure: one report fewer, the same comparisons
    draft.reports.filter(source=sohr).delete()
    assert seen(moh) == (2, {"higher": 0, "lower": 1, "same": 0})
    assert seen(sohr) == (1, {"higher": 1, "lower": 0, "same": 0})
    assert_totals_kept()
