"""Editorial workflow, history and restore, no lost edits, and logins."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from incidents.models import Incident, TollReport
from incidents.workflow import publish_incident
from tests.admin_helpers import change_form_data
from tests.factories import make_actor, make_homs, make_incident, make_report, make_source, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/incidents/incident/"


def change_url(incident):
    return f"/admin/incidents/incident/{incident.pk}/change/"


@pytest.fixture
def clients(analyst, editor):
    anonymous, as_analyst, as_editor = Client(), Client(), Client()
    as_analyst.force_login(analyst)
    as_editor.force_login(editor)
    return {"anonymous": anonymous, "analyst": as_analyst, "editor": as_editor}


class TestPermissionMatrix:
    @pytest.mark.parametrize("who, status", [("anonymous", 404), ("analyst", 200), ("editor", 200)])
    def test_viewing_a_draft(self, clients, who, status):
        draft = make_incident(status="draft")
        assert clients[who].get(draft.get_absolute_url()).status_code == status

    @pytest.mark.parametrize("who, published", [("anonymous", False), ("analyst", False), ("editor", True)])
    def test_publishing_with_the_admin_action_even_forged(self, clients, who, published):
        draft = make_incident(status="draft")
        clients[who].post(CHANGELIST, {"action": "publish_selected", "_selected_action": [draft.pk]})
        draft.refresh_from_db()
        assert draft.is_published is published

    @pytest.mark.parametrize("who, published", [("anonymous", True), ("analyst", True), ("editor", False)])
    def test_unpublishing_with_the_admin_action_even_forged(self, clients, who, published):
        incident = make_incident(status="published")
        clients[who].post(CHANGELIST, {"action": "unpublish_selected", "_selected_action": [incident.pk]})
        incident.refresh_from_db()
        assert incident.is_published is published

    @pytest.mark.parametrize("who, exists", [("anonymous", True), ("analyst", True), ("editor", False)])
    def test_deleting_a_published_incident(self, clients, who, exists):
        incident = make_incident(status="published")
        clients[who].post(f"/admin/incidents/incident/{incident.pk}/delete/", {"post": "yes"})
        assert Incident.objects.filter(pk=incident.pk).exists() is exists

    @pytest.mark.parametrize("who, exists", [("anonymous", True), ("analyst", True), ("editor", False)])
    def test_bulk_deleting_a_published_incident(self, clients, who, exists):
        incident = make_incident(status="published")
        clients[who].post(
            CHANGELIST, {"action": "delete_selected", "_selected_action": [incident.pk], "post": "yes"}
        )
        assert Incident.objects.filter(pk=incident.pk).exists() is exists

    @pytest.mark.parametrize("who, status", [("anonymous", 302), ("analyst", 403), ("editor", 200)])
    def test_exporting(self, clients, who, status):
        assert clients[who].get("/export/incidents.csv").status_code == status

    def test_an_analysts_forged_status_on_the_change_form_is_ignored(self, clients):
        draft = make_incident(status="draft")
        client = clients["analyst"]
        data = change_form_data(client.get(change_url(draft)))
        assert "status" not in data  # read-only for analysts
        data["status"] = "published"
        assert client.post(change_url(draft), data).status_code == 302
        draft.refresh_from_db()
        assert draft.status == "draft"


class TestPublishing:
    def test_publishing_records_who_and_when(self, clients, editor):
        draft = make_incident(status="draft")
        clients["editor"].post(CHANGELIST, {"action": "publish_selected", "_selected_action": [draft.pk]})
        draft.refresh_from_db()
        assert draft.published_by == editor and draft.published_at is not None
        record = draft.history.first()
        assert record.history_user == editor and record.history_change_reason == "Published"

    def test_publishing_from_the_form_records_who_and_when_too(self, clients, editor):
        draft = make_incident(status="draft")
        client = clients["editor"]
        data = change_form_data(client.get(change_url(draft)))
        data["_publish"] = "Save and publish"
        assert client.post(change_url(draft), data).status_code == 302
        draft.refresh_from_db()
        assert draft.is_published and draft.published_by == editor

    def test_the_admin_shows_who_published(self, clients, editor):
        incident = make_incident(status="draft")
        publish_incident(incident=incident, user=editor)
        assert f"by {editor.username}" in clients["analyst"].get(change_url(incident)).content.decode()


class TestHistory:
    def test_create_change_and_delete_are_kept_with_who_did_it(self, clients, analyst):
        incident = make_homs()
        client = clients["analyst"]
        data = change_form_data(client.get(change_url(incident)))
        data["title"] = "Drone strike on the Homs military academy (corrected title)"
        client.post(change_url(incident), data)
        report = incident.reports.get(source__short_name="MoH")
        client.post(f"/admin/incidents/tollreport/{report.pk}/delete/", {"post": "yes"})
        types = list(incident.history.order_by("history_date").values_list("history_type", flat=True))
        assert types[0] == "+" and "~" in types
        assert incident.history.first().history_user == analyst
        deletion = TollReport.history.get(id=report.pk, history_type="-")
        assert deletion.history_user == analyst

    def test_the_admin_history_page_shows_what_changed(self, clients):
        incident = make_incident(title="Old title", status="draft")
        client = clients["analyst"]
        data = change_form_data(client.get(change_url(incident)))
        data["title"] = "New title"
        client.post(change_url(incident), data)
        html = client.get(f"/admin/incidents/incident/{incident.pk}/history/").content.decode()
        assert "Old title" in html and "New title" in html

    def test_an_editor_restores_a_deleted_report(self, clients):
        homs = make_homs()
        report = homs.reports.get(source__short_name="SOHR")
        report_pk = report.pk
        report.delete()
        homs.refresh_from_db()
        assert homs.toll.short() == "89+"
        client = clients["editor"]
        html = client.get("/admin/incidents/incident/deleted/").content.decode()
        deletion = TollReport.history.get(id=report_pk, history_type="-")
        assert f"/deleted/restore/report/{deletion.history_id}/" in html
        response = client.post(f"/admin/incidents/incident/deleted/restore/report/{deletion.history_id}/")
        assert response.status_code == 302
        homs.refresh_from_db()
        assert homs.toll.short() == "89–120+" and TollReport.objects.filter(pk=report_pk).exists()

    def test_an_editor_restores_a_deleted_incident_with_its_reports_and_perpetrators(self, clients):
        homs = make_homs()
        homs.perpetrators.add(make_actor("Unidentified drone operators"))
        pk = homs.pk
        clients["editor"].post(f"/admin/incidents/incident/{pk}/delete/", {"post": "yes"})
        assert not Incident.objects.filter(pk=pk).exists()
        deletion = Incident.history.get(id=pk, history_type="-")
        clients["editor"].post(f"/admin/incidents/incident/deleted/restore/incident/{deletion.history_id}/")
        restored = Incident.objects.get(pk=pk)
        assert restored.status == "draft"  # an editor checks it and publishes again
        assert restored.toll.short() == "89–120+" and restored.reports.count() == 2
        assert [a.name for a in restored.perpetrators.all()] == ["Unidentified drone operators"]

    def test_analysts_cannot_see_or_use_the_restore_pages(self, clients):
        incident = make_incident(status="draft")
        clients["analyst"].post(f"/admin/incidents/incident/{incident.pk}/delete/", {"post": "yes"})
        deletion = Incident.history.get(id=incident.pk, history_type="-")
        assert clients["analyst"].get("/admin/incidents/incident/deleted/").status_code == 403
        url = f"/admin/incidents/incident/deleted/restore/incident/{deletion.history_id}/"
        assert clients["analyst"].post(url).status_code == 403
        assert not Incident.objects.filter(pk=incident.pk).exists()


class TestCorrections:
    def test_a_published_figure_corrected_later_shows_a_corrections_note(self, client, editor):
        incident = make_incident(status="draft")
        report = make_report(
            incident, make_source("SOHR", short_name="SOHR"), killed=120, qualifier="more_than"
        )
        publish_incident(incident=incident, user=editor)
        report.killed = 125
        report.save()
        html = client.get(incident.get_absolute_url()).content.decode()
        assert "Corrections" in html
        assert "a figure was corrected from SOHR: more than 120 to SOHR: more than 125." in html

    def test_a_removed_figure_is_noted(self, client, editor):
        incident = make_incident(status="draft")
        report = make_report(incident, make_source("MoH", short_name="MoH"), killed=89, qualifier="at_least")
        make_report(incident, killed=100)
        publish_incident(incident=incident, user=editor)
        report.delete()
        assert (
            "the figure from MoH (at least 89) was removed."
            in client.get(incident.get_absolute_url()).content.decode()
        )

    def test_edits_before_publication_and_new_revisions_are_not_corrections(self, client, editor):
        incident = make_incident(status="draft")
        source = make_source("SOHR")
        report = make_report(incident, source, killed=100)
        report.killed = 110
        report.save()
        publish_incident(incident=incident, user=editor)
        make_report(
            incident, source, killed=120, published_on=incident.start_date + datetime.timedelta(days=1)
        )
        html = client.get(incident.get_absolute_url()).content.decode()
        assert "Corrections" not in html and "first reported 110" in html


class TestNoLostEdits:
    def test_the_second_of_two_concurrent_saves_is_refused_naming_the_first(self, analyst, editor):
        incident = make_incident(title="Original", status="draft")
        first, second = Client(), Client()
        first.force_login(analyst)
        second.force_login(editor)
        first_data = change_form_data(first.get(change_url(incident)))
        second_data = change_form_data(second.get(change_url(incident)))
        first_data["title"] = "Analyst's title"
        assert first.post(change_url(incident), first_data).status_code == 302
        second_data["summary"] = "Editor's summary"
        response = second.post(change_url(incident), second_data)
        assert response.status_code == 200
        html = response.content.decode()
        assert f"was changed by {analyst.username} on" in html and "Your changes were not saved" in html
        incident.refresh_from_db()
        assert incident.title == "Analyst's title" and incident.summary == ""

    def test_saving_again_after_reloading_works(self, analyst):
        incident = make_incident(title="Original", status="draft")
        client = Client()
        client.force_login(analyst)
        for title in ["First edit", "Second edit"]:
            data = change_form_data(client.get(change_url(incident)))
            data["title"] = title
            assert client.post(change_url(incident), data).status_code == 302
        incident.refresh_from_db()
        assert incident.title == "Second edit"

    def test_a_report_edited_in_two_places_keeps_the_first_save(self, analyst, editor):
        incident = make_incident(status="draft")
        report = make_report(incident, killed=10)
        first, second = Client(), Client()
        first.force_login(analyst)
        second.force_login(editor)
        report_url = f"/admin/incidents/tollreport/{report.pk}/change/"
        first_data = change_form_data(first.get(report_url))
        second_data = change_form_data(second.get(change_url(incident)))  # the report inline
        first_data["killed"] = "12"
        assert first.post(report_url, first_data).status_code == 302
        second_data["reports-0-killed"] = "15"
        response = second.post(change_url(incident), second_data)
        assert response.status_code == 200 and "Your changes were not saved" in response.content.decode()
        report.refresh_from_db()
        assert report.killed == 12


class TestLogins:
    def test_staff_sessions_expire_after_two_idle_hours(self, client, analyst):
        response = client.post(
            "/admin/login/?next=/admin/", {"username": analyst.username, "password": "a-long-test-password"}
        )
        assert response.status_code == 302
        assert response.cookies["sessionid"]["max-age"] == 7200

    def test_repeated_failed_logins_are_locked_out_with_a_clear_message(self, client):
        user = make_user("target", group="Editor")
        for _ in range(5):
            client.post("/admin/login/", {"username": user.username, "password": "wrong"})
        response = client.post(
            "/admin/login/", {"username": user.username, "password": "a-long-test-password"}
        )
        assert "Too many failed logins" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_a_different_user_is_not_locked_out_by_someone_elses_failures(self, client):
        make_user("target")
        other = make_user("other")
        for _ in range(5):
            client.post("/admin/login/", {"username": "target", "password": "wrong"})
        response = client.post(
            "/admin/login/", {"username": other.username, "password": "a-long-test-password"}
        )
        assert response.status_code == 302
        assert get_user_model().objects.get(pk=client.session["_auth_user_id"]) == other
