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
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from incidents import figures, maps, merging, victim_lists, workflow
from incidents.admin_forms import InlineVersionedForm, PastedVictimsForm, VersionedForm
from incidents.exports.cells import csv_lines_response, csv_response
from incidents.exports.incidents import INCIDENT_COLUMNS, incident_rows
from incidents.exports.reports import REPORT_COLUMNS, report_lines
from incidents.models import (
    Actor,
    ActorName,
    Attribution,
    Incident,
    Location,
    PlaceName,
    PossibleMatch,
    Source,
    TollReport,
    Victim,
)
from incidents.roles import can_export, can_publish, can_release_names

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


class PlaceNameInline(admin.TabularInline):
    """Other spellings ("Hims", "Idleb"): imports find the place by them instead of creating another."""

    model = PlaceName
    extra = 1
    fields = ["name"]


@admin.register(Location)
class LocationAdmin(RecordAdmin):
    list_display = ["name", "kind", "chain", "pcode"]
    list_filter = ["kind"]
    search_fields = ["name", "name_ar", "pcode", "chain", "names__name"]
    autocomplete_fields = ["parent"]
    fields = [
        "name",
        "name_ar",
        "kind",
        "parent",
        "pcode",
        ("latitude", "longitude"),
        "slug",
        ("admin1_name", "admin2_name", "admin3_name"),
    ]
    inlines = [PlaceNameInline]

    def get_queryset(self, request):
        # A place is named with its country's word for its level: "Homs, Syria (governorate)".
        return super().get_queryset(request).select_related("country")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset, True  # searching other names joins them


class ActorNameInline(admin.TabularInline):
    """The datasets' names for this actor ("Government of Syria", "Military Forces of Syria (2000-)")."""

    model = ActorName
    extra = 1
    fields = ["name"]


@admin.register(Actor)
class ActorAdmin(RecordAdmin):
    list_display = ["name", "name_ar", "kind"]
    list_filter = ["kind"]
    search_fields = ["name", "name_ar", "names__name"]
    inlines = [ActorNameInline]

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


class FigureReadingMixin:
    """Beside each figure, how it is read ("reads as 121 or more"), kept up to date while the
    analyst types by static/js/figure-reading.js from the rules of ``incidents.figures``."""

    class Media:
        js = ["js/figure-reading.js"]
        css = {"all": ["css/admin-forms.css"]}

    @staticmethod
    def reading_output(figure, prefix):
        return format_html(
            '<output class="figure-reading" data-figure="{}" aria-live="polite">{}</output>',
            prefix,
            "" if figure is None else f"reads as {figure.reading()}" if figure.is_known else figure.reading(),
        )

    @admin.display(description="Killed: reading")
    def killed_reading(self, report):
        return self.reading_output(report.killed_figure if report.pk else None, "killed")

    @admin.display(description="Injured: reading")
    def injured_reading(self, report):
        return self.reading_output(report.injured_figure if report.pk else None, "injured")


class TollReportInline(FigureReadingMixin, admin.StackedInline):
    """One block per report, a few short fields to a line and the long texts below them, so that
    an incident with many sources fits a 1,280 px screen without scrolling sideways."""

    model = TollReport
    form = InlineVersionedForm
    extra = 0
    classes = ["compact-inline"]
    formfield_overrides = {
        **HTTPS_LINKS,
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 3, "cols": 60})},
        models.URLField: {"assume_scheme": "https", "widget": forms.URLInput(attrs={"size": 30})},
    }
    autocomplete_fields = ["source"]
    readonly_fields = ["killed_reading", "injured_reading"]
    fields = [
        "version",
        ("source", "published_on", "published_time"),
        ("killed_qualifier", "killed", "killed_upper", "killed_reading"),
        ("killed_best", "killed_counts"),
        ("injured_qualifier", "injured", "injured_upper", "injured_reading"),
        ("civilians", "children", "women"),
        ("url", "archive_url"),
        "quote",
        "quote_language",
        "quote_translation",
        "translation_is_machine",
        "note",
    ]


class AttributionInline(admin.StackedInline):
    """Who each source says did it, beside the reports: a short line per source and actor, the
    quote below it."""

    model = Attribution
    form = InlineVersionedForm
    extra = 0
    classes = ["compact-inline"]
    autocomplete_fields = ["source", "actor"]
    fields = [
        "version",
        ("source", "stance", "actor"),
        ("published_on", "report"),
        "quote",
        ("quote_language", "translation_is_machine"),
        "quote_translation",
    ]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this incident's reports can back an attribution.
        if db_field.name == "report":
            incident_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = TollReport.objects.filter(incident_id=incident_id).select_related("source")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReleasesNamesMixin:
    """``is_public`` is the editors' to change; for everyone else it is shown, never a field.

    The model never saves it: the admin hands the editor's choice to the workflow
    (``release_names_as_chosen``), which checks the permission again.
    """

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_release_names(request.user):
            fields.append("is_public")
        return fields


def release_names_as_chosen(request, forms_):
    """After the forms saved: release or hide the names whose "name is public" box an editor
    changed (the model's save left them as they were)."""
    for public in (True, False):
        chosen = [
            form.instance.pk
            for form in forms_
            if "is_public" in form.changed_data
            and form.cleaned_data.get("is_public") is public
            and not form.cleaned_data.get("DELETE")
            and form.instance.pk
        ]
        if chosen:
            workflow.set_victims_public(
                victims=Victim.objects.filter(pk__in=chosen), user=request.user, public=public
            )


class VictimInline(ReleasesNamesMixin, admin.TabularInline):
    """The people killed, one compact row each; a long list is pasted (see "Paste a list").

    Eight short columns, so that the rows fit a 1,280 px screen beside the admin's menu; the
    reports that name a person and the note are on the person's own page (the row's link).
    """

    model = Victim
    form = InlineVersionedForm
    extra = 0
    show_change_link = True
    fields = ["version", "name", "name_ar", "sex", "age", "age_group", "status", "date_of_death", "is_public"]
    formfield_overrides = {
        models.CharField: {"widget": forms.TextInput(attrs={"size": 10})},
        models.IntegerField: {
            "widget": forms.NumberInput(attrs={"style": "width: 3em", "min": 0, "max": 120})
        },
        models.DateField: {"widget": forms.DateInput(attrs={"type": "date"})},
    }

    class Media:
        css = {"all": ["css/admin-victims.css"]}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None:
            field.help_text = ""  # said on the person's own page; here it would widen the header
        if db_field.name == "name_ar":
            field.widget.attrs.update({"size": 8, "dir": "rtl", "lang": "ar"})
        return field


class Admin1Filter(admin.SimpleListFilter):
    title = "admin 1 area (governorate, province, state…)"
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
            messages.warning(request, "There is no such admin 1 area, so the list is not filtered by one.")
            return queryset
        return queryset.filter(location__admin1_id=value)


# What "Deleted records" can restore: the model whose history holds the deletion, the workflow
# function that restores it (None when it was restored already), and the incident to show after.
RESTORERS = {
    "incident": (Incident, workflow.restore_incident, lambda incident: incident),
    "report": (TollReport, workflow.restore_report, lambda report: report.incident),
    "victim": (Victim, workflow.restore_victim, lambda victim: victim.incident),
}


@admin.register(Incident)
class IncidentAdmin(RecordAdmin):
    form = VersionedForm
    change_list_template = "admin/incidents/incident/change_list.html"
    change_form_template = "admin/incidents/incident/change_form.html"
    object_history_template = "admin/incidents/incident/object_history.html"
    list_display = ["title", "start_date", "kind", "location", "killed_range", "source_count", "status"]
    list_filter = [
        "status",
        "kind",
        Admin1Filter,
        "start_date",
        "is_disputed",
        "is_contradictory",
        "reports__dataset",
    ]
    list_select_related = ["location__country"]  # a place is named in its country's words
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
    inlines = [TollReportInline, AttributionInline, VictimInline]
    actions = [
        "publish_selected",
        "unpublish_selected",
        "merge_selected",
        "export_incidents_csv",
        "export_reports_csv",
    ]
    readonly_fields = [
        "status",
        "alleged_perpetrators",
        "claims",
        "possible_duplicates",
        "publication",
        "dataset_events",
        "coordinates_map",
    ]
    fieldsets = [
        (None, {"fields": ["version", "title", "slug", "kind", "status", "summary"]}),
        ("In Arabic", {"fields": ["title_ar", "summary_ar"]}),
        ("When", {"fields": [("start_date", "end_date"), "date_precision"]}),
        (
            "Where",
            {
                "fields": [
                    "location",
                    "place",
                    "location_precision",
                    ("latitude", "longitude"),
                    "coordinates_map",
                ]
            },
        ),
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
                    "dataset_events",
                ]
            },
        ),
    ]

    @property
    def media(self):
        # Leaflet and static/js/map.js, for the map that sets the coordinates.
        return super().media + maps.MEDIA

    @admin.display(description="Killed (range)", ordering="killed_highest")
    def killed_range(self, incident):
        return incident.toll.short()

    @admin.display(description="On the map")
    def coordinates_map(self, incident):
        """A map under the latitude and longitude boxes: a click or a dragged marker fills them,
        typing in them moves the marker (static/js/map.js). The boxes alone work without it. It
        starts at the incident's coordinates, else its place's (reads the place, already loaded
        by the form's choice of it)."""
        place = incident.location if incident.location_id else None
        place_point = maps.place_point(place) if place else None
        return format_html(
            '<div class="map admin-point-map" data-map="picker" data-latitude-input="id_latitude" '
            'data-longitude-input="id_longitude" data-place-latitude="{}" data-place-longitude="{}" '
            'role="region" aria-label="Map: set the incident\'s own coordinates"></div>'
            '<div class="help">Click the map or drag its marker to fill Latitude and Longitude; typing '
            "in them moves the marker. Leave both empty to place the incident at its place's point.</div>",
            place_point.latitude if place_point else "",
            place_point.longitude if place_point else "",
        )

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

    @admin.display(description="Dataset events")
    def dataset_events(self, incident):
        """Each dataset's event on this incident (its report carries the event id)."""
        if not incident.pk:
            return "None."
        events = incident.reports.exclude(dataset="").order_by("dataset", "dataset_event_id")
        return ", ".join(f"{r.get_dataset_display()} {r.dataset_event_id}" for r in events) or "None."

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
        words = ngettext("Published %(count)d incident.", "Published %(count)d incidents.", published)
        self.message_user(request, words % {"count": published}, messages.SUCCESS)

    @admin.action(description="Unpublish selected incidents (back to draft)", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        unpublished = workflow.unpublish_incidents(incidents=queryset, user=request.user)
        words = ngettext("Unpublished %(count)d incident.", "Unpublished %(count)d incidents.", unpublished)
        self.message_user(request, words % {"count": unpublished}, messages.SUCCESS)

    @admin.action(description="Merge the two selected incidents (the same event)")
    def merge_selected(self, request, queryset):
        """Asks which of the two to keep, then merges the other into it (``incidents.merging``)."""
        incidents = list(queryset.select_related("location").order_by("pk")[:3])
        if len(incidents) != 2:
            self.message_user(request, "Select exactly two incidents to merge.", messages.WARNING)
            return None
        keep_id = request.POST.get("keep")
        if "confirm" in request.POST and keep_id in {str(i.pk) for i in incidents}:
            keep = next(i for i in incidents if str(i.pk) == keep_id)
            remove = next(i for i in incidents if i.pk != keep.pk)
            try:
                kept = merging.merge_incidents(keep=keep, remove=remove, user=request.user)
            except PermissionDenied as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
                return None
            self.message_user(
                request,
                f"Merged “{remove}” into “{kept}”: its reports, attributions and parts are here now, "
                f"and its old address leads here.",
                messages.SUCCESS,
            )
            return redirect("admin:incidents_incident_change", kept.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge two incidents",
            "opts": self.model._meta,
            "incidents": incidents,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/incidents/merge.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_publish"] = can_publish(request.user)
        context["figure_reading_rules"] = figures.reading_rules()
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
                "<int:incident_id>/victims/paste/",
                self.admin_site.admin_view(self.paste_victims_view),
                name="incidents_paste_victims",
            ),
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
            "victims": workflow.deleted_victims(),
        }
        return TemplateResponse(request, "admin/incidents/deleted.html", context)

    def restore_view(self, request, kind, history_id):
        if not can_publish(request.user):
            raise PermissionDenied
        if kind not in RESTORERS:
            raise Http404
        model, restore, incident_of = RESTORERS[kind]
        deletion = get_object_or_404(model.history.model, history_id=history_id, history_type="-")
        try:
            restored = restore(deletion=deletion, user=request.user)
        except ValueError as problem:  # e.g. a report whose incident is gone: restore that first
            self.message_user(request, str(problem), messages.ERROR)
            return redirect("admin:incidents_deleted")
        incident = incident_of(restored) if restored else None
        if incident is None:
            self.message_user(request, "That record had already been restored.", messages.WARNING)
            return redirect("admin:incidents_deleted")
        self.message_user(
            request,
            f"Restored. “{incident}” is a draft until an editor publishes it again."
            if kind == "incident"
            else f"Restored the {'report' if kind == 'report' else 'person'} on “{incident}”."
            + (" Their name is hidden until an editor releases it again." if kind == "victim" else ""),
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

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Victim:
            release_names_as_chosen(request, formset.forms)
            for warning in duplicate_warnings(
                form.instance, [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]
            ):
                messages.warning(request, warning)

    def paste_victims_view(self, request, incident_id):
        """A list of people pasted one a line ("name, age, sex"), previewed and checked line by
        line, saved only when every line reads and only when asked after the preview."""
        incident = get_object_or_404(Incident, pk=incident_id)
        if not (
            self.has_change_permission(request, incident) and request.user.has_perm("incidents.add_victim")
        ):
            raise PermissionDenied
        form = PastedVictimsForm(request.POST or None, incident=incident)
        people = None
        if request.method == "POST" and form.is_valid():
            people = victim_lists.read_list(
                form.cleaned_data["lines"],
                incident=incident,
                status=form.cleaned_data["status"],
                date_of_death=form.cleaned_data["date_of_death"],
            )
            readable = people and not any(person.errors for person in people)
            if "_save" in request.POST and readable:
                saved = self._save_pasted(request, incident, people, form.cleaned_data["reports"])
                self.message_user(
                    request,
                    f"Recorded {saved} {'person' if saved == 1 else 'people'} on “{incident}”. "
                    "Their names stay hidden from readers until an editor releases them.",
                    messages.SUCCESS,
                )
                for warning in {w for person in people for w in person.warnings}:
                    messages.warning(request, warning)
                return redirect("admin:incidents_incident_change", incident.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Paste a list of people killed: {incident}",
            "opts": self.model._meta,
            "original": incident,
            "form": form,
            "people": people,
            "can_save": bool(people) and not any(person.errors for person in people),
            "error_count": sum(1 for person in people or [] if person.errors),
        }
        return TemplateResponse(request, "admin/incidents/incident/paste_victims.html", context)

    @staticmethod
    def _save_pasted(request, incident, people, reports):
        with transaction.atomic():
            victims = [person.victim for person in people]
            for victim in victims:
                victim._history_user = request.user
                victim._change_reason = "Pasted from a list"
            created = Victim.objects.bulk_create(victims)
            if reports:
                Victim.reports.through.objects.bulk_create(
                    [
                        Victim.reports.through(victim_id=victim.pk, tollreport_id=report.pk)
                        for victim in created
                        for report in reports
                    ]
                )
        return len(created)

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


def duplicate_warnings(incident, victims):
    """A warning for each of ``victims`` whose name and date of death are recorded in another
    incident (one query)."""
    found = victim_lists.recorded_elsewhere(incident, victims)
    return [
        victim_lists.duplicate_warning(other)
        for victim in victims
        for other in found.get(victim_lists.same_person_key(victim, incident), [])
    ]


@admin.register(Victim)
class VictimAdmin(ReleasesNamesMixin, RecordAdmin):
    """Every person, named or hidden: analysts and editors see all (the public pages show a hidden
    person only by description)."""

    form = VersionedForm
    list_display = ["__str__", "incident", "sex", "age", "age_group", "status", "date_of_death", "is_public"]
    list_filter = ["is_public", "status", "sex", "age_group"]
    list_select_related = ["incident"]
    search_fields = ["name", "name_ar", "note", "incident__title"]
    autocomplete_fields = ["incident"]
    actions = ["release_names", "hide_names"]
    fields = [
        "version", "incident", "name", "name_ar", "sex", ("age", "age_group"), "status", "date_of_death",
        "reports", "is_public", "note",
    ]  # fmt: skip

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "reports":
            object_id = request.resolver_match.kwargs.get("object_id")
            incident_id = Victim.objects.filter(pk=object_id).values("incident_id") if object_id else []
            kwargs["queryset"] = TollReport.objects.filter(incident_id__in=incident_id).select_related(
                "source"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        release_names_as_chosen(request, [form])
        for warning in duplicate_warnings(form.instance.incident, [form.instance]):
            messages.warning(request, warning)

    def has_publish_permission(self, request):
        return can_release_names(request.user)

    @admin.action(description="Release the names of the selected people (editors)", permissions=["publish"])
    def release_names(self, request, queryset):
        released = workflow.set_victims_public(victims=queryset, user=request.user)
        self.message_user(request, f"Released {released} name(s) for publication.", messages.SUCCESS)

    @admin.action(description="Hide the names of the selected people (editors)", permissions=["publish"])
    def hide_names(self, request, queryset):
        hidden = workflow.set_victims_public(victims=queryset, user=request.user, public=False)
        self.message_user(request, f"Hid {hidden} name(s) from readers.", messages.SUCCESS)


@admin.register(Attribution)
class AttributionAdmin(RecordAdmin):
    form = VersionedForm
    list_display = ["incident", "source", "stance", "actor", "published_on"]
    list_filter = ["stance", "source__kind"]
    list_select_related = ["incident", "source", "actor"]
    search_fields = ["incident__title", "source__name", "actor__name", "quote"]
    autocomplete_fields = ["incident", "source", "actor", "report"]
    date_hierarchy = "published_on"


class DecisionFilter(admin.SimpleListFilter):
    """The queue opens on what is left to review; the decisions made are a click away."""

    title = "decision"
    parameter_name = "decision"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*PossibleMatch.Decision.choices, (self.ALL, "All")]

    def value(self):
        # No choice, or one that is not on the list (an edited address): the open questions.
        chosen = super().value()
        return (
            chosen if chosen in {lookup for lookup, _ in self.lookup_choices} else PossibleMatch.Decision.OPEN
        )

    def choices(self, changelist):
        # Django's own "All" (no parameter) would mean the default here: open ones.
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        return queryset if self.value() == self.ALL else queryset.filter(decision=self.value())


@admin.register(PossibleMatch)
class PossibleMatchAdmin(admin.ModelAdmin):
    """The review queue: imported events that may be incidents already recorded."""

    list_display = ["imported", "candidate_incident", "reason", "decision", "decided_by"]
    list_filter = [DecisionFilter]
    # Places are named in their country's words: the country comes with each place.
    list_select_related = ["incident__location__country", "candidate__location__country", "decided_by"]
    search_fields = ["incident__title", "candidate__title", "merged_incident"]
    actions = ["attach_selected", "keep_separate_selected"]
    readonly_fields = [
        "incident", "merged_incident", "candidate", "reason", "decision", "decided_by", "decided_at"
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # A question's page only shows it (no Save button); it is answered by the list's actions.
        return obj is None and super().has_change_permission(request)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description="Imported incident", ordering="incident__start_date")
    def imported(self, match):
        if match.incident is None:
            return match.merged_incident
        return self._link(match.incident)

    @admin.display(description="May be the same as")
    def candidate_incident(self, match):
        return self._link(match.candidate)

    def _link(self, incident):
        return format_html(
            '<a href="{}">{}</a> ({}, {}, {})',
            reverse("admin:incidents_incident_change", args=[incident.pk]),
            incident.title,
            incident.start_date,
            incident.location,
            incident.toll.short() or "no figure",
        )

    @admin.action(description="Attach: the same event (its report goes on the incident already recorded)")
    def attach_selected(self, request, queryset):
        attached = 0
        for match in queryset.open().select_related("incident", "candidate"):
            if match.incident_id is None or not Incident.objects.filter(pk=match.incident_id).exists():
                continue  # attached to another candidate a moment ago
            try:
                merging.attach(match=match, user=request.user)
            except PermissionDenied as refusal:
                self.message_user(request, f"{match}: {refusal}", messages.ERROR)
                continue
            attached += 1
        self.message_user(request, f"Attached {attached} imported event(s).", messages.SUCCESS)

    @admin.action(description="Keep separate: a different event")
    def keep_separate_selected(self, request, queryset):
        matches = list(queryset.open())
        for match in matches:
            merging.keep_separate(match=match, user=request.user)
        # An event kept apart from every candidate is an incident of its own: if the import left
        # it a draft (it always does while a question is open), it waits to be published.
        to_publish = (
            Incident.objects.filter(pk__in=[match.incident_id for match in matches])
            .exclude(status=Incident.Status.PUBLISHED)
            .exclude(possible_matches__decision=PossibleMatch.Decision.OPEN)
            .count()
        )
        note = {
            0: "",
            1: " 1 imported event is now apart from all its candidates and still a draft: "
            "publish it from the incidents list.",
        }.get(
            to_publish,
            f" {to_publish} imported events are now apart from all their candidates and still drafts: "
            "publish them from the incidents list.",
        )
        self.message_user(
            request, f"Answered {len(matches)} question(s): a different event.{note}", messages.SUCCESS
        )


@admin.register(TollReport)
class TollReportAdmin(RecordAdmin):
    form = VersionedForm
    formfield_overrides = HTTPS_LINKS
    readonly_fields = ["dataset", "dataset_event_id"]
    list_display = ["incident", "source", "published_on", "killed_as_stated", "is_current"]
    list_filter = ["is_current", "killed_qualifier", "killed_counts", "source__kind", "source"]
    list_select_related = ["incident", "source"]
    search_fields = ["incident__title", "source__name", "source__short_name", "quote", "note"]
    autocomplete_fields = ["incident", "source"]
    date_hierarchy = "published_on"

    @admin.display(description="Killed, as stated")
    def killed_as_stated(self, report):
        return report.killed_figure.as_stated()
