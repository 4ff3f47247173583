"""Rows of the public pages' tables and lists, each written once for what it shows.

The list, the map's list, the home page, a place's page and the Arabic pages list incidents in
one table (``includes/incident_table.html``); a source's page lists its figures and
attributions. A crisis day's revisions have every one of these pages rendered again after each
change, although only the revised incident's row differs: rendering the rows was most of such
a page's time. Each row is rendered by its own template from its facts alone (a named tuple of
exactly what it shows: the template is given nothing else) and kept by those facts, the
template and the page's language in each process (``ROWS_WRITTEN``): a page rendered again
renders the rows that changed and reuses the others. Kept by what it shows, a row is never out
of date: a new figure, title or place name is another key.
"""

from typing import NamedTuple

from django import template
from django.template.loader import get_template
from django.urls import get_script_prefix
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from incidents import figures, filters
from incidents.models import Incident
from incidents.remembered import Remembered
from incidents.roles import can_see_drafts

register = template.Library()

# About a kilobyte each: a few megabytes per server process at most.
ROWS_WRITTEN = Remembered(size=8192)


def written_once(template_name, rows):
    """HTML: ``template_name`` rendered for each of ``rows`` (facts), each once per language."""
    template = get_template(template_name)
    # The words and the addresses the template writes: /ar/incidents/… on an Arabic page.
    page = (template_name, get_language(), get_script_prefix())
    return mark_safe(  # noqa: S308 (rendered by the row template, escaped there)
        "".join(ROWS_WRITTEN.get((*page, row), lambda row=row: template.render({"row": row})) for row in rows)
    )


class WholeFacts(NamedTuple):
    """The published whole an incident is part of, as its row names it."""

    slug: str
    title: str
    title_ar: str


class RowFacts(NamedTuple):
    """Everything a row shows, and only that: its key among the rows written."""

    slug: str  # its address, in the page's language, is written by the row template
    start_date: object
    end_date: object
    title: str
    title_ar: str
    is_contradictory: bool
    is_disputed: bool
    part_of: WholeFacts | None
    chain: tuple  # ((name, is_english), ...) in the page's language
    place: str
    kind: str  # the stored value: the row template says it in the page's language
    # The stored range, field by field: ``TollRange``'s equality leaves out its agreement.
    killed: tuple
    source_count: int

    @property
    def kind_label(self):
        return Incident.Kind(self.kind).label

    @property
    def toll(self):
        lowest, highest, highest_open, figure_count, agreement, is_floor = self.killed
        return figures.TollRange(
            lowest=lowest,
            highest=highest,
            highest_open=highest_open,
            figure_count=figure_count,
            source_count=self.source_count,
            agreement=agreement or None,
            is_floor=is_floor,
        )


def row_facts(incident):
    """What ``incident``'s row shows (its location and whole loaded; on an Arabic page, the names
    above its place: ``views.with_places_in_page_language``)."""
    whole = incident.part_of if incident.part_of_id else None
    return RowFacts(
        slug=incident.slug,
        start_date=incident.start_date,
        end_date=incident.end_date,
        title=incident.title,
        title_ar=incident.title_ar,
        is_contradictory=incident.is_contradictory,
        is_disputed=incident.is_disputed,
        part_of=(
            WholeFacts(whole.slug, whole.title, whole.title_ar)
            if whole is not None and whole.is_published
            else None
        ),
        chain=tuple(incident.location.chain_in_page_language()),
        place=incident.place,
        kind=incident.kind,
        killed=(
            incident.killed_lowest,
            incident.killed_highest,
            incident.killed_highest_open,
            incident.figure_count,
            incident.killed_agreement,
            incident.killed_is_floor,
        ),
        source_count=incident.source_count,
    )


@register.simple_tag
def incident_rows(incidents):
    """HTML: the rows of ``incidents``, each rendered once for what it shows, in this language."""
    return written_once("includes/incident_row.html", (row_facts(incident) for incident in incidents))


# --- A source's page --------------------------------------------------------------------------


class IncidentNamed(NamedTuple):
    slug: str
    title: str
    title_ar: str


def incident_named(incident):
    return IncidentNamed(incident.slug, incident.title, incident.title_ar)


class FigureFacts(NamedTuple):
    """One of the source's figures (``incidents/source_report_row.html``)."""

    published_on: object
    incident: IncidentNamed
    chain: tuple  # the incident's place, in the page's language
    killed: object  # figures.Figure: said in the page's language by the template
    is_current: bool


@register.simple_tag
def source_report_rows(reports):
    """HTML: a source's reports (incidents and places loaded), a table row each."""
    return written_once(
        "incidents/source_report_row.html",
        (
            FigureFacts(
                report.published_on,
                incident_named(report.incident),
                tuple(report.incident.location.chain_in_page_language()),
                report.killed_figure,
                report.is_current,
            )
            for report in reports
        ),
    )


class ActorNamed(NamedTuple):
    slug: str
    name: str
    name_ar: str


class StanceFacts(NamedTuple):
    """What the source said of who did it (``incidents/source_attribution_item.html``)."""

    incident: IncidentNamed
    published_on: object
    source_label: str  # the source's name as the page says it
    actor: ActorNamed
    stance: str


@register.simple_tag
def source_attribution_items(attributions, source_label):
    """HTML: a source's attributions (incidents and actors loaded), a list item each."""
    return written_once(
        "incidents/source_attribution_item.html",
        (
            StanceFacts(
                incident_named(a.incident),
                a.published_on,
                source_label,
                ActorNamed(a.actor.slug, a.actor.name, a.actor.name_ar),
                a.stance,
            )
            for a in attributions
        ),
    )


# --- The list's and the map's filter box ------------------------------------------------------


@register.simple_tag
def filter_box(filterset, clear_url, submit, filters_set):
    """HTML: the filter box (``includes/incident_filters.html``) for the filters asked, in this
    language. It shows only the filters asked and the menus' names, so it is kept with the menus,
    under the names version (``filters.RENDERED_MENUS``): after a revision, a list or map page
    reuses it whole (its form's dozen fields took a few milliseconds to render). A box with
    errors says back what was typed: it is rendered each time."""

    def render():
        context = {
            "filterset": filterset,
            "clear_url": clear_url,
            "submit": submit,
            "filters_set": filters_set,
        }
        return get_template("includes/incident_filters.html").render(context)

    if filterset.form.errors:
        return render()
    asked = tuple((name, tuple(values)) for name, values in sorted(filterset.data.lists()) if name != "page")
    drafts_named = filterset.request is not None and can_see_drafts(filterset.request.user)
    key = (
        "filter box",
        get_language(),
        get_script_prefix(),
        drafts_named,
        clear_url,
        str(submit),
        filters_set,
        asked,
    )
    return filters.RENDERED_MENUS.get(key, render)
