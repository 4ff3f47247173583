"""The people killed in an incident, named or described, one row each.

A person's name is private until an editor releases it: ``is_public`` is written only by
``incidents.workflow.set_victims_public`` (the model's ``save()``, ``update()`` and
``bulk_create()`` never release a name), and every public page shows a hidden person only by
their description ("a child aged 2, civilian").
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import CheckConstraint, Q
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from simple_history.models import HistoricalRecords

from incidents.models.base import OfAnIncident, OfAnIncidentQuerySet, RulesInCleanMixin, Versioned, today
from incidents.models.incidents import Incident
from incidents.models.reports import TollReport

OLDEST_AGE = 120
ADULT_FROM = 18
ELDERLY_FROM = 60
# A number this large in the age column is a year of birth typed in the wrong place.
YEAR_LIKE = 1800


class Sex(models.TextChoices):
    FEMALE = "female", pgettext_lazy("sex", "female")
    MALE = "male", pgettext_lazy("sex", "male")
    UNKNOWN = "unknown", pgettext_lazy("sex", "unknown")


class AgeGroup(models.TextChoices):
    # Short labels: the admin's rows of people are narrow. Child: under 18; elderly: 60 and over.
    CHILD = "child", pgettext_lazy("age group", "child")
    ADULT = "adult", pgettext_lazy("age group", "adult")
    ELDERLY = "elderly", pgettext_lazy("age group", "elderly")
    UNKNOWN = "unknown", pgettext_lazy("age group", "unknown")


class VictimStatus(models.TextChoices):
    CIVILIAN = "civilian", pgettext_lazy("status of a person", "civilian")
    COMBATANT = "combatant", pgettext_lazy("status of a person", "combatant")
    UNKNOWN = "unknown", pgettext_lazy("status of a person", "unknown")


GROUP_WORDS = {
    AgeGroup.CHILD: "a child (under 18)",
    AgeGroup.ADULT: "an adult (18 to 59)",
    AgeGroup.ELDERLY: "elderly (60 and over)",
}


def age_group_of(age):
    """The age group an age falls in (DESIGN.md: child under 18, elderly 60 and over)."""
    if age is None:
        return AgeGroup.UNKNOWN
    if age < ADULT_FROM:
        return AgeGroup.CHILD
    if age < ELDERLY_FROM:
        return AgeGroup.ADULT
    return AgeGroup.ELDERLY


def describe(sex, age, age_group, status):
    """How a person is shown when their name is not public: "a child aged 2, civilian", in the
    language of the page ("طفل بعمر عامين، مدني"): Arabic words agree with the person's sex."""
    nouns = {
        AgeGroup.CHILD: {Sex.FEMALE: pgettext("person", "a girl"), Sex.MALE: pgettext("person", "a boy")},
        AgeGroup.ADULT: {Sex.FEMALE: pgettext("person", "a woman"), Sex.MALE: pgettext("person", "a man")},
        AgeGroup.ELDERLY: {
            Sex.FEMALE: pgettext("person", "an elderly woman"),
            Sex.MALE: pgettext("person", "an elderly man"),
        },
        AgeGroup.UNKNOWN: {
            Sex.FEMALE: pgettext("person", "a woman or girl"),
            Sex.MALE: pgettext("person", "a man or boy"),
        },
    }
    unsexed = {
        AgeGroup.CHILD: pgettext("person", "a child"),
        AgeGroup.ADULT: pgettext("person", "an adult"),
        AgeGroup.ELDERLY: pgettext("person", "an elderly person"),
        AgeGroup.UNKNOWN: pgettext("person", "a person"),
    }
    group = age_group if age_group in nouns else AgeGroup.UNKNOWN
    noun = nouns[group].get(sex) or unsexed[group]
    if age is not None:
        noun = ngettext("%(noun)s aged %(age)s", "%(noun)s aged %(age)s", age) % {"noun": noun, "age": age}
    # Arabic says "civilian" in the person's gender: a message for women and girls, one for others.
    if sex == Sex.FEMALE:
        standing = {
            VictimStatus.CIVILIAN: pgettext("of a woman or girl", "civilian"),
            VictimStatus.COMBATANT: pgettext("of a woman or girl", "combatant"),
        }.get(status) or pgettext("of a woman or girl", "status unknown")
    else:
        standing = {
            VictimStatus.CIVILIAN: pgettext("of a man, a boy or a person", "civilian"),
            VictimStatus.COMBATANT: pgettext("of a man, a boy or a person", "combatant"),
        }.get(status) or pgettext("of a man, a boy or a person", "status unknown")
    return gettext("%(person)s, %(standing)s") % {"person": noun, "standing": standing}


class VictimQuerySet(OfAnIncidentQuerySet):
    """Bulk writes lock the incidents and keep history (``OfAnIncidentQuerySet``); none of them
    releases a name."""

    def public(self):
        """People whose names an editor has released."""
        return self.filter(is_public=True)

    def update(self, **values):
        if "is_public" in values:
            raise ValueError("Names are released only by incidents.workflow.set_victims_public().")
        return super().update(**values)

    def bulk_update(self, objs, fields, *args, **kwargs):
        if "is_public" in fields:
            raise ValueError("Names are released only by incidents.workflow.set_victims_public().")
        return super().bulk_update(objs, fields, *args, **kwargs)

    def bulk_create(self, objs, *args, **kwargs):
        for victim in objs:
            victim.is_public = False  # released afterwards, by an editor
            victim.fill_age_group()
        return super().bulk_create(objs, *args, **kwargs)

    def _write_public(self, value):
        """For ``incidents.workflow`` only: a plain UPDATE, without this QuerySet's rules."""
        return models.QuerySet.update(self, is_public=value)


class Victim(RulesInCleanMixin, OfAnIncident, Versioned):
    Sex = Sex
    AgeGroup = AgeGroup
    Status = VictimStatus

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="victims")
    name = models.CharField(
        max_length=200,
        blank=True,
        help_text="As the source writes it. Leave empty for a person described but not named "
        "(“a two-year-old child”).",
    )
    name_ar = models.CharField("name in Arabic", max_length=200, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    age = models.IntegerField(
        null=True, blank=True, help_text="Age at death in years (0 for a baby), if the source gives it."
    )
    age_group = models.CharField(
        "age group",
        max_length=10,
        choices=AgeGroup.choices,
        default=AgeGroup.UNKNOWN,
        help_text="Filled in from the age when one is given; choose it when only this is known (“a child”).",
    )
    status = models.CharField(max_length=10, choices=VictimStatus.choices, default=VictimStatus.UNKNOWN)
    date_of_death = models.DateField(
        "date of death",
        null=True,
        blank=True,
        help_text="When it differs from the incident's or is known more precisely (died of wounds "
        "later). Not the date a report was published.",
    )
    reports = models.ManyToManyField(
        TollReport,
        blank=True,
        related_name="victims",
        help_text="The reports of this incident that name or describe this person.",
    )
    # Written only by incidents.workflow.set_victims_public (an editor releases a name).
    is_public = models.BooleanField(
        "name is public",
        default=False,
        help_text="Only an editor releases a name for publication. Until then readers see only the "
        "description (“a child aged 2, civilian”).",
    )
    note = models.TextField(blank=True, help_text="For analysts and editors only; never shown to readers.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VictimQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["version"])

    class Meta:
        ordering = ["incident", "pk"]
        constraints = [
            CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=0, age__lte=OLDEST_AGE),
                name="victim_age_0_to_120",
            ),
            CheckConstraint(
                condition=Q(age__isnull=True)
                | Q(age__lt=ADULT_FROM, age_group=AgeGroup.CHILD)
                | Q(age__gte=ADULT_FROM, age__lt=ELDERLY_FROM, age_group=AgeGroup.ADULT)
                | Q(age__gte=ELDERLY_FROM, age_group=AgeGroup.ELDERLY),
                name="victim_age_group_matches_age",
            ),
        ]
        indexes = [
            # The duplicate warning: the same name on another incident.
            models.Index(fields=["name"], name="victim_name_idx"),
        ]

    def __str__(self):
        return self.name or self.name_ar or self.description

    @property
    def description(self):
        """What readers see of a person whose name is not public (no query)."""
        return describe(self.sex, self.age, self.age_group, self.status)

    @property
    def public_name(self):
        """The name readers may see, or "" while it is hidden (no query)."""
        return self.name if self.is_public else ""

    @property
    def public_name_ar(self):
        return self.name_ar if self.is_public else ""

    def public_record(self):
        """What anyone may see of this person (the incident page's row; for the API and open data):
        the name only once an editor has released it, never the note. No query."""
        return {
            "name": self.public_name or None,
            "name_ar": self.public_name_ar or None,
            "description": self.description,
            "sex": self.sex,
            "age": self.age,
            "age_group": self.age_group,
            "status": self.status,
        }

    def fill_age_group(self):
        """An age decides the age group: "unknown" is filled in from it (a wrong one is refused)."""
        if self.age is not None and self.age_group == AgeGroup.UNKNOWN and 0 <= self.age <= OLDEST_AGE:
            self.age_group = age_group_of(self.age)

    def clean(self):
        errors = {}
        self.fill_age_group()
        if self.age is not None:
            if self.age < 0:
                errors["age"] = "An age cannot be negative."
            elif self.age >= YEAR_LIKE:
                errors["age"] = (
                    f"{self.age} looks like a year of birth: enter the age at death in years "
                    "(and say the year of birth in the note)."
                )
            elif self.age > OLDEST_AGE:
                errors["age"] = f"An age over {OLDEST_AGE} is not possible: check the figure."
            elif self.age_group != age_group_of(self.age):
                errors["age_group"] = (
                    f"A person aged {self.age} is {GROUP_WORDS[age_group_of(self.age)]}: correct the age "
                    "or the age group (or leave the group “unknown” to fill it in)."
                )
        try:
            incident = self.incident
        except Incident.DoesNotExist:  # an inline on a new incident's form
            incident = None
        if self.date_of_death:
            if self.date_of_death > today():
                errors["date_of_death"] = "This date is in the future."
            elif incident and incident.start_date and self.date_of_death < incident.start_date:
                errors["date_of_death"] = (
                    "A person killed in this incident cannot have died before it started "
                    f"({incident.start_date:%-d %B %Y}). Is this the date of a report?"
                )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        """Save what an analyst entered, never ``is_public``: a new person is hidden, and an edit
        keeps the stored value (an editor releases names through ``incidents.workflow``)."""
        self.fill_age_group()
        with transaction.atomic():
            previous = self.lock_incidents()  # the same lock order as every writer beneath an incident
            if previous:
                self.move_version_on()
                update_fields = kwargs.pop("update_fields", None) or [
                    f.name for f in self._meta.concrete_fields if not f.primary_key
                ]
                kwargs["update_fields"] = [name for name in update_fields if name != "is_public"]
                self.is_public = Victim._base_manager.filter(pk=self.pk).values_list("is_public", flat=True)[
                    0
                ]
            else:
                self.is_public = False
            # No refresh: nothing derived is stored from victims (counts are read with a query).
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            self.lock_incidents()
            return super().delete(*args, **kwargs)
