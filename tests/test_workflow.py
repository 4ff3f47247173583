"""Editorial workflow, history and restore, no lost edits, and logins."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError
from django.test import Client

from incidents.models import Actor, Incident, TollReport
from incidents.workflow import publish_incident, unpublish_incident
from tests.admin_helpers import change_form_data
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_report,
    make_source,
    make_user,
)

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
        make_attribution(homs, make_actor("Unidentified drone operators"))
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


def history_url(record):
    model = record.instance._meta.model_name
    return f"/admin/incidents/{model}/{record.id}/history/{record.history_id}/"


def revert(client, record):
    """Open the admin's "Revert" page of a history row and submit it as shown."""
    page = client.get(history_url(record))
    assert page.status_code == 200
    return client.post(history_url(record), change_form_data(page))


class TestRevertObeysTheWorkflow:
    @pytest.mark.parametrize("who", ["analyst", "editor"])
    def test_reverting_to_a_version_from_when_it_was_published_does_not_republish(self, clients, editor, who):
        incident = make_incident(title="First title", status="draft")
        publish_incident(incident=incident, user=editor)
        published_version = incident.history.get(history_change_reason="Published")
        unpublish_incident(incident=incident, user=editor)
        assert revert(clients[who], published_version).status_code == 302
        incident.refresh_from_db()
        assert incident.status == "draft" and incident.title == "First title"
        assert clients["anonymous"].get(incident.get_absolute_url()).status_code == 404
        assert incident.history.first().status == "draft"  # the history row says what is stored

    @pytest.mark.parametrize("who", ["analyst", "editor"])
    def test_reverting_to_a_draft_version_does_not_unpublish(self, clients, editor, who):
        incident = make_incident(title="Draft title", status="draft")
        draft_version = incident.history.get(history_type="+")
        publish_incident(incident=incident, user=editor)
        published_at = incident.published_at
        assert revert(clients[who], draft_version).status_code == 302
        incident.refresh_from_db()
        assert incident.is_published and incident.published_at == published_at
        assert incident.published_by == editor
        assert clients["anonymous"].get(incident.get_absolute_url()).status_code == 200

    def test_a_revert_cannot_overwrite_a_newer_save(self, clients):
        incident = make_incident(title="Old", status="draft")
        data = change_form_data(clients["analyst"].get(change_url(incident)))
        clients["analyst"].post(change_url(incident), {**data, "title": "Newer"})
        old_version = incident.history.get(history_type="+")
        page = clients["editor"].get(history_url(old_version))
        clients["analyst"].post(change_url(incident), {**data, "title": "Newest", "version": "2"})
        response = clients["editor"].post(history_url(old_version), change_form_data(page))
        assert "Your changes were not saved" in response.content.decode()
        incident.refresh_from_db()
        assert incident.title == "Newest"

    @pytest.mark.parametrize("who", ["analyst", "editor"])
    def test_reverting_a_deleted_report_does_not_restore_it_and_says_why(self, clients, who):
        homs = make_homs()
        report = homs.reports.get(source__short_name="SOHR")
        pk = report.pk
        version = report.history.first()
        report.delete()
        for method in (clients[who].get, clients[who].post):
            response = method(history_url(version), follow=True)
            assert response.status_code == 200
            assert "was deleted, so it cannot be reverted" in response.content.decode()
        assert not TollReport.objects.filter(pk=pk).exists()
        homs.refresh_from_db()
        assert homs.toll.short() == "89+"

    @pytest.mark.parametrize("who", ["analyst", "editor"])
    def test_reverting_a_deleted_incident_gives_a_clear_message_not_an_error(self, clients, who):
        incident = make_incident(status="draft")
        pk, version = incident.pk, incident.history.first()
        incident.delete()
        response = clients[who].post(history_url(version), {"title": "forged"}, follow=True)
        assert response.status_code == 200
        assert "was deleted, so it cannot be reverted" in response.content.decode()
        assert not Incident.objects.filter(pk=pk).exists()


class TestEveryVisibleChangeIsACorrection:
    @pytest.fixture
    def published(self, editor):
        incident = make_incident("Shelling", status="draft")
        sohr = make_source("Syrian Observatory for Human Rights", short_name="SOHR")
        report = make_report(incident, sohr, killed=120, qualifier="more_than")
        make_report(incident, make_source("MoH", short_name="MoH"), killed=89, qualifier="at_least")
        publish_incident(incident=incident, user=editor)
        return incident, report

    def page(self, client, incident):
        return client.get(incident.get_absolute_url()).content.decode()

    def test_a_report_moved_to_another_incident_is_a_correction_on_both(self, client, published):
        incident, report = published
        other = make_incident("Another", status="published")
        report.incident = other
        report.save()
        assert "the figure from SOHR (more than 120) was moved to another incident." in self.page(
            client, incident
        )
        assert "a figure from SOHR (more than 120) was moved here from another incident." in self.page(
            client, other
        )

    def test_a_report_moved_to_a_draft_is_a_correction_on_the_published_incident(self, client, published):
        incident, report = published
        TollReport.objects.filter(pk=report.pk).update(incident=make_incident(status="draft"))
        assert "was moved to another incident" in self.page(client, incident)

    def test_a_deleted_then_restored_figure_is_noted_both_times(self, clients, published, editor):
        incident, report = published
        pk = report.pk
        report.delete()
        deletion = TollReport.history.get(id=pk, history_type="-")
        clients["editor"].post(f"/admin/incidents/incident/deleted/restore/report/{deletion.history_id}/")
        html = self.page(clients["anonymous"], incident)
        assert "the figure from SOHR (more than 120) was removed." in html
        assert "the figure from SOHR (more than 120) was restored." in html

    def test_a_source_renamed_after_publication_is_noted(self, client, published):
        incident, report = published
        source = report.source
        source.name = "SOHR (UK)"
        source.save()
        assert "the source “Syrian Observatory for Human Rights” was renamed “SOHR (UK)”." in self.page(
            client, incident
        )

    def test_an_actor_renamed_after_publication_is_noted(self, client, published):
        incident, _ = published
        actor = make_actor("Unidentified drone operators")
        make_attribution(incident, actor)
        actor.name = "Drone operators (unidentified)"
        actor.save()
        assert "was renamed “Drone operators (unidentified)”." in self.page(client, incident)


class TestActorsOfPublishedIncidents:
    def test_an_actor_named_by_a_published_incident_cannot_be_deleted(self, clients):
        incident = make_incident("Homs strike", status="published")
        actor = make_actor("Russian forces")
        make_attribution(incident, actor)
        with pytest.raises(ProtectedError, match="Homs strike"):
            actor.delete()
        with pytest.raises(ProtectedError):
            Actor.objects.filter(pk=actor.pk).delete()
        page = clients["editor"].get(f"/admin/incidents/actor/{actor.pk}/delete/").content.decode()
        assert "Published incident: Homs strike" in page
        clients["editor"].post(f"/admin/incidents/actor/{actor.pk}/delete/", {"post": "yes"})
        clients["editor"].post(
            "/admin/incidents/actor/",
            {"action": "delete_selected", "_selected_action": [actor.pk], "post": "yes"},
        )
        assert Actor.objects.filter(pk=actor.pk).exists()
        assert list(incident.perpetrators.all()) == [actor]

    def test_an_actor_named_only_in_a_drafts_attribution_is_kept_until_that_is_removed(self, clients):
        draft = make_incident(status="draft")
        actor = make_actor("Unnamed gunmen")
        attribution = make_attribution(draft, actor)
        page = clients["analyst"].get(f"/admin/incidents/actor/{actor.pk}/delete/").content.decode()
        assert "would require deleting the following protected related objects" in page
        clients["analyst"].post(f"/admin/incidents/actor/{actor.pk}/delete/", {"post": "yes"})
        assert Actor.objects.filter(pk=actor.pk).exists()
        attribution.delete()
        clients["analyst"].post(f"/admin/incidents/actor/{actor.pk}/delete/", {"post": "yes"})
        assert not Actor.objects.filter(pk=actor.pk).exists()


def test_the_incidents_admin_history_lists_its_reports_changes_and_moves(clients):
    incident = make_homs()
    sohr = incident.reports.get(source__short_name="SOHR")
    sohr.killed = 125
    sohr.save()
    sohr.incident = make_incident()
    sohr.save()
    incident.reports.get(source__short_name="MoH").delete()
    html = clients["analyst"].get(f"/admin/incidents/incident/{incident.pk}/history/").content.decode()
    assert "Changes to its reports" in html
    assert html.count("SOHR") >= 3 and "more than 125" in html and "changed, on another incident" in html
    assert "deleted" in html and "at least 89" in html


def test_the_admin_says_which_command_published_an_incident(clients):
    incident = make_incident(status="published")  # published by the factory as a command would be
    html = clients["analyst"].get(change_url(incident)).content.decode()
    assert "(published by manage.py tests)" in html


def test_a_part_whose_whole_was_deleted_since_is_restored_on_its_own(clients):
    wave = make_incident("Wave", status="draft")
    day = make_incident("Day", status="draft", part_of=wave)
    day_pk = day.pk
    day.delete()
    wave.delete()
    deletion = Incident.history.get(id=day_pk, history_type="-")
    response = clients["editor"].post(
        f"/admin/incidents/incident/deleted/restore/incident/{deletion.history_id}/"
    )
    assert response.status_code == 302
    restored = Incident.objects.get(pk=day_pk)
    assert restored.part_of is None and restored.status == "draft"
