"""What imports leave for a person to decide, and what a merge leaves behind.

``PossibleMatch``: an imported event that may describe an incident already recorded, but not
surely enough to attach it without asking (``incidents.merging``). ``SlugRedirect``: the old
address of an incident merged into another, so that links to it keep working.
"""

from django.conf import settings
from django.db import models

from incidents.models.incidents import Incident


class PossibleMatchQuerySet(models.QuerySet):
    def open(self):
        return self.filter(decision=PossibleMatch.Decision.OPEN)


class PossibleMatch(models.Model):
    class Decision(models.TextChoices):
        OPEN = "open", "To review"
        ATTACHED = "attached", "Attached: the same event"
        SEPARATE = "separate", "Kept separate: a different event"

    # Empty once that incident was merged away (attached to the candidate, or merged by hand):
    # the decision stays on record, naming it (``merged_incident``; incidents.merging empties
    # this before the merged incident is deleted). Deleting the incident otherwise deletes its
    # questions: nobody is left to ask them about.
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="possible_matches",
        help_text="The incident the import created for the dataset's event.",
    )
    merged_incident = models.CharField(
        max_length=300,
        blank=True,
        help_text="The imported incident's address and title, and the incident it was merged into.",
    )
    candidate = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="possibly_matched_by",
        help_text="The incident already recorded that it may describe.",
    )
    reason = models.CharField(max_length=300, help_text="What matches and what does not.")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PossibleMatchQuerySet.as_manager()

    class Meta:
        verbose_name = "possible match"
        verbose_name_plural = "possible matches (review queue)"
        # The latest imported first (the records of merged incidents last); an event's likeliest
        # match first.
        ordering = [models.F("incident_id").desc(nulls_last=True), "pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "candidate"], name="possiblematch_once_per_pair"),
            models.CheckConstraint(
                condition=~models.Q(incident=models.F("candidate")), name="possiblematch_not_itself"
            ),
        ]
        indexes = [
            # The review queue lists the open ones, newest first.
            models.Index(fields=["decision", "created_at"], name="possiblematch_queue_idx"),
        ]

    def __str__(self):
        return f"{self.incident or self.merged_incident} / {self.candidate}?"


class SlugRedirect(models.Model):
    """An incident's address before it was merged into ``incident``."""

    old_slug = models.SlugField(max_length=120, unique=True)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="old_slugs")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.old_slug} → {self.incident.slug}"
