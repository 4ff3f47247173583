"""Models: every rule at both layers, the stored ranges, and the place hierarchy."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import stats
from incidents.figures import total as add_up
from incidents.models import Incident, Location, TollReport
from incidents.workflow import unpublish_incident
from tests.factories import (
    fresh_range,
    make_homs,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_tree,
    stored_range,
)

pytestmark = pytest.mark.django_db


def report_errors(**fields):
    incident = fields.pop("incident", None) or make_incident()
    report = TollReport(
        incident=incident,
        source=fields.pop("source", None) or make_source(),
        published_on=fields.pop("published_on", incident.start_date),
        **fields,
    )
    with pytest.raises(ValidationError) as caught:
        report.full_clean()
    return caught.value.message_dict


def insert_report_raw(**fields):
    """Insert bypassing clean() and save(), as a script or bulk import could."""
    incident = make_incident()
    values = {
        "incident": incident,
        "source": make_source(),
        "published_on": incident.start_date,
        "killed": 10,
        "killed_qualifier": "exact",
        "injured_qualifier": "unknown",
        **fields,
    }
    with transaction.atomic():
        TollReport.objects.bulk_create([TollReport(**values)])


class TestReportRules:
    def test_it_rejects_a_negative_figure(self):
        assert report_errors(killed=-1)["killed"] == ["A figure cannot be negative."]
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=-1)

    def test_it_rejects_upper_below_figure(self):
        errors = report_errors(killed=15, killed_qualifier="between", killed_upper=10)
        assert errors["killed_upper"] == ["'between' needs an upper figure larger than the lower one."]
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=15, killed_qualifier="between", killed_upper=10)

    def test_it_rejects_between_without_an_upper_figure(self):
        errors = report_errors(killed=15, killed_qualifier="between")
        assert "killed_upper" in errors
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=15, killed_qualifier="between", killed_upper=None)

    def test_it_rejects_an_upper_figure_without_between(self):
        errors = report_errors(killed=15, killed_qualifier="at_least", killed_upper=20)
        assert errors["killed_upper"][0].startswith("Only a 'between' figure has an upper figure")
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=15, killed_qualifier="at_least", killed_upper=20)

    def test_it_rejects_a_number_with_unknown(self):
        errors = report_errors(killed=5, killed_qualifier="unknown")
        assert errors["killed_qualifier"][0].startswith("'unknown' cannot go with a number")
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=5, killed_qualifier="unknown")

    def test_it_asks_for_a_number_unless_unknown(self):
        errors = report_errors(killed=None, killed_qualifier="at_least")
        assert errors["killed"][0].startswith("Enter the number of people killed")
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=None, killed_qualifier="at_least")

    def test_injuries_follow_the_same_rules(self):
        errors = report_errors(killed=3, injured=8, injured_qualifier="between", injured_upper=4)
        assert "injured_upper" in errors
        with pytest.raises(IntegrityError):
            insert_report_raw(injured=8, injured_qualifier="between", injured_upper=4)

    @pytest.mark.parametrize("field", ["civilians", "children", "women"])
    def test_of_whom_cannot_exceed_the_upper_bound_of_killed(self, field):
        errors = report_errors(killed=10, killed_qualifier="between", killed_upper=12, **{field: 13})
        assert errors[field][0].startswith("This cannot be more than the number killed (12)")
        with pytest.raises(IntegrityError):
            insert_report_raw(killed=10, **{field: 11})

    def test_of_whom_up_to_the_upper_bound_is_accepted(self):
        incident = make_incident()
        report = TollReport(
            incident=incident,
            source=make_source(),
            published_on=incident.start_date,
            killed=10,
            killed_qualifier="between",
            killed_upper=12,
            civilians=12,
        )
        report.full_clean()

    def test_it_rejects_a_report_published_in_the_future(self):
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        assert report_errors(killed=1, published_on=tomorrow)["published_on"] == [
            "This date is in the future."
        ]

    def test_it_rejects_a_report_published_before_the_incident(self):
        incident = make_incident(start_date=datetime.date(2023, 10, 5))
        errors = report_errors(incident=incident, killed=1, published_on=datetime.date(2023, 10, 4))
        assert errors["published_on"] == [
            "A report cannot be published before the incident started (5 October 2023)."
        ]

    def test_a_report_needs_a_source(self):
        incident = make_incident()
        report = TollReport(incident=incident, published_on=incident.start_date, killed=1)
        with pytest.raises(ValidationError) as caught:
            report.full_clean()
        assert "source" in caught.value.message_dict
        with pytest.raises(IntegrityError), transaction.atomic():
            TollReport.objects.bulk_create([report])


class TestIncidentRules:
    def test_it_rejects_an_end_before_the_start(self):
        incident = Incident(
            title="x",
            kind="other",
            location=make_location(),
            start_date=datetime.date(2023, 10, 5),
            end_date=datetime.date(2023, 10, 4),
        )
        with pytest.raises(ValidationError) as caught:
            incident.full_clean()
        assert caught.value.message_dict["end_date"] == ["The end date cannot be before the start date."]
        with pytest.raises(IntegrityError), transaction.atomic():
            incident.save()

    def test_it_rejects_a_start_in_the_future(self):
        incident = Incident(
            title="x",
            kind="other",
            location=make_location(),
            start_date=timezone.localdate() + datetime.timedelta(days=3),
        )
        with pytest.raises(ValidationError) as caught:
            incident.full_clean()
        assert caught.value.message_dict["start_date"][0].startswith("This date is in the future")

    def test_slugs_are_made_from_titles_and_kept_unique(self):
        first = make_incident("Strike on the market")
        second = make_incident("Strike on the market", start_date=datetime.date(2023, 10, 7))
        third = make_incident("Strike on the market", start_date=datetime.date(2023, 10, 7))
        assert first.slug == "strike-on-the-market"
        assert second.slug == "strike-on-the-market-2023-10-07"
        assert third.slug == "strike-on-the-market-2"

    def test_a_title_in_arabic_still_gets_a_slug(self):
        incident = make_incident("قصف على السوق", kind="shelling")
        assert incident.slug == "shelling-2023-10-05"


class TestStoredRanges:
    def test_homs_stores_lowest_highest_open_and_disputed(self):
        homs = make_homs()
        assert (homs.killed_lowest, homs.killed_highest, homs.killed_highest_open) == (89, 120, True)
        assert homs.is_disputed and homs.source_count == 2
        assert homs.toll.short() == "89–120+"

    def test_a_revision_replaces_the_sources_current_figure(self):
        incident = make_incident()
        sohr = make_source("SOHR")
        first = make_report(incident, sohr, killed=100, published_on=datetime.date(2023, 10, 5))
        second = make_report(
            incident, sohr, killed=120, qualifier="more_than", published_on=datetime.date(2023, 10, 6)
        )
        incident.refresh_from_db()
        first.refresh_from_db()
        second.refresh_from_db()
        assert not first.is_current and second.is_current
        assert (incident.killed_lowest, incident.killed_highest, incident.source_count) == (120, 120, 1)
        assert not incident.is_disputed

    def test_deleting_the_latest_report_brings_back_the_previous_figure(self):
        incident = make_incident()
        source = make_source()
        make_report(incident, source, killed=100, published_on=datetime.date(2023, 10, 5))
        latest = make_report(incident, source, killed=150, published_on=datetime.date(2023, 10, 6))
        latest.delete()
        incident.refresh_from_db()
        assert incident.killed_highest == 100
        assert incident.reports.get().is_current

    def test_moving_a_report_to_another_incident_updates_both(self):
        a, b = make_incident(), make_incident()
        report = make_report(a, killed=30)
        report.incident = b
        report.save()
        a.refresh_from_db()
        b.refresh_from_db()
        assert (a.killed_highest, a.source_count) == (None, 0)
        assert (b.killed_highest, b.source_count) == (30, 1)

    def test_saving_an_incident_never_writes_back_a_stale_range(self):
        incident = make_incident()
        stale = Incident.objects.get(pk=incident.pk)
        make_report(incident, killed=40)
        stale.title = "Renamed"
        stale.save()
        incident.refresh_from_db()
        assert incident.title == "Renamed" and incident.killed_highest == 40

    def test_the_stored_range_is_the_arithmetic_of_the_current_reports(self):
        cases = [
            [("at_least", 89, None), ("more_than", 120, None)],
            [("between", 10, 15), ("exact", 12, None)],
            [("unknown", None, None), ("about", 5, None)],
            [("unknown", None, None)],
            [("exact", 60, None), ("more_than", 60, None), ("exact", 40, None)],
            [("up_to", 15, None)],
            [],
        ]
        for figures in cases:
            incident = make_incident()
            for qualifier, killed, upper in figures:
                make_report(incident, killed=killed, qualifier=qualifier, killed_upper=upper)
            assert stored_range(incident) == fresh_range(incident), figures

    def test_a_bulk_insert_of_reports_stores_the_figures(self):
        incident = make_incident()
        moh, sohr = make_source(), make_source()
        TollReport.objects.bulk_create(
            [
                TollReport(
                    incident=incident,
                    source=moh,
                    published_on=datetime.date(2023, 10, 5),
                    killed=50,
                    killed_qualifier="exact",
                ),
                TollReport(
                    incident=incident,
                    source=moh,
                    published_on=datetime.date(2023, 10, 6),
                    killed=89,
                    killed_qualifier="at_least",
                ),
                TollReport(
                    incident=incident,
                    source=sohr,
                    published_on=datetime.date(2023, 10, 6),
                    killed=120,
                    killed_qualifier="more_than",
                ),
            ]
        )
        incident.refresh_from_db()
        assert (incident.killed_lowest, incident.killed_highest, incident.killed_highest_open) == (
            89,
            120,
            True,
        )
        assert incident.reports.current().count() == 2


class TestLocations:
    def test_a_place_shows_its_chain(self):
        tree = make_tree()
        village = make_location("Jaftallak Haj Hamoud", parent=tree["idlib"])
        assert village.chain == "Jaftallak Haj Hamoud, Idlib, Syria"
        assert tree["city"].short_chain == "Idlib, Syria"
        assert str(tree["city"]) == "Idlib, Syria (place)"

    def test_beneath_includes_the_place_and_everything_under_it(self):
        tree = make_tree()
        in_city = make_incident(location=tree["city"])
        in_governorate = make_incident(location=tree["idlib"])
        in_homs = make_incident(location=tree["homs"])
        found = set(Incident.objects.beneath(tree["idlib"]))
        assert found == {in_city, in_governorate}
        assert in_homs in Incident.objects.beneath(tree["syria"])
        assert set(Incident.objects.beneath(tree["city"])) == {in_city}

    def test_a_place_knows_its_governorate_and_district(self):
        tree = make_tree()
        assert tree["city"].admin1 == tree["idlib"]
        assert tree["city"].admin2 == tree["district"]
        assert tree["city"].country == tree["syria"]
        assert tree["syria"].country == tree["syria"]

    def test_moving_a_district_moves_everything_beneath_it(self):
        tree = make_tree()
        tree["district"].parent = tree["homs"]
        tree["district"].save()
        city = Location.objects.get(pk=tree["city"].pk)
        assert city.chain == "Idlib, Idlib, Homs, Syria"
        assert city.admin1 == tree["homs"]
        assert city.path.startswith(tree["homs"].path)

    def test_a_place_cannot_sit_inside_a_smaller_one(self):
        tree = make_tree()
        governorate = Location(name="Hama", kind="admin1", parent=tree["district"])
        with pytest.raises(ValidationError) as caught:
            governorate.full_clean()
        assert "cannot lie inside" in caught.value.message_dict["parent"][0]

    def test_a_place_cannot_sit_inside_itself_or_its_children(self):
        tree = make_tree()
        tree["idlib"].parent = tree["city"]
        with pytest.raises(ValidationError) as caught:
            tree["idlib"].full_clean()
        assert "inside itself" in caught.value.message_dict["parent"][0]

    def test_a_country_has_no_parent_in_the_database_either(self):
        tree = make_tree()
        with pytest.raises(IntegrityError), transaction.atomic():
            Location.objects.filter(pk=tree["syria"].pk).update(parent=tree["homs"])

    def test_pcodes_are_unique_when_set_and_empty_is_allowed_twice(self):
        make_tree()
        make_location("A")
        make_location("B", pcode="")
        duplicate = Location(
            name="Idlib again", kind="admin1", pcode="sy07", parent=Location.objects.get(pcode="SY")
        )
        with pytest.raises(ValidationError) as caught:
            duplicate.full_clean()
        assert "pcode" in caught.value.message_dict

    def test_a_site_lies_inside_a_locality(self):
        """The al-Ahli hospital is recorded as a place of its own, inside Gaza City."""
        palestine = make_location(
            "Palestine", kind="country", admin1_name="region", admin2_name="governorate"
        )
        strip = make_location("Gaza Strip", kind="admin1", parent=palestine)
        governorate = make_location("Gaza", kind="admin2", parent=strip)
        gaza_city = make_location("Gaza City", kind="locality", parent=governorate)
        hospital = Location(name="Al-Ahli Arab Hospital", kind="site", parent=gaza_city)
        hospital.full_clean()
        hospital.save()
        assert hospital.chain == "Al-Ahli Arab Hospital, Gaza City, Gaza, Gaza Strip, Palestine"
        assert str(hospital) == "Al-Ahli Arab Hospital, Gaza City, Gaza, Gaza Strip, Palestine (site)"
        incident = make_incident(location=hospital)
        assert incident in Incident.objects.beneath(gaza_city)
        assert incident in Incident.objects.beneath(strip)

    @pytest.mark.parametrize("parent_key", ["syria", "idlib", "district"])
    def test_a_site_cannot_lie_directly_in_a_larger_area(self, parent_key):
        tree = make_tree()
        site = Location(name="Hospital", kind="site", parent=tree[parent_key])
        with pytest.raises(ValidationError) as caught:
            site.full_clean()
        assert "A site lies inside a city, town or village" in caught.value.message_dict["parent"][0]

    def test_a_site_has_a_parent_in_both_layers(self):
        with pytest.raises(ValidationError) as caught:
            Location(name="Hospital", kind="site").full_clean()
        assert "choose it as parent" in caught.value.message_dict["parent"][0]
        with pytest.raises(IntegrityError), transaction.atomic():
            Location.objects.bulk_create([Location(name="Hospital", kind="site", slug="hospital")])

    def test_nothing_lies_inside_a_site(self):
        tree = make_tree()
        site = make_location("School", kind="site", parent=tree["city"])
        village = Location(name="Village", kind="locality", parent=site)
        with pytest.raises(ValidationError) as caught:
            village.full_clean()
        assert (
            caught.value.message_dict["parent"][0]
            == "A city, town or village cannot lie inside a site: choose a larger place as parent."
        )

    def test_places_are_named_in_their_countrys_words(self):
        tree = make_tree()
        assert str(tree["idlib"]) == "Idlib, Syria (governorate)"
        assert str(tree["district"]) == "Idlib, Syria (district)"
        palestine = make_location(
            "Palestine", kind="country", admin1_name="region", admin2_name="governorate"
        )
        strip = make_location("Gaza Strip", kind="admin1", parent=palestine)
        gaza = make_location("Gaza", kind="admin2", parent=strip)
        assert str(strip) == "Gaza Strip, Palestine (region)"
        assert str(gaza) == "Gaza, Gaza Strip, Palestine (governorate)"
        # A country that does not name its levels gets neutral words, never Syria's.
        lebanon = make_location("Lebanon", kind="country")
        south = make_location("South", kind="admin1", parent=lebanon)
        assert str(south) == "South, Lebanon (admin 1)"
        assert make_incident(location=gaza, location_precision="admin2").location_precision_words == (
            "somewhere in the governorate"
        )
        assert make_incident(location=south, location_precision="admin1").location_precision_words == (
            "somewhere in the admin 1 area"
        )

    def test_only_a_country_names_levels_in_both_layers(self):
        tree = make_tree()
        tree["idlib"].admin2_name = "district"
        with pytest.raises(ValidationError) as caught:
            tree["idlib"].full_clean()
        assert "Only a country names its levels" in caught.value.message_dict["admin2_name"][0]
        with pytest.raises(IntegrityError), transaction.atomic():
            Location.objects.filter(pk=tree["idlib"].pk).update(admin1_name="province")

    def test_a_place_inside_a_smaller_one_is_refused_in_the_countrys_words(self):
        tree = make_tree()
        governorate = Location(name="Hama", kind="admin1", parent=tree["district"])
        with pytest.raises(ValidationError) as caught:
            governorate.full_clean()
        assert caught.value.message_dict["parent"][0] == (
            "A governorate (admin 1) cannot lie inside a district (admin 2): choose a larger place as parent."
        )

    def test_coordinates_must_be_on_earth(self):
        place = Location(name="Nowhere", kind="locality", latitude=91, longitude=0)
        with pytest.raises(ValidationError) as caught:
            place.full_clean()
        assert "latitude" in caught.value.message_dict
        with pytest.raises(IntegrityError), transaction.atomic():
            Location.objects.bulk_create(
                [Location(name="N", kind="locality", slug="n", latitude=91, longitude=0)]
            )


def test_likely_duplicates_are_within_two_days_in_the_same_district(db):
    tree = make_tree()
    village = make_location("Sarmin", parent=tree["district"])
    original = make_incident(location=tree["city"], start_date=datetime.date(2023, 10, 5))
    make_incident(location=tree["homs"], start_date=datetime.date(2023, 10, 5))  # elsewhere
    make_incident(location=tree["city"], start_date=datetime.date(2023, 10, 9))  # too late
    new = Incident(title="?", kind="shelling", location=village, start_date=datetime.date(2023, 10, 6))
    assert list(new.likely_duplicates()) == [original]


class TestTotals:
    """Totals over many incidents, as the home page, place pages and summaries show them."""

    FIGURES = [
        (datetime.date(2023, 9, 30), [("exact", 4)]),
        (datetime.date(2023, 10, 1), [("at_least", 89), ("more_than", 120)]),
        (datetime.date(2023, 10, 1), [("unknown", None)]),
        (datetime.date(2023, 10, 31), [("exact", 7), ("exact", 7)]),
        (datetime.date(2023, 11, 1), [("about", 30), ("exact", 25)]),
    ]

    @pytest.fixture
    def incidents(self):
        made = []
        for day, figures in self.FIGURES:
            incident = make_incident(start_date=day)
            for qualifier, killed in figures:
                make_report(incident, killed=killed, qualifier=qualifier)
            incident.refresh_from_db()
            made.append(incident)
        return made

    def test_monthly_totals_add_up_each_months_incidents(self, incidents):
        months = dict(stats.monthly_totals(Incident.objects.published()))
        assert list(months) == [
            datetime.date(2023, 9, 1),
            datetime.date(2023, 10, 1),
            datetime.date(2023, 11, 1),
        ]
        for month, total in months.items():
            members = [i for i in incidents if i.start_date.replace(day=1) == month]
            expected = add_up(i.toll for i in members)
            assert (total.lowest, total.highest, total.highest_open) == (
                expected.lowest,
                expected.highest,
                expected.highest_open,
            ), month
            assert (total.incidents, total.incidents_with_figures, total.disputed_incidents) == (
                expected.incidents,
                expected.incidents_with_figures,
                expected.disputed_incidents,
            ), month
        assert (months[datetime.date(2023, 10, 1)].lowest, months[datetime.date(2023, 10, 1)].highest) == (
            96,
            127,
        )

    def test_all_time_totals_match_the_sum_of_the_months(self, incidents):
        published = Incident.objects.published()
        total = stats.totals(published)
        months = [t for _, t in stats.monthly_totals(published)]
        assert (
            (total.lowest, total.highest, total.incidents, total.disputed_incidents)
            == (
                sum(t.lowest for t in months),
                sum(t.highest for t in months),
                sum(t.incidents for t in months),
                sum(t.disputed_incidents for t in months),
            )
            == (125, 161, 5, 2)
        )
        assert total.highest_open and total.sources == 8  # one source per report here

    def test_drafts_count_nowhere(self, incidents):
        unpublish_incident(incident=incidents[1], user=None, via="tests")
        assert stats.totals(Incident.objects.published()).highest == 161 - 120
