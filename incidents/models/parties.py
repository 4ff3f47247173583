"""Who acted and who said so: actors (alleged perpetrators, claimants) and sources of figures."""

from django.db import models
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from incidents.names import normalise
from incidents.slugs import save_with_free_slug


class ActorQuerySet(models.QuerySet):
    def public(self):
        """Actors a published incident names (as alleged perpetrator or claimant); an actor only
        drafts name is never public."""
        from incidents.models.incidents import Incident

        published = Incident.objects.published()
        return self.filter(
            models.Exists(published.filter(perpetrators=models.OuterRef("pk")))
            | models.Exists(published.filter(claimed_by=models.OuterRef("pk")))
        )

    def used_by_published_incidents(self):
        """Published incidents that name any of these actors (as alleged perpetrator or claimant)."""
        from incidents.models.incidents import Incident

        return (
            Incident.objects.published()
            .filter(models.Q(perpetrators__in=self) | models.Q(claimed_by__in=self))
            .distinct()
        )

    def refuse_if_published_incidents_use_them(self):
        """Removing an actor would silently change what readers were told about a published incident."""
        used = list(self.used_by_published_incidents().order_by("title")[:20])
        if used:
            raise ProtectedError(
                "Named by published incidents, so it cannot be deleted: "
                + "; ".join(incident.title for incident in used),
                set(used),
            )

    def delete(self):
        self.refuse_if_published_incidents_use_them()
        return super().delete()


class Actor(models.Model):
    class Kind(models.TextChoices):
        STATE_FORCES = "state_forces", _("State forces")
        FOREIGN_FORCES = "foreign_forces", _("Foreign state forces")
        NON_STATE_GROUP = "non_state_group", _("Non-state armed group")
        UNIDENTIFIED = "unidentified", _("Unidentified")

    name = models.CharField(max_length=200, unique=True)
    name_ar = models.CharField("Arabic name", max_length=200, blank=True)
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)

    objects = ActorQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("actor_detail", args=[self.slug])

    def save(self, *args, **kwargs):
        save_with_free_slug(
            self, lambda: super(Actor, self).save(*args, **kwargs), self.name, fallback="actor"
        )

    def delete(self, *args, **kwargs):
        Actor.objects.filter(pk=self.pk).refuse_if_published_incidents_use_them()
        return super().delete(*args, **kwargs)


class SourceQuerySet(models.QuerySet):
    def public(self):
        """Sources with a report or an attribution on a published incident; a source (an imported
        dataset, say) whose statements are all on drafts is never public."""
        from incidents.models.attributions import Attribution
        from incidents.models.incidents import Incident
        from incidents.models.reports import TollReport

        published = {"source": models.OuterRef("pk"), "incident__status": Incident.Status.PUBLISHED}
        return self.filter(
            models.Exists(TollReport.objects.filter(**published))
            | models.Exists(Attribution.objects.filter(**published))
        )


class ActorName(models.Model):
    """Another name an actor goes by ("Government of Syria", "Military Forces of Syria (2000-)"),
    so that an import finds the actor instead of creating a second one."""

    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, editable=False)

    class Meta:
        verbose_name = "other name"
        constraints = [models.UniqueConstraint(fields=["key"], name="actorname_one_actor_per_name")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.key = normalise(self.name)
        super().save(*args, **kwargs)


class Source(models.Model):
    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Government")
        MONITORING_GROUP = "monitoring_group", _("Monitoring group / NGO")
        INTERNATIONAL_ORG = "international_org", _("International organisation")
        MEDIA = "media", _("News media")
        ARMED_GROUP = "armed_group", _("Armed group")
        DATASET = "dataset", _("Conflict dataset")
        OTHER = "other", pgettext_lazy("kind of source", "Other")

    name = models.CharField(max_length=200, unique=True)
    name_ar = models.CharField("Arabic name", max_length=200, blank=True)
    short_name = models.CharField(
        max_length=40, blank=True, help_text="Used in tables and exports, e.g. SOHR. Defaults to the name."
    )
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    affiliation = models.TextField(
        blank=True, help_text="Who runs or funds it, and any side it is aligned with."
    )
    website = models.URLField(blank=True)

    objects = SourceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("source_detail", args=[self.slug])

    @property
    def label(self):
        return self.short_name or self.name

    def save(self, *args, **kwargs):
        save_with_free_slug(
            self,
            lambda: super(Source, self).save(*args, **kwargs),
            self.short_name,
            self.name,
            fallback="source",
        )
