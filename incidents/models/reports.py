"""Each source's figures for an incident, as published on a date, and their one-row rules."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Case, CheckConstraint, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from incidents import figures, tolls
from incidents.models.base import OfAnIncident, OfAnIncidentQuerySet, RulesInCleanMixin, Versioned, today
from incidents.models.incidents import Incident
from incidents.models.parties import Source
from incidents.models.quotes import quote_constraints, quote_errors, quote_fields


class Qualifier(models.TextChoices):
    EXACT = figures.EXACT, _("exactly")
    AT_LEAST = figures.AT_LEAST, _("at least")
    MORE_THAN = figures.MORE_THAN, _("more than")
    ABOUT = figures.ABOUT, _("about")
    UP_TO = figures.UP_TO, _("up to")
    BETWEEN = figures.BETWEEN, _("between … and …")
    SEVERAL = figures.SEVERAL, _("several (no number)")
    DOZENS = figures.DOZENS, _("dozens (no number)")
    SCORES = figures.SCORES, _("scores (no number)")
    HUNDREDS = figures.HUNDREDS, _("hundreds (no number)")
    THOUSANDS = figures.THOUSANDS, _("thousands (no number)")
    UNKNOWN = figures.UNKNOWN, pgettext_lazy("figure", "unknown")


class Population(models.TextChoices):
    ALL = figures.ALL, _("everyone killed")
    CIVILIANS = figures.CIVILIANS, _("civilians only")
    COMBATANTS = figures.COMBATANTS, _("combatants only")


# Said without a number: "unknown" and the plural words ("dozens").
WORDLESS = [figures.UNKNOWN, *figures.PLURAL_WORDS]


def figure_constraints(field):
    """The one-row rules of a figure (``killed`` or ``injured``) as database constraints."""
    qualifier, upper = f"{field}_qualifier", f"{field}_upper"
    return [
        CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
            name=f"report_{field}_not_negative",
        ),
        CheckConstraint(
            condition=Q(**{f"{qualifier}__in": WORDLESS, f"{field}__isnull": True})
            | Q(**{f"{qualifier}__in": figures.NUMBER_QUALIFIERS, f"{field}__isnull": False}),
            name=f"report_{field}_number_only_with_a_numbered_qualifier",
        ),
        CheckConstraint(
            condition=(Q(**{f"{upper}__isnull": True}) & ~Q(**{qualifier: figures.BETWEEN}))
            | Q(**{qualifier: figures.BETWEEN, f"{upper}__isnull": False, f"{upper}__gt": F(field)}),
            name=f"report_{field}_upper_only_for_between",
        ),
    ]


def of_whom_constraint(field):
    """An "of whom" count is within the killed figure's upper bound (any, when it is open)."""
    return CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": 0, "killed__isnull": True})
        | Q(**{f"{field}__gte": 0, "killed_qualifier__in": figures.OPEN_QUALIFIERS})
        | Q(**{f"{field}__gte": 0, f"{field}__lte": Coalesce("killed_upper", "killed")}),
        name=f"report_{field}_within_killed",
    )


def _floors(qualifier):
    return [When(**{qualifier: word}, then=Value(floor)) for word, floor in figures.PLURAL_FLOORS.items()]


def stated_ends_sql(prefix=""):
    """SQL for a report's killed ``Figure.stated_low``, ``stated_high`` and ``is_open`` (NULL ends
    when unknown). ``prefix`` is a join path to the report, e.g. "reports__". The same arithmetic
    as ``incidents.figures``; tests keep the two equal."""
    qualifier, killed = f"{prefix}killed_qualifier", F(f"{prefix}killed")
    unknown = When(**{qualifier: figures.UNKNOWN}, then=Value(None))
    low = Case(
        unknown, When(**{qualifier: figures.UP_TO}, then=Value(0)), *_floors(qualifier), default=killed,
        output_field=models.IntegerField(),
    )  # fmt: skip
    high = Case(
        unknown, When(**{qualifier: figures.BETWEEN}, then=F(f"{prefix}killed_upper")), *_floors(qualifier),
        default=killed, output_field=models.IntegerField(),
    )  # fmt: skip
    is_open = Case(
        When(**{f"{qualifier}__in": figures.OPEN_QUALIFIERS}, then=Value(True)),
        default=Value(False),
        output_field=models.BooleanField(),
    )
    return low, high, is_open


def interval_sql(prefix=""):
    """SQL for a report's killed ``Figure.interval``: its low and its high (NULL when open or unknown)."""
    qualifier, killed = f"{prefix}killed_qualifier", F(f"{prefix}killed")
    low = Case(
        When(**{qualifier: figures.UNKNOWN}, then=Value(None)),
        When(**{qualifier: figures.MORE_THAN}, then=killed + 1),
        When(**{qualifier: figures.UP_TO}, then=Value(0)),
        *_floors(qualifier),
        default=killed,
        output_field=models.IntegerField(),
    )
    high = Case(
        When(**{qualifier: figures.BETWEEN}, then=F(f"{prefix}killed_upper")),
        When(**{f"{qualifier}__in": [figures.EXACT, figures.ABOUT, figures.UP_TO]}, then=killed),
        default=Value(None),
        output_field=models.IntegerField(),
    )
    return low, high


def moved_to(values):
    """The incident id an ``update(**values)`` moves rows to, if it does."""
    incident = values.get("incident_id", values.get("incident"))
    return getattr(incident, "pk", incident)


def report_errors(report, *, incident_start=None, as_of=None):
    """{field: message}: the one-row rules of a report (``TollReport.clean()``). ``report`` is a
    ``TollReport`` or any object with its fields as attributes (an import's row); ``incident_start``
    is its incident's start date, when known; ``as_of`` the day it is (default: ``today()``)."""
    errors = {}
    for field in ("killed", "injured"):
        errors.update(figure_errors(report, field))
    killed_figure = figures.Figure(report.killed_qualifier, report.killed, report.killed_upper)
    if "killed" not in errors and "killed_upper" not in errors:
        bound = killed_figure.upper_bound  # None when open ("at least 89"): no bound
        for field in ("civilians", "children", "women"):
            value = getattr(report, field)
            if value is None:
                continue
            if value < 0:
                errors[field] = "A figure cannot be negative."
            elif bound is not None and value > bound:
                errors[field] = (
                    f"This cannot be more than the number killed ({bound:,}): "
                    "it counts some of the people killed."
                )
    if report.killed_best is not None and "killed" not in errors and "killed_upper" not in errors:
        interval = killed_figure.interval
        if report.killed is None or interval is None or report.killed_best not in interval:
            errors["killed_best"] = (
                "A best estimate lies within the source's own figure "
                f"({killed_figure.as_stated()}): enter it there, or clear it."
            )
    if report.civilians is not None and report.killed_counts != Population.ALL and "civilians" not in errors:
        errors["civilians"] = (
            "Only a figure of everyone killed has an “of whom civilians” count: a civilians-only "
            "or combatants-only figure says whom it counts in “killed: who is counted”."
        )
    errors.update(quote_errors(report))
    if report.published_on:
        if report.published_on > (as_of or today()):
            errors["published_on"] = "This date is in the future."
        elif incident_start and report.published_on < incident_start:
            errors["published_on"] = (
                f"A report cannot be published before the incident started ({incident_start:%-d %B %Y})."
            )
    return errors


def figure_errors(report, field):
    """{field: message} for one figure (``killed`` or ``injured``) of ``report``."""
    value = getattr(report, field)
    qualifier = getattr(report, f"{field}_qualifier")
    upper = getattr(report, f"{field}_upper")
    label = "killed" if field == "killed" else "injured"
    if value is not None and value < 0:
        return {field: "A figure cannot be negative."}
    if qualifier == figures.UNKNOWN and value is not None:
        return {
            f"{field}_qualifier": "'unknown' cannot go with a number: clear the figure or say "
            "how the source put it (exactly, at least …)."
        }
    if qualifier in figures.PLURAL_WORDS and value is not None:
        return {
            field: f"'{qualifier}' is said without a number: clear the figure, or choose 'at least' "
            "(or another qualifier) if the source gives one."
        }
    if qualifier in figures.NUMBER_QUALIFIERS and value is None:
        return {
            field: f"Enter the number of people {label}, or choose 'unknown' (or a word such as "
            "'dozens') if the source gives none."
        }
    if qualifier == figures.BETWEEN and (upper is None or upper <= value):
        return {f"{field}_upper": "'between' needs an upper figure larger than the lower one."}
    if qualifier != figures.BETWEEN and upper is not None:
        return {
            f"{field}_upper": "Only a 'between' figure has an upper figure: choose 'between' or clear it."
        }
    return {}


class TollReportQuerySet(OfAnIncidentQuerySet):
    """Bulk writes go through the one writer of figures, with history (``OfAnIncidentQuerySet``)."""

    def current(self):
        return self.filter(is_current=True)

    def with_stated_ends(self):
        """Annotates ``stated_low``, ``stated_high`` and ``stated_open`` (see ``stated_ends_sql``)."""
        low, high, is_open = stated_ends_sql()
        return self.annotate(stated_low=low, stated_high=high, stated_open=is_open)

    def with_intervals(self):
        """Annotates ``interval_low`` and ``interval_high`` (see ``interval_sql``)."""
        low, high = interval_sql()
        return self.annotate(interval_low=low, interval_high=high)

    def update(self, **values):
        if "is_current" in values:
            raise ValueError("is_current is written only by incidents.tolls.refresh().")
        return super().update(**values)

    def bulk_update(self, objs, fields, *args, **kwargs):
        # Django writes each batch through update() above: history, locks and refresh included.
        if "is_current" in fields:
            raise ValueError("is_current is written only by incidents.tolls.refresh().")
        return super().bulk_update(objs, fields, *args, **kwargs)

    def _write_current(self, value):
        """For ``incidents.tolls`` only: a plain UPDATE, without this QuerySet's rules."""
        return models.QuerySet.update(self, is_current=value)


class TollReport(RulesInCleanMixin, OfAnIncident, Versioned):
    Qualifier = Qualifier
    Population = Population

    # No index of their own: report_incident_current_idx and report_source_date_idx begin with
    # them (a second index would only be written to on every insert).
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports", db_index=False)
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="reports",
        error_messages={"null": "Choose the source that published this figure."},
        db_index=False,
    )
    published_on = models.DateField(help_text="The day the source published this figure.")
    published_time = models.TimeField(
        null=True,
        blank=True,
        help_text="Only to order two figures a source published on the same day (UTC).",
    )
    url = models.URLField(
        "link",
        max_length=500,
        blank=True,
        help_text="Where the source published it. Leave empty only when it was not published online, "
        "and say where it came from in the note.",
    )
    archive_url = models.URLField("archived copy", max_length=500, blank=True)
    quote = models.TextField(blank=True, help_text="The source's exact words, in any language.")
    quote_language, quote_translation, translation_is_machine = quote_fields()

    killed = models.IntegerField(null=True, blank=True)
    killed_qualifier = models.CharField(
        "killed: as stated", max_length=10, choices=Qualifier.choices, default=Qualifier.EXACT
    )
    killed_upper = models.IntegerField("killed: upper figure", null=True, blank=True)
    killed_best = models.IntegerField(
        "killed: best estimate",
        null=True,
        blank=True,
        help_text="Only when the source gives a best estimate within its own figure (UCDP's best "
        "between its low and high).",
    )
    killed_counts = models.CharField(
        "killed: who is counted",
        max_length=10,
        choices=Population.choices,
        default=Population.ALL,
        help_text="Whom the killed figure counts: everyone, or only civilians or combatants "
        "(as SNHR and Airwars publish civilian tolls).",
    )
    injured = models.IntegerField(null=True, blank=True)
    injured_qualifier = models.CharField(
        "injured: as stated", max_length=10, choices=Qualifier.choices, default=Qualifier.UNKNOWN
    )
    injured_upper = models.IntegerField("injured: upper figure", null=True, blank=True)
    civilians = models.IntegerField("of whom civilians", null=True, blank=True)
    children = models.IntegerField("of whom children", null=True, blank=True)
    women = models.IntegerField("of whom women", null=True, blank=True)
    note = models.TextField(blank=True)
    # A dataset's event (UCDP GED, ACLED) is this report: a re-import finds it here, and one
    # incident carries the events of several datasets.
    dataset = models.CharField(max_length=10, choices=Incident.Dataset.choices, blank=True, editable=False)
    dataset_event_id = models.CharField("event id in the dataset", max_length=64, blank=True, editable=False)

    # Whether this is its source's current report on the incident: written only by incidents.tolls.
    is_current = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TollReportQuerySet.as_manager()
    # History is read by record and by incident (corrections, citations), never by source.
    history = HistoricalRecords(excluded_fields=["is_current", "version"], no_db_index=["source"])

    class Meta:
        verbose_name = "toll report"
        ordering = ["-published_on", "-pk"]
        constraints = [
            *figure_constraints("killed"),
            *figure_constraints("injured"),
            of_whom_constraint("civilians"),
            of_whom_constraint("children"),
            of_whom_constraint("women"),
            CheckConstraint(
                condition=Q(civilians__isnull=True) | Q(killed_counts=Population.ALL),
                name="report_of_whom_civilians_only_when_counting_everyone",
            ),
            CheckConstraint(
                condition=Q(killed_best__isnull=True)
                | (
                    Q(killed_best__gte=0, killed__isnull=False)
                    & (Q(killed_qualifier=figures.UP_TO) | Q(killed_best__gte=F("killed")))
                    & (
                        Q(killed_qualifier__in=figures.OPEN_QUALIFIERS)
                        | Q(killed_best__lte=Coalesce("killed_upper", "killed"))
                    )
                ),
                name="report_killed_best_within_the_figure",
            ),
            # A dataset's event is imported once (a report per population); re-imports find it here.
            models.UniqueConstraint(
                fields=["dataset", "dataset_event_id", "killed_counts"],
                condition=~Q(dataset=""),
                name="report_unique_dataset_event",
            ),
            *quote_constraints("report"),
        ]
        indexes = [
            # Incident pages and the range arithmetic read each incident's current reports.
            models.Index(fields=["incident", "is_current"], name="report_incident_current_idx"),
            # Source pages and the source filter: a source's reports, newest first.
            models.Index(fields=["source", "published_on"], name="report_source_date_idx"),
        ]

    def __str__(self):
        source = self.source.label if self.source_id else "?"
        return f"{source}: {self.killed_figure} killed ({self.published_on})"

    @property
    def killed_figure(self):
        return figures.Figure(self.killed_qualifier, self.killed, self.killed_upper)

    @property
    def injured_figure(self):
        return figures.Figure(self.injured_qualifier, self.injured, self.injured_upper)

    def clean(self):
        try:
            incident = self.incident
        except Incident.DoesNotExist:  # an inline on a new incident's form
            incident = None
        errors = report_errors(self, incident_start=incident.start_date if incident else None)
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        """Save the report and, through ``incidents.tolls``, its incident's figures (and those of
        the incident it moved from), in one transaction, the incidents locked first."""
        with transaction.atomic():
            previous_incident_id = self.lock_incidents()
            if previous_incident_id:
                self.move_version_on()
                if "update_fields" not in kwargs:
                    kwargs["update_fields"] = [
                        f.name
                        for f in self._meta.concrete_fields
                        if not f.primary_key and f.name != "is_current"
                    ]
            super().save(*args, **kwargs)
            tolls.refresh({self.incident_id, previous_incident_id})
            self.is_current = (
                TollReport._base_manager.filter(pk=self.pk).values_list("is_current", flat=True).first()
            )

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            self.lock_incidents()
            incident_id = self.incident_id
            result = super().delete(*args, **kwargs)
            tolls.refresh({incident_id})
        return result
