from django.contrib.syndication.views import Feed
from django.urls import reverse_lazy
from django.utils.feedgenerator import Atom1Feed

from incidents.models import Incident


class NewlyPublishedIncidents(Feed):
    feed_type = Atom1Feed
    title = "Casualty Tracker: newly published incidents"
    subtitle = "Incidents as they are published, with the range of reported deaths."
    link = reverse_lazy("incident_list")

    def items(self):
        # Every way of publishing records when; the condition also keeps PostgreSQL, which
        # sorts missing times first, and SQLite, which sorts them last, in agreement.
        return (
            Incident.objects.published()
            .filter(published_at__isnull=False)
            .select_related("location")
            .order_by("-published_at", "-pk")[:50]
        )

    def item_title(self, incident):
        return f"{incident.title} ({incident.toll.short()} killed)"

    def item_description(self, incident):
        return (
            f"{incident.start_date:%-d %B %Y}, {incident.location.short_chain}. "
            f"Reported killed: {incident.toll.short()}, according to {incident.source_count} source(s). "
            f"{incident.summary}"
        )

    def item_pubdate(self, incident):
        return incident.published_at

    def item_updateddate(self, incident):
        return incident.updated_at
