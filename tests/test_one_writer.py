"""Derived data has one writer: every path that changes reports leaves true stored ranges and
one current report per source, and nothing else can write those columns or the status."""

import datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from incidents import workflow
from incidents.models import Incident, TollReport
from tests.factories import (
    current_report_ids,
    fresh_range,
    make_homs,
    make_incident,
    make_report,
    make_source,
    stored_range,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def assert_figures_true(*incidents):
    for incident in incidents:
        assert stored_range(incident) == fresh_range(incident), incident
        assert all(len(ids) == 1 for ids in current_report_ids(incident).values()), incident


def editor_client(editor):
    client = Client()
    client.force_login(editor)
    return client


def _save(homs, editor):
    report = homs.reports.get(source__short_name="MoH")
    report.killed = 150
    report.save()


def _delete(homs, editor):
    homs.reports.get(source__short_name="SOHR").delete()


def _queryset_delete(homs, editor):
    TollReport.objects.filter(incident=homs, source__short_name="SOHR").delete()


def _queryset_update(homs, editor):
    TollReport.objects.filter(incident=homs).update(killed=300)


def _queryset_move(homs, editor):
    other = make_incident()
    TollReport.objects.filter(incident=homs, source__short_name="SOHR").update(incident=other)
    assert_figures_true(other)


def _bulk_create(homs, editor):
    TollReport.objects.bulk_create(
        [TollReport(incident=homs, source=make_source(), published_on=homs.start_date, killed=500)]
    )


def _bulk_update(homs, editor):
    reports = list(homs.reports.all())
    for report in reports:
        report.killed_qualifier, report.killed = "about", 42
    TollReport.objects.bulk_update(reports, ["killed_qualifier", "killed"])


def _admin_bulk_delete(homs, editor):
    ids = list(homs.reports.filter(source__short_name="SOHR").values_list("pk", flat=True))
    editor_client(editor).post(
        "/admin/incidents/tollreport/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert not TollReport.objects.filter(pk__in=ids).exists()


def _admin_restore_report(homs, editor):
    report = homs.reports.get(source__short_name="SOHR")
    pk = report.pk
    report.delete()
    deletion = TollReport.history.get(id=pk, history_type="-")
    editor_client(editor).post(f"/admin/incidents/incident/deleted/restore/report/{deletion.history_id}/")
    assert TollReport.objects.filter(pk=pk).exists()


def _admin_restore_incident(homs, editor):
    pk = homs.pk
    workflow.unpublish_incident(incident=homs, user=editor)
    homs.delete()
    deletion = Incident.history.get(id=pk, history_type="-")
    editor_client(editor).post(f"/admin/incidents/incident/deleted/restore/incident/{deletion.history_id}/")
    assert Incident.objects.get(pk=pk).reports.count() == 2
    homs.pk = pk  # delete() cleared it


def _import_ucdp(homs, editor):
    call_command("import_ucdp", str(DATA / "ucdp_ged.csv"), "--no-progress", "--allow-skips", stdout=None)
    assert_figures_true(*Incident.objects.all())  # the Homs event may go on homs itself


def _generate_data(homs, editor):
    call_command("generate_data", "--incidents", "30", "--governorates", "2", "--districts", "2",
                 "--subdistricts", "1", "--localities", "2", stdout=None)  # fmt: skip
    assert_figures_true(*Incident.objects.all())


@pytest.mark.parametrize(
    "path",
    [
        _save, _delete, _queryset_delete, _queryset_update, _queryset_move, _bulk_create, _bulk_update,
        _admin_bulk_delete, _admin_restore_report, _admin_restore_incident, _import_ucdp, _generate_data,
    ],
    ids=lambda path: path.__name__.strip("_"),
)  # fmt: skip
def test_every_path_that_changes_reports_leaves_true_figures(path, editor):
    homs = make_homs()
    path(homs, editor)
    assert_figures_true(homs)


@pytest.mark.parametrize(
    "write",
    [
        lambda: Incident.objects.update(killed_highest=1),
        lambda: Incident.objects.update(status="published"),
        lambda: Incident.objects.update(published_at=None),
        lambda: TollReport.objects.update(is_current=True),
        lambda: Incident.objects.create(title="x", kind="other", start_date=datetime.date(2023, 1, 1),
                                        location=make_incident().location, status="published"),
    ],
    ids=["stored range", "status", "published_at", "is_current", "created published"],
)  # fmt: skip
def test_no_other_code_can_write_the_derived_columns_or_the_status(write):
    with pytest.raises(ValueError, match="written only by|publish"):
        write()


def test_a_save_of_an_incident_copy_never_writes_back_a_stale_status_or_range(editor):
    homs = make_homs()
    stale = Incident.objects.get(pk=homs.pk)
    workflow.unpublish_incident(incident=homs, user=editor)
    make_report(homs, killed=400)
    stale.summary = "Edited from a copy read before the change"
    stale.save()
    homs.refresh_from_db()
    assert homs.status == "draft" and homs.killed_highest == 400
    assert homs.history.first().status == "draft"  # the history row tells the truth too


# --- Any sequence of report changes leaves the arithmetic's figures ------------------------------

figure = st.sampled_from(["exact", "at_least", "more_than", "about", "up_to", "between", "unknown"]).flatmap(
    lambda qualifier: st.tuples(
        st.just(qualifier),
        st.none() if qualifier == "unknown" else st.integers(0, 500),
        st.integers(1, 50) if qualifier == "between" else st.none(),
    )
)
operation = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 1), st.integers(0, 2), figure, st.integers(0, 3)),
    st.tuples(st.just("edit"), st.integers(0, 20), figure, st.integers(0, 3)),
    st.tuples(st.just("move"), st.integers(0, 20)),
    st.tuples(st.just("delete"), st.integers(0, 20)),
    st.tuples(st.just("bulk_delete"), st.integers(0, 2)),
)


def apply(op, incidents, sources):
    reports = list(TollReport.objects.filter(incident__in=incidents).order_by("pk"))
    kind = op[0]
    if kind == "create":
        _, which, source, (qualifier, killed, gap), days = op
        incident = incidents[which]
        TollReport.objects.create(
            incident=incident,
            source=sources[source],
            published_on=incident.start_date + datetime.timedelta(days),
            killed_qualifier=qualifier,
            killed=killed,
            killed_upper=killed + gap if gap else None,
        )
    elif not reports:
        return
    elif kind == "edit":
        _, index, (qualifier, killed, gap), days = op
        report = reports[index % len(reports)]
        report.killed_qualifier, report.killed = qualifier, killed
        report.killed_upper = killed + gap if gap else None
        report.published_on = report.incident.start_date + datetime.timedelta(days)
        report.save()
    elif kind == "move":
        report = reports[op[1] % len(reports)]
        report.incident = incidents[1] if report.incident_id == incidents[0].pk else incidents[0]
        report.save()
    elif kind == "delete":
        reports[op[1] % len(reports)].delete()
    elif kind == "bulk_delete":
        TollReport.objects.filter(incident__in=incidents, source=sources[op[1]]).delete()


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, max_size=12))
def test_after_any_sequence_of_report_changes_the_stored_figures_are_the_arithmetics(operations):
    incidents = [make_incident(), make_incident()]
    sources = [make_source() for _ in range(3)]
    for op in operations:
        apply(op, incidents, sources)
    assert_figures_true(*incidents)
