"""The month, place and source totals of published incidents, kept up to date so that the home
page, the place pages and the source pages read a few hundred rows (or one) instead of every
incident or report.

These tables are derived data: ``incidents.tolls`` writes them, in the same transaction as every
change that can alter a total (a report or attribution, a publish or unpublish, a date, a part
tree, a delete or restore), and ``manage.py rebuild_totals`` recounts them from scratch.
"""

from django.db import models

# The columns of MonthTotal that are sums, in the order incidents.tolls writes them.
MONTH_SUMS = [
    "incidents", "incidents_with_figures", "disputed_incidents",
    "lowest", "highest", "open_incidents",
    "all_lowest", "all_highest", "all_open_incidents",
]  # fmt: skip


class CountedIncidents(models.Model):
    """The counts and the range that a month's or a place's published incidents add up to."""

    incidents = models.IntegerField(default=0)
    incidents_with_figures = models.IntegerField(default=0)
    disputed_incidents = models.IntegerField(default=0)
    lowest = models.BigIntegerField(default=0)
    highest = models.BigIntegerField(default=0)
    # How many of the contributions added here have an open highest: the total is open when any has.
    open_incidents = models.IntegerField(default=0)

    class Meta:
        abstract = True


class MonthTotal(CountedIncidents):
    """What the published incidents that started in one month add up to.

    Two totals are kept, because parts are counted within their whole (DESIGN.md, "Parts") and a
    part and its whole may have started in different months:
    - ``lowest``/``highest``/``open_incidents``: the month's own total, over the month's
      incidents alone (the chart, the latest month);
    - ``all_lowest``/``all_highest``/``all_open_incidents``: what the month's incidents add to the
      total over every published incident, where a part in another month than its whole is
      counted within the whole. Their sum over all months is the all-time total.
    """

    month = models.DateField(primary_key=True, help_text="The first day of the month.")
    all_lowest = models.BigIntegerField(default=0)
    all_highest = models.BigIntegerField(default=0)
    all_open_incidents = models.IntegerField(default=0)

    class Meta:
        ordering = ["month"]

    def __str__(self):
        return f"{self.month:%B %Y}: {self.incidents} incidents"


# The columns of PlaceTotal that are sums.
PLACE_SUMS = [
    "incidents",
    "incidents_with_figures",
    "disputed_incidents",
    "lowest",
    "highest",
    "open_incidents",
]


class PlaceTotal(CountedIncidents):
    """What the published incidents recorded at one place (their own ``location``, not the places
    beneath it) add up to: a place page adds the rows of the place and every place beneath it
    (a few hundred for a governorate) instead of reading its thousands of incidents.

    ``incidents``, ``incidents_with_figures`` and ``disputed_incidents`` count every incident;
    ``lowest``, ``highest`` and ``open_incidents`` only those outside part trees, as
    ``stats.totals`` adds them in SQL: the part trees of a set of places are added up at reading
    (their counting depends on which of their members the set holds). ``Incident.totalled_at``
    says which row counts an incident.
    """

    location = models.OneToOneField(
        "incidents.Location", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self):
        return f"Place {self.location_id}: {self.incidents} incidents"


# The columns of SourceTotal and SourceShare that are sums.
SOURCE_SUMS = ["reports", "higher", "lower", "same"]


class SourceCounts(models.Model):
    """A source's reports, and how often its current figure was higher, lower or the same as
    another source's current figure on the same incident."""

    reports = models.IntegerField(default=0)
    higher = models.IntegerField(default=0)
    lower = models.IntegerField(default=0)
    same = models.IntegerField(default=0)

    class Meta:
        abstract = True


class SourceShare(SourceCounts):
    """What one incident adds to one source's totals (``SourceTotal``) while it is published: the
    source's reports on it, and how the source's current figure compares with each other
    source's current figure there (``stats.verdict_rules``). Kept for drafts too, so
    that publishing adds them and a change adds the difference from what was added before."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("incidents.Source", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "source"], name="source_share_once"),
        ]

    def __str__(self):
        return f"Share of source {self.source_id} in incident {self.incident_id}"


class SourceTotal(SourceCounts):
    """One source's totals over the published incidents, for its page: how many reports it
    published on them and how often its current figure was higher, lower or the same as another
    source's on the same incident. The sum of its ``SourceShare`` rows of published incidents."""

    source = models.OneToOneField(
        "incidents.Source", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self):
        return f"Source {self.source_id}: {self.reports} reports"


class PartTreeShare(models.Model):
    """What one published incident of a part tree (a whole or a part) adds to the month totals.

    Incidents outside part trees add their own stored figures (``Incident.totalled_in`` says
    where); those in a part tree add what ``figures.contributions`` gives them over the month's
    incidents (``month_*``) and over every published incident (``all_*``): nothing for a part
    counted within its whole, the larger of its own figure and its parts' sum for a whole. Kept
    per incident so that a change to one tree is added to the totals as a difference.
    """

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    month = models.DateField(help_text="The month whose totals hold these shares.")
    month_lowest = models.IntegerField(null=True)
    month_highest = models.IntegerField(null=True)
    month_open = models.BooleanField(default=False)
    all_lowest = models.IntegerField(null=True)
    all_highest = models.IntegerField(null=True)
    all_open = models.BooleanField(default=False)

    def __str__(self):
        return f"Share of incident {self.incident_id} in {self.month:%B %Y}"
