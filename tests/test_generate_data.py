"""Synthetic data for benchmarks: valid, reproducible, and pages cost the same queries at any size."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Actor, Incident, Location, Source, TollReport
from tests.factories import fresh_range, stored_range

pytestmark = pytest.mark.django_db


def generate(n, seed=1):
    call_command("generate_data", incidents=n, seed=seed, stdout=open("/dev/null", "w"))  # noqa: SIM115


def wipe():
    Incident.objects.filter(part_of__isnull=False).delete()  # parts before their wholes
    Incident.objects.all().delete()
    for kind in reversed(Location.Kind.values):  # children before their parents
        Location.objects.filter(kind=kind).delete()
    Source.objects.all().delete()
    Actor.objects.all().delete()


def signature():
    return sorted(
        TollReport.objects.values_list(
            "incident__slug", "source__slug", "published_on", "killed", "killed_qualifier", "killed_upper"
        ),
        key=str,
    )


def test_every_generated_record_passes_every_rule():
    generate(150)
    assert Incident.objects.count() == 150
    assert TollReport.objects.count() >= 150
    for record in [*Location.objects.all()[:300], *Incident.objects.all(), *TollReport.objects.all()]:
        record.full_clean(validate_unique=False)
    assert Incident.objects.filter(is_disputed=True).count() > 10
    assert TollReport.objects.filter(is_current=False).exists()  # some sources revised their figure
    published = Incident.objects.published()
    assert published.exists() and not published.filter(published_at=None).exists()
    assert not Incident.objects.exclude(status="published").exclude(published_at=None).exists()
    assert not Incident.objects.filter(summary="").exists()


def test_stored_ranges_agree_with_the_reports():
    generate(100)
    for incident in Incident.objects.all():
        assert stored_range(incident) == fresh_range(incident)


def test_the_same_seed_gives_the_same_data():
    generate(60, seed=7)
    first = signature()
    wipe()
    generate(60, seed=7)
    assert signature() == first
    wipe()
    generate(60, seed=8)
    assert signature() != first


def test_it_refuses_to_generate_twice_into_one_database():
    generate(5)
    with pytest.raises(CommandError, match="already in this database"):
        generate(5)


def page_urls():
    """The benchmark's pages, each chosen so that it shows something at any data size."""
    busiest = (
        Incident.objects.published().filter(location__kind="locality").order_by("-source_count", "pk").first()
    )
    governorate, district = busiest.location.admin1, busiest.location.admin2
    source = busiest.reports.first().source
    return [
        "/",
        "/incidents/",
        f"/incidents/?location={governorate.slug}&date_after=2010-01-01&date_before=2030-12-31&kind={busiest.kind}",
        "/incidents/?q=market",
        "/incidents/?sort=disputed&disputed=true&min_killed=5",
        busiest.get_absolute_url(),
        governorate.get_absolute_url(),
        district.get_absolute_url(),
        source.get_absolute_url(),
        "/export/incidents.csv",
        "/export/reports.csv",
        "/export/summary.csv?by=admin1&by=month",
    ]


def test_each_page_costs_the_same_queries_for_10_and_1000_incidents(editor_client):
    def costs():
        result = []
        for url in page_urls():
            with CaptureQueriesContext(connection) as captured:
                response = editor_client.get(url)
                if response.streaming:
                    b"".join(response.streaming_content)
            assert response.status_code == 200, url
            result.append(len(captured))
        return result

    generate(10)
    small = costs()
    wipe()
    generate(1000)
    assert costs() == small
