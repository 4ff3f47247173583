"""The analysts' and editors' workspace.

Status changes go through ``incidents.workflow`` (actions and the Publish / Unpublish buttons);
no form writes the status. Every change form refuses to overwrite a newer save (``VersionedForm``).
"""

import re

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from incidents import workflow
from incidents.admin_forms import InlineVersionedForm, VersionedForm
from incidents.exports.cells import csv_lines_response, csv_response
from incidents.exports.incidents import INCIDENT_COLUMNS, incident_rows
from incidents.exports.reports import REPORT_COLUMNS, report_lines
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport
from incidents.roles import can_export, can_publish

# Lazy: the admin speaks the analyst's language (casualty_tracker.i18n).
admin.site.site_header = gettext_lazy("Casualty Tracker")
admin.site.site_title = gettext_lazy("Casualty Tracker admin")
admin.site.index_title = gettext_lazy("Record incidents and every source's figures")


# Links typed without a scheme ("www.syriahr.com/…") are taken as https.
HTTPS_LINKS = {models.URLField: {"assume_scheme": "https"}}


# A record's id as a checkbox sends it: anything else (empty, forged, too big for the database)
# must not reach a query.
RECORD_ID = re.compile(r"[0-9]{1,18}")


class CheckedChangeList(ChangeList):
    """Django's changelist, with two more kinds of bad filter value ignored like any bad lookup.

    As IncorrectLookupParameters, the admin redirects to the unfiltered list with ``?e=1`` (see
    ``RecordAdmin.changelist_view``) instead of answering 500: a NUL character, which PostgreSQL
    refuses in a query, and a date hierarchy year past 9999
    (``start_date__year=9999&start_date__month=12``), whose date range Django computes itself.
    """

    def get_filters(self, request):
        values = [value for values in self.get_filters_params().values() for value in values]
        if any("\x00" in value for value in values):
            raise IncorrectLookupParameters("A filter value holds a NUL character.")
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class RecordAdmin(SimpleHistoryAdmin):
    """History for every record, and a revert that obeys the same rules as an edit.

    A revert saves through the same versioned form as an edit (so it can lose nobody's newer
    save) and never changes the status (the model keeps the stored one). A deleted record is
    never brought back by a revert: editors restore it from "Deleted records".
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._saved_or_undone(request, super().changeform_view, object_id, form_url, extra_context)

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        # Django answers a filter value it cannot use by redirecting to the unfiltered list.
        if isinstance(response, HttpResponseRedirect) and response.url.endswith(f"?{ERROR_FLAG}=1"):
            self.message_user(
                request,
                "A filter in the address could not be read, so the list is unfiltered.",
                messages.WARNING,
            )
        return response

    def response_action(self, request, queryset):
        """Run an action only on record ids: an empty or forged ``_selected_action`` is refused."""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(RECORD_ID.fullmatch(value) for value in selected):
            self.message_user(
                request, "The selected items could not be read, so nothing was changed. Select them again.",
                messages.WARNING,
            )  # fmt: skip
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        live = self.model._default_manager.filter(pk=object_id).first()
        if live is None:
            self.message_user(
                request,
                f"This {self.model._meta.verbose_name} was deleted, so it cannot be reverted. "
                + (
                    "Restore it from “Deleted records” on the incidents page."
                    if can_publish(request.user)
                    else "Only an editor can restore it."
                ),
                messages.ERROR,
            )
            return redirect(f"admin:incidents_{self.model._meta.model_name}_changelist")
        request._live_version = live.version
        return self._saved_or_undone(request, super().history_form_view, object_id, version_id, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        live_version = getattr(request, "_live_version", None)
        if obj is not None and live_version is not None:
            # A historical version carries no version number: the revert starts from the live one.
            obj.version = live_version
        return form

    def _saved_or_undone(self, request, view, *args):
        """Run an admin form view in one transaction, undone unless it saved (a redirect).

        The form claims its version while it is validated; a page that comes back with errors
        must not keep that claim, or the user's corrected resubmission would conflict with itself.
        """
        with transaction.atomic():
            response = view(request, *args)
            if request.method == "POST" and not isinstance(response, HttpResponseRedirect):
                transaction.set_rollback(True)
        return response


@admin.register(Location)
class LocationAdmin(RecordAdmin):
    list_display = ["name", "kind", "chain", "pcode"]
    list_filter = ["kind"]
    search_fields = ["name", "name_ar", "pcode", "chain"]
    autocomplete_fields = ["parent"]
    fields = ["name", "name_ar", "kind", "parent", "pcode", ("latitude", "longitude"), "slug"]


@admin.register(Actor)
class ActorAdmin(RecordAdmin):
    list_display = ["name", "name_ar", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "name_ar"]

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Deleting an actor would change what readers were told about a published incident.
        used = Actor.objects.filter(pk__in=[actor.pk for actor in objs]).used_by_published_incidents()
        protected = [
            *protected,
            *(
                format_html("Published incident: {}", incident.title)
                for incident in used.order_by("title")[:50]
            ),
        ]
        return deleted, model_count, perms_needed, protected


@admin.register(Source)
class SourceAdmin(RecordAdmin):
    formfield_overrides = HTTPS_LINKS
    list_display = ["name", "short_name", "name_ar", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "name_ar"]


class TollReportInline(admin.TabularInline):
    model = TollReport
    form = InlineVersionedForm
    extra = 0
    # One row per source: keep the text boxes small so that a row fits a laptop screen.
    formfield_overrides = {
        **HTTPS_LINKS,
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 24})},
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput(attrs={"size": 18})},
    }
    autocomplete_fields = ["source"]
    fields = [
        "version",
        "source",
        "published_on",
        "published_time",
        "killed_qualifier",
        "killed",
        "killed_upper",
        "killed_counts",
        "injured_qualifier",
        "injured",
        "injured_upper",
        "civilians",
        "children",
        "women",
        "url",
        "archive_url",
        "quote",
        "quote_language",
        "quote_translation",
        "translation_is_machine",
        "note",
    ]


class AttributionInline(admin.TabularInline):
    """Who each source says did it, beside the reports: one compact row per source and actor."""

    model = Attribution
    form = InlineVersionedForm
    extra = 0
    autocomplete_fields = ["source", "actor"]
    fields = [
        "version",
        "source",
        "stance",
        "actor",
        "published_on",
        "report",
        "quote",
        "quote_language",
        "quote_translation",
        "translation_is_machine",
    ]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this incident's reports can back an attribution.
        if db_field.name == "report":
            incident_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = TollReport.objects.filter(incident_id=incident_id).select_related("source")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class Admin1Filter(admin.SimpleListFilter):
    title = "governorate"
    parameter_name = "admin1"

    def lookups(self, request, model_admin):
        return [
            (str(pk), chain)
            for pk, chain in Location.objects.filter(kind=Location.Kind.ADMIN1).values_list("pk", "chain")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        # Only a governorate of the menu filters; anything else (a typo, a forged address) is ignored.
        if value not in dict(self.lookup_choices):
            messages.warning(request, "There is no such governorate, so the list is not filtered by one.")
            return queryset
        return queryset.filter(location__admin1_id=value)


@admin.register(Incident)
class IncidentAdmin(RecordAdmin):
    form = VersionedForm
    change_list_template = "admin/incidents/incident/change_list.html"
    change_form_template = "admin/incidents/incident/change_form.html"
    object_history_template = "admin/incidents/incident/object_history.html"
    list_display = ["title", "start_date", "kind", "location", "killed_range", "source_count", "status"]
    list_filter = ["status", "kind", Admin1Filter, "start_date", "is_disputed", "is_contradictory", "dataset"]
    list_select_related = ["location"]
    search_fields = [
        "title",
        "title_ar",
        "place",
        "location__name",
        "location__chain",
        "reports__source__name",
        "reports__source__short_name",
    ]
    date_hierarchy = "start_date"
    autocomplete_fields = ["location", "related", "part_of"]
    inlines = [TollReportInline, AttributionInline]
    actions = ["publish_selected", "unpublish_selected", "export_incidents_csv", "export_reports_csv"]
    readonly_fields = [
        "status",
        "alleged_perpetrators",
        "claims",
        "possible_duplicates",
        "publication",
        "dataset",
        "dataset_event_id",
    ]
    fieldsets = [
        (None, {"fields": ["version", "title", "slug", "kind", "status", "summary"]}),
        ("In Arabic", {"fields": ["title_ar", "summary_ar"]}),
        ("When", {"fields": [("start_date", "end_date"), "date_precision"]}),
        ("Where", {"fields": ["location", "place", "location_precision"]}),
        (
            "Who (from the attributions below)",
            {"fields": ["alleged_perpetrators", "claims"]},
        ),
        (
            "Context",
            {
                "fields": [
                    "part_of",
                    "related",
                    "possible_duplicates",
                    "publication",
                    ("dataset", "dataset_event_id"),
                ]
            },
        ),
    ]

    @admin.display(description="Killed (range)", ordering="killed_highest")
    def killed_range(self, incident):
        return incident.toll.short()

    @admin.display(description="Alleged perpetrators")
    def alleged_perpetrators(self, incident):
        names = [actor.name for actor in incident.perpetrators.all()] if incident.pk else []
        disputed = " (disputed: sources differ)" if incident.pk and incident.attribution_disputed else ""
        return ", ".join(names) + disputed if names else "No source alleges anyone yet."

    @admin.display(description="Claimed by")
    def claims(self, incident):
        names = [actor.name for actor in incident.claimed_by.all()] if incident.pk else []
        return ", ".join(names) or "No one has claimed it."

    @admin.display(description="Possible duplicates")
    def possible_duplicates(self, incident):
        if not incident.pk:
            return "Checked when you save."
        return self._duplicate_links(incident) or "None found."

    @admin.display(description="Published")
    def publication(self, incident):
        if not incident.published_at:
            return "Not yet."
        if incident.published_by:
            who = f"by {incident.published_by}"
        else:  # a command: its history row says which
            reason = (
                incident.history.filter(history_change_reason__startswith="Published by")
                .values_list("history_change_reason", flat=True)
                .first()
            )
            who = f"({reason.lower()})" if reason else "by a command"
        return f"{incident.published_at:%d %B %Y, %H:%M} {who}"

    def _duplicate_links(self, incident):
        duplicates = incident.likely_duplicates()[:10]
        return format_html_join(
            ", ",
            '<a href="{}">{} ({}, {})</a>',
            (
                (reverse("admin:incidents_incident_change", args=[d.pk]), d.title, d.start_date, d.location)
                for d in duplicates
            ),
        )

    def has_publish_permission(self, request):
        return can_publish(request.user)

    @admin.action(description="Publish selected incidents", permissions=["publish"])
    def publish_selected(self, request, queryset):
        published = workflow.publish_incidents(incidents=queryset, user=request.user)
        self.message_user(request, f"Published {published} incident(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected incidents (back to draft)", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        unpublished = workflow.unpublish_incidents(incidents=queryset, user=request.user)
        self.message_user(request, f"Unpublished {unpublished} incident(s).", messages.SUCCESS)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_publish"] = can_publish(request.user)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_add(self, request, obj, post_url_continue=None):
        return self._publish_if_asked(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._publish_if_asked(request, obj) or super().response_change(request, obj)

    def _publish_if_asked(self, request, obj):
        """The "Save and publish" / "Save and unpublish" buttons: the form is saved, then the
        workflow changes the status (an analyst's forged button undoes the whole save)."""
        for button, change_status, done in (
            ("_publish", workflow.publish_incident, "published"),
            ("_unpublish", workflow.unpublish_incident, "back to draft"),
        ):
            if button in request.POST:
                if not can_publish(request.user):
                    raise PermissionDenied
                if change_status(incident=obj, user=request.user):
                    self.message_user(request, f"“{obj}” is {done}.", messages.SUCCESS)
                return redirect("admin:incidents_incident_change", obj.pk)
        return None

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not can_publish(request.user) and any(incident.is_published for incident in objs):
            perms_needed = {*perms_needed, "published incident (only editors may delete one)"}
        return deleted, model_count, perms_needed, protected

    def get_urls(self):
        return [
            path("deleted/", self.admin_site.admin_view(self.deleted_view), name="incidents_deleted"),
            path(
                "deleted/restore/<str:kind>/<int:history_id>/",
                self.admin_site.admin_view(require_POST(self.restore_view)),
                name="incidents_restore",
            ),
            *super().get_urls(),
        ]

    def deleted_view(self, request):
        """Deleted incidents and reports, for an editor to restore."""
        if not can_publish(request.user):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Deleted incidents and reports",
            "opts": self.model._meta,
            "incidents": workflow.deleted_incidents(),
            "reports": workflow.deleted_reports(),
        }
        return TemplateResponse(request, "admin/incidents/deleted.html", context)

    def restore_view(self, request, kind, history_id):
        if not can_publish(request.user):
            raise PermissionDenied
        if kind == "incident":
            deletion = get_object_or_404(Incident.history.model, history_id=history_id, history_type="-")
            incident = workflow.restore_incident(deletion=deletion, user=request.user)
        elif kind == "report":
            deletion = get_object_or_404(TollReport.history.model, history_id=history_id, history_type="-")
            try:
                report = workflow.restore_report(deletion=deletion, user=request.user)
            except ValueError as problem:
                self.message_user(request, str(problem), messages.ERROR)
                return redirect("admin:incidents_deleted")
            incident = report.incident if report else None
        else:
            raise Http404
        if incident is None:
            self.message_user(request, "That record had already been restored.", messages.WARNING)
            return redirect("admin:incidents_deleted")
        self.message_user(
            request,
            f"Restored. “{incident}” is a draft until an editor publishes it again."
            if kind == "incident"
            else f"Restored the report on “{incident}”.",
            messages.SUCCESS,
        )
        return redirect("admin:incidents_incident_change", incident.pk)

    def history_view(self, request, object_id, extra_context=None):
        """The incident's own history, then every change to its reports (also moves in and out)."""
        extra_context = {**(extra_context or {}), "report_changes": workflow.report_changes(object_id)}
        return super().history_view(request, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_restore": can_publish(request.user)}
        return super().changelist_view(request, extra_context)

    def has_export_permission(self, request):
        return can_export(request.user)

    @admin.action(description="Export selected incidents as CSV", permissions=["export"])
    def export_incidents_csv(self, request, queryset):
        rows = incident_rows(queryset, request.build_absolute_uri)
        return csv_response("incidents", INCIDENT_COLUMNS, rows)

    @admin.action(description="Export the reports of selected incidents as CSV", permissions=["export"])
    def export_reports_csv(self, request, queryset):
        return csv_lines_response("reports", REPORT_COLUMNS, report_lines(queryset))

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published and not can_publish(request.user):
            return False
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        links = None if change else self._duplicate_links(form.instance)
        if links:
            messages.warning(
                request,
                format_html(
                    "This may duplicate an incident already recorded within two days nearby: {}. "
                    "Check them; if it is the same event, merge the reports into one incident.",
                    links,
                ),
            )


@admin.register(Attribution)
class AttributionAdmin(RecordAdmin):
    form = VersionedForm
    list_display = ["incident", "source", "stance", "actor", "published_on"]
    list_filter = ["stance", "source__kind"]
    list_select_related = ["incident", "source", "actor"]
    search_fields = ["incident__title", "source__name", "actor__name", "quote"]
    autocomplete_fields = ["incident", "source", "actor", "report"]
    date_hierarchy = "published_on"


@admin.register(TollReport)
class TollReportAdmin(RecordAdmin):
    form = VersionedForm
    formfield_overrides = HTTPS_LINKS
    list_display = ["incident", "source", "published_on", "killed_as_stated", "is_current"]
    list_filter = ["is_current", "killed_qualifier", "killed_counts", "source__kind", "source"]
    list_select_related = ["incident", "source"]
    search_fields = ["incident__title", "source__name", "source__short_name", "quote", "note"]
    autocomplete_fields = ["incident", "source"]
    date_hierarchy = "published_on"

    @admin.display(description="Killed, as stated")
    def killed_as_stated(self, report):
        return report.killed_figure.as_stated()
