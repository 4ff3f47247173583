from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident
from incidents.models.places import load_chains_in_page_language
from incidents.templatetags.bilingual import chain_text_in_page_language, text_in_page_language


class TextOnlyAtomFeed(Atom1Feed):
    """Atom with every human-readable element marked ``type="text"``.

    Django writes summaries as ``type="html"``, so a feed reader would render an analyst's
    markup (``<img onerror=…>``) live, and our CSP does not protect a feed reader. As text,
    the XML writer escapes each value once and readers show it as typed.
    """

    def add_root_elements(self, handler):
        super().add_root_elements(TextElements(handler))

    def add_item_elements(self, handler, item):
        super().add_item_elements(TextElements(handler), item)


class TextElements:
    """Passes everything to the XML writer, marking the text constructs of RFC 4287 as text."""

    TEXT_CONSTRUCTS = {"title", "subtitle", "summary", "rights"}

    def __init__(self, handler):
        self.handler = handler

    def addQuickElement(self, name, contents=None, attrs=None):  # the XML writer's method name
        if name in self.TEXT_CONSTRUCTS:
            attrs = {**(attrs or {}), "type": "text"}
        self.handler.addQuickElement(name, contents, attrs)

    def __getattr__(self, name):
        return getattr(self.handler, name)


class NewlyPublishedIncidents(Feed):
    """Atom, in the language of its address (/incidents/feed/, /ar/incidents/feed/)."""

    feed_type = TextOnlyAtomFeed
    title = _("Casualty Tracker: newly published incidents")
    subtitle = _("Incidents as they are published, with the range of reported deaths.")
    link = reverse_lazy("incident_list")

    def items(self):
        # Every way of publishing records when; the condition also keeps PostgreSQL, which
        # sorts missing times first, and SQLite, which sorts them last, in agreement.
        items = list(
            Incident.objects.published()
            .filter(published_at__isnull=False)
            .select_related("location")
            .order_by("-published_at", "-pk")[:50]
        )
        load_chains_in_page_language(incident.location for incident in items)
        return items

    # Titles and descriptions are plain text: the feed writer escapes them (never escape here too).

    def item_title(self, incident):
        return gettext("%(title)s (%(range)s killed)") % {
            "title": text_in_page_language(incident, "title"),
            "range": incident.toll.short(),
        }

    def item_description(self, incident):
        sources = ngettext("%(count)d source", "%(count)d sources", incident.source_count) % {
            "count": incident.source_count
        }
        return gettext(
            "%(date)s, %(place)s. Reported killed: %(range)s, according to %(sources)s. %(summary)s"
        ) % {
            "date": date_format(incident.start_date, "j F Y"),
            "place": chain_text_in_page_language(incident.location),
            "range": incident.toll.short(),
            "sources": sources,
            "summary": text_in_page_language(incident, "summary"),
        }

    def item_pubdate(self, incident):
        return incident.published_at

    def item_updateddate(self, incident):
        return incident.updated_at
