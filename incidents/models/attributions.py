"""Who did it, according to whom: one source's stance on one actor for one incident."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from incidents import tolls
from incidents.models.base import OfAnIncident, OfAnIncidentQuerySet, RulesInCleanMixin, Versioned, today
from incidents.models.incidents import Incident
from incidents.models.parties import Actor, Source
from incidents.models.quotes import quote_constraints, quote_errors, quote_fields
from incidents.models.reports import TollReport


class AttributionQuerySet(OfAnIncidentQuerySet):
    """Bulk writes go through the one writer, which keeps each incident's alleged perpetrators,
    claims and ``attribution_disputed`` from the attributions (``OfAnIncidentQuerySet``)."""


class Attribution(RulesInCleanMixin, OfAnIncident, Versioned):
    class Stance(models.TextChoices):
        ALLEGED = "alleged", _("alleges (the source says the actor did it)")
        CLAIMED = "claimed", _("claimed (the actor says it did it)")
        DENIED = "denied", _("denied (the actor says it did not)")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attributions")
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="attributions")
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="attributions",
        help_text="Who says so. For a claim or a denial, the source that carries it (the actor's own "
        "statement, or the outlet that reported it).",
        error_messages={"null": "Choose the source that says so."},
    )
    stance = models.CharField(max_length=10, choices=Stance.choices, default=Stance.ALLEGED)
    report = models.ForeignKey(
        TollReport,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attributions",
        help_text="The report this attribution comes from, if any.",
    )
    quote = models.TextField(blank=True, help_text="The source's exact words, in any language.")
    quote_language, quote_translation, translation_is_machine = quote_fields()
    published_on = models.DateField(help_text="The day the source said so.")

    objects = AttributionQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["published_on", "pk"]
        constraints = [
            # A source says one thing about an actor on one day: not "alleges" and "denies" at once.
            models.UniqueConstraint(
                fields=["incident", "actor", "source", "published_on"], name="attribution_one_stance_a_day"
            ),
            *quote_constraints("attribution"),
        ]
        indexes = [
            # Actor pages and the perpetrator totals: an actor's attributions.
            models.Index(fields=["actor", "incident"], name="attribution_actor_idx"),
            # Source pages: a source's latest attributions, read newest first (not all of them sorted).
            models.Index(fields=["source", "published_on", "id"], name="attribution_source_date_idx"),
        ]

    def __str__(self):
        source = self.source.name if self.source_id else "?"
        actor = self.actor.name if self.actor_id else "?"
        return f"{source}: {self.get_stance_display().split(' (')[0]} {actor} ({self.published_on})"

    def get_absolute_url(self):
        return reverse("incident_detail", args=[self.incident.slug])

    def clean(self):
        errors = {}
        if self.published_on and self.published_on > today():
            errors["published_on"] = "This date is in the future."
        try:
            incident = self.incident
        except Incident.DoesNotExist:  # an inline on a new incident's form
            incident = None
        if incident and incident.start_date and self.published_on and self.published_on < incident.start_date:
            errors["published_on"] = (
                "An attribution cannot be made before the incident started "
                f"({incident.start_date:%-d %B %Y})."
            )
        errors.update(quote_errors(self))
        if self.report_id and incident and self.report.incident_id != incident.pk:
            errors["report"] = "Choose a report of this incident."
        if self.incident_id and self.actor_id and self.source_id and self.published_on:
            same_day = Attribution.objects.filter(
                incident_id=self.incident_id,
                actor_id=self.actor_id,
                source_id=self.source_id,
                published_on=self.published_on,
            ).exclude(pk=self.pk)
            other = same_day.first()
            if other:
                errors["stance"] = (
                    f"{self.source} already {other.get_stance_display().split(' (')[0]} {self.actor} on "
                    f"{self.published_on:%-d %B %Y}: a source says one thing about an actor on a day. "
                    "Change that attribution, or give this one the day the source changed its stance."
                )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        with transaction.atomic():
            previous = self.lock_incidents()
            if previous:
                self.move_version_on()
            super().save(*args, **kwargs)
            tolls.refresh({self.incident_id, previous})

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            self.lock_incidents()
            incident_id = self.incident_id
            result = super().delete(*args, **kwargs)
            tolls.refresh({incident_id})
        return result
