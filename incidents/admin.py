"""The analysts' and editors' workspace."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from incidents import exports, workflow
from incidents.admin_forms import VersionedForm
from incidents.models import Actor, Incident, Location, Source, TollReport
from incidents.workflow import can_publish

admin.site.site_header = "Casualty Tracker"
admin.site.site_title = "Casualty Tracker admin"
admin.site.index_title = "Record incidents and every source's figures"


# Links typed without a scheme ("www.syriahr.com/…") are taken as https.
HTTPS_LINKS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "chain", "pcode"]
    list_filter = ["kind"]
    search_fields = ["name", "name_ar", "pcode", "chain"]
    autocomplete_fields = ["parent"]
    fields = ["name", "name_ar", "kind", "parent", "pcode", ("latitude", "longitude"), "slug"]


@admin.register(Actor)
class ActorAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    formfield_overrides = HTTPS_LINKS
    list_display = ["name", "short_name", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name"]


class TollReportInline(admin.TabularInline):
    model = TollReport
    form = VersionedForm
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
        "killed_qualifier",
        "killed",
        "killed_upper",
        "injured_qualifier",
        "injured",
        "injured_upper",
        "civilians",
        "children",
        "women",
        "url",
        "archive_url",
        "quote",
        "note",
    ]


class Admin1Filter(admin.SimpleListFilter):
    title = "governorate"
    parameter_name = "admin1"

    def lookups(self, request, model_admin):
        return Location.objects.filter(kind=Location.Kind.ADMIN1).values_list("pk", "chain")

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(location__admin1_id=self.value())
        return queryset


@admin.register(Incident)
class IncidentAdmin(SimpleHistoryAdmin):
    form = VersionedForm
    change_list_template = "admin/incidents/incident/change_list.html"
    list_display = ["title", "start_date", "kind", "location", "killed_range", "source_count", "status"]
    list_filter = ["status", "kind", Admin1Filter, "start_date", "is_disputed", "dataset"]
    list_select_related = ["location"]
    search_fields = [
        "title",
        "place",
        "location__name",
        "location__chain",
        "reports__source__name",
        "reports__source__short_name",
    ]
    date_hierarchy = "start_date"
    autocomplete_fields = ["location", "perpetrators", "claimed_by", "related"]
    inlines = [TollReportInline]
    actions = ["publish_selected", "unpublish_selected", "export_incidents_csv", "export_reports_csv"]
    readonly_fields = ["possible_duplicates", "publication", "dataset", "dataset_event_id"]
    fieldsets = [
        (None, {"fields": ["version", "title", "slug", "kind", "status", "summary"]}),
        ("When", {"fields": [("start_date", "end_date"), "date_precision"]}),
        ("Where", {"fields": ["location", "place", "location_precision"]}),
        ("Who", {"fields": ["perpetrators", "claimed_by"]}),
        (
            "Context",
            {"fields": ["related", "possible_duplicates", "publication", ("dataset", "dataset_event_id")]},
        ),
    ]

    @admin.display(description="Killed (range)", ordering="killed_highest")
    def killed_range(self, incident):
        return incident.toll.short()

    @admin.display(description="Possible duplicates")
    def possible_duplicates(self, incident):
        if not incident.pk:
            return "Checked when you save."
        return self._duplicate_links(incident) or "None found."

    @admin.display(description="Published")
    def publication(self, incident):
        if not incident.published_at:
            return "Not yet."
        who = incident.published_by or "someone"
        return f"{incident.published_at:%d %B %Y, %H:%M} by {who}"

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
        published = sum(workflow.publish_incident(incident=i, user=request.user) for i in queryset)
        self.message_user(request, f"Published {published} incident(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected incidents (back to draft)", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        unpublished = sum(workflow.unpublish_incident(incident=i, user=request.user) for i in queryset)
        self.message_user(request, f"Unpublished {unpublished} incident(s).", messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        # Only editors see the status field (analysts get it read-only), so a change here is theirs.
        if "status" in form.changed_data and obj.is_published:
            workflow.mark_published(obj, request.user)
        super().save_model(request, obj, form, change)

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

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_restore": can_publish(request.user)}
        return super().changelist_view(request, extra_context)

    def has_export_permission(self, request):
        return request.user.has_perm("incidents.export_data")

    @admin.action(description="Export selected incidents as CSV", permissions=["export"])
    def export_incidents_csv(self, request, queryset):
        rows = exports.incident_rows(queryset, request.build_absolute_uri)
        return exports.csv_response("incidents", exports.INCIDENT_COLUMNS, rows)

    @admin.action(description="Export the reports of selected incidents as CSV", permissions=["export"])
    def export_reports_csv(self, request, queryset):
        return exports.csv_lines_response("reports", exports.REPORT_COLUMNS, exports.report_lines(queryset))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user):
            readonly.append("status")
        return readonly

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


@admin.register(TollReport)
class TollReportAdmin(SimpleHistoryAdmin):
    form = VersionedForm
    formfield_overrides = HTTPS_LINKS
    list_display = ["incident", "source", "published_on", "killed_as_stated", "is_current"]
    list_filter = ["is_current", "killed_qualifier", "source__kind", "source"]
    list_select_related = ["incident", "source"]
    search_fields = ["incident__title", "source__name", "source__short_name", "quote", "note"]
    autocomplete_fields = ["incident", "source"]
    date_hierarchy = "published_on"

    @admin.display(description="Killed, as stated")
    def killed_as_stated(self, report):
        return report.killed_figure.as_stated()

    def delete_queryset(self, request, queryset):
        # A bulk delete skips TollReport.delete(): refresh the incidents' figures here.
        with transaction.atomic():
            incident_ids = set(queryset.values_list("incident_id", flat=True))
            super().delete_queryset(request, queryset)
            for incident in Incident.objects.filter(pk__in=incident_ids):
                incident.refresh_figures()
