"""The domain of DESIGN.md: places, actors, sources, incidents and each source's figures.

Every rule is kept twice: a named database ``CheckConstraint`` (the backstop for
imports and scripts) and the same rule in ``clean()`` with a message on the field
that is wrong, for the admin.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import (
    Case,
    CheckConstraint,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents import figures
from incidents.slugs import unique_slug


class RulesInCleanMixin:
    """Leave CheckConstraints to the database when validating a form.

    Each CheckConstraint repeats a rule that ``clean()`` already explains on the
    field that is wrong; validating it again in ``full_clean()`` would only add a
    second, vaguer message ("Constraint ... is violated").
    """

    def get_constraints(self):
        return [
            (model, [c for c in constraints if not isinstance(c, CheckConstraint)])
            for model, constraints in super().get_constraints()
        ]


def today():
    return timezone.localdate()


def bump_version(instance):
    """The next version number, counted in the database so that concurrent saves never share one."""
    model = type(instance)
    model.objects.filter(pk=instance.pk).update(version=F("version") + 1)
    return model.objects.filter(pk=instance.pk).values_list("version", flat=True).first() or 1


# --- Places -------------------------------------------------------------------------------


class Location(RulesInCleanMixin, models.Model):
    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        ADMIN1 = "admin1", "Governorate / region (admin 1)"
        ADMIN2 = "admin2", "District (admin 2)"
        ADMIN3 = "admin3", "Sub-district (admin 3)"
        LOCALITY = "locality", "City, town or village"

    LEVELS = {kind: level for level, kind in enumerate(Kind.values)}

    name = models.CharField(max_length=200)
    name_ar = models.CharField("Arabic name", max_length=200, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The place this one lies in: a locality under its district or governorate.",
    )
    pcode = models.CharField(
        "P-code",
        max_length=20,
        null=True,
        blank=True,
        unique=True,
        help_text="OCHA place code, e.g. SY07 for Idlib governorate.",
    )
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    slug = models.SlugField(max_length=120, unique=True, blank=True)

    # Kept by save() so that "this place and everything beneath it" is one indexed
    # prefix match, and lists show "Jaftallak Haj Hamoud, Idlib, Syria" without joins.
    path = models.CharField(max_length=255, editable=False, default="")
    chain = models.CharField(max_length=600, editable=False, default="")
    country = models.ForeignKey(
        "self", null=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    admin1 = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, editable=False, related_name="+")
    admin2 = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, editable=False, related_name="+")

    history = HistoricalRecords(excluded_fields=["path", "chain", "country", "admin1", "admin2"])

    class Meta:
        ordering = ["chain"]
        constraints = [
            CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="location_latitude_in_range",
            ),
            CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="location_longitude_in_range",
            ),
            CheckConstraint(
                condition=~Q(kind="country") | Q(parent__isnull=True),
                name="location_country_has_no_parent",
            ),
        ]
        indexes = [
            # Filtering by a place includes everything beneath it: a prefix match on path.
            models.Index(fields=["path"], name="location_path_idx", opclasses=["varchar_pattern_ops"]),
            # Summary exports and admin filters group incidents by governorate.
            models.Index(fields=["kind", "name"], name="location_kind_name_idx"),
        ]

    SHORT_KIND = {
        "country": "country",
        "admin1": "governorate",
        "admin2": "district",
        "admin3": "sub-district",
        "locality": "place",
    }

    def __str__(self):
        # Several places can share a name (Idlib city, district, governorate): say which.
        return f"{self.short_chain} ({self.SHORT_KIND.get(self.kind, self.kind)})"

    def get_absolute_url(self):
        return reverse("location_detail", args=[self.slug])

    @property
    def short_chain(self):
        """The chain without repeated names: "Idlib, Syria" for Idlib city in Idlib district."""
        parts = []
        for part in (self.chain or self.name).split(", "):
            if not parts or parts[-1] != part:
                parts.append(part)
        return ", ".join(parts)

    @property
    def level(self):
        return self.LEVELS[self.kind]

    def clean(self):
        errors = {}
        if self.pcode is not None:
            self.pcode = self.pcode.strip().upper() or None
        if self.kind == self.Kind.COUNTRY and self.parent_id:
            errors["parent"] = "A country does not lie inside another place: clear the parent."
        elif self.parent_id and self.kind:
            parent = self.parent
            if self.pk and (parent.pk == self.pk or parent.path.startswith(self.path or "-")):
                errors["parent"] = "A place cannot lie inside itself or inside one of its own sub-places."
            elif parent.level >= self.level:
                errors["parent"] = (
                    f"A {self.get_kind_display().lower()} cannot lie inside a "
                    f"{parent.get_kind_display().lower()}: choose a larger place as parent."
                )
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            errors["latitude"] = "Latitude must be between -90 and 90."
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            errors["longitude"] = "Longitude must be between -180 and 180."
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = (
                "Give both latitude and longitude, or neither."
            )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.pcode is not None:
            self.pcode = self.pcode.strip().upper() or None
        if not self.slug:
            self.slug = unique_slug(
                Location,
                self.name,
                f"{self.name} {self.parent.name}" if self.parent_id else None,
                exclude_pk=self.pk,
                fallback=self.pcode or "place",
            )
        old = None
        if self.pk:
            old = Location.objects.filter(pk=self.pk).values("path", "chain").first()
        with transaction.atomic():
            self._set_ancestry()
            super().save(*args, **kwargs)
            # What depends on this row's own id is only known after the first INSERT.
            own = {"path": f"{self.parent.path if self.parent_id else '/'}{self.pk}/"}
            if self.kind in ("country", "admin1", "admin2"):
                own[f"{self.kind}_id"] = self.pk
            changed = {k: v for k, v in own.items() if getattr(self, k) != v}
            if changed:
                for name, value in changed.items():
                    setattr(self, name, value)
                Location.objects.filter(pk=self.pk).update(**changed)
            if old and (old["path"] != self.path or old["chain"] != self.chain):
                # Renamed or moved: its sub-places' chains and paths change too.
                for child in self.children.all():
                    child.save()

    def _set_ancestry(self):
        parent = self.parent if self.parent_id else None
        self.chain = f"{self.name}, {parent.chain}" if parent else self.name
        for level in ("country", "admin1", "admin2"):
            if self.kind == level:
                setattr(self, f"{level}_id", self.pk)
            else:
                setattr(self, f"{level}_id", getattr(parent, f"{level}_id") if parent else None)

    def beneath_q(self, prefix="location__"):
        """A filter for rows whose place is this one or lies beneath it.

        Countries, governorates and districts match on their indexed ancestor column, a plain
        equality; finer places match the path prefix.
        """
        if self.kind in ("country", "admin1", "admin2"):
            return Q(**{f"{prefix}{self.kind}": self})
        return Q(**{f"{prefix}path__startswith": self.path})

    def chain_places(self):
        """This place and those it lies in, smallest first, without repeated names (one query)."""
        places = []
        for place in [self, *reversed(self.ancestors())]:
            if not places or places[-1].name != place.name:
                places.append(place)
        return places

    def ancestors(self):
        """From the country down to the parent (one query)."""
        ids = [int(part) for part in self.path.strip("/").split("/")[:-1] if part]
        by_id = Location.objects.in_bulk(ids)
        return [by_id[i] for i in ids if i in by_id]


# --- Actors and sources ---------------------------------------------------------------------


class Actor(models.Model):
    class Kind(models.TextChoices):
        STATE_FORCES = "state_forces", "State forces"
        FOREIGN_FORCES = "foreign_forces", "Foreign state forces"
        NON_STATE_GROUP = "non_state_group", "Non-state armed group"
        UNIDENTIFIED = "unidentified", "Unidentified"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Actor, self.name, exclude_pk=self.pk, fallback="actor")
        super().save(*args, **kwargs)


class Source(models.Model):
    class Kind(models.TextChoices):
        GOVERNMENT = "government", "Government"
        MONITORING_GROUP = "monitoring_group", "Monitoring group / NGO"
        INTERNATIONAL_ORG = "international_org", "International organisation"
        MEDIA = "media", "News media"
        ARMED_GROUP = "armed_group", "Armed group"
        DATASET = "dataset", "Conflict dataset"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200, unique=True)
    short_name = models.CharField(
        max_length=40, blank=True, help_text="Used in tables and exports, e.g. SOHR. Defaults to the name."
    )
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    affiliation = models.TextField(
        blank=True, help_text="Who runs or funds it, and any side it is aligned with."
    )
    website = models.URLField(blank=True)

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
        if not self.slug:
            self.slug = unique_slug(Source, self.short_name, self.name, exclude_pk=self.pk, fallback="source")
        super().save(*args, **kwargs)


# --- Incidents --------------------------------------------------------------------------------


def count_sources_reporting(reports):
    """How many sources have a report among ``reports``. One query.

    Asked source by source with LIMIT 1, so that each of a few dozen sources costs an index
    probe that stops at its first match, instead of a DISTINCT over every report.
    """
    first = reports.filter(source=OuterRef("pk")).order_by().values("pk")[:1]
    return Source.objects.annotate(first_report=Subquery(first)).filter(first_report__isnull=False).count()


# The stored figures that totals add up; incident_date_figures_idx holds them too.
TOTALLED_FIELDS = ["killed_lowest", "killed_highest", "killed_highest_open", "is_disputed"]


def _sums_for_total():
    """The aggregates behind a ``figures.Total``.

    They name only columns of ``incident_date_figures_idx`` (COUNT(*), not COUNT(id)),
    so that the totals over every published incident are read from that index alone.
    """
    return {
        "incidents": Count("*"),
        "incidents_with_figures": Count("killed_lowest"),
        "disputed_incidents": Count("is_disputed", filter=Q(is_disputed=True)),
        "lowest": Coalesce(Sum("killed_lowest"), 0),
        "highest": Coalesce(Sum("killed_highest"), 0),
        "open_incidents": Count("killed_highest_open", filter=Q(killed_highest_open=True)),
    }


def _total(sums, sources=0):
    sums = dict(sums)
    open_incidents = sums.pop("open_incidents")
    return figures.Total(**sums, highest_open=open_incidents > 0, sources=sources)


class IncidentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Incident.Status.PUBLISHED)

    def disputed(self, flag=True):
        """Incidents whose sources disagree (or, with ``flag=False``, do not).

        Written as IN: Django turns ``is_disputed=True`` into a bare ``WHERE is_disputed``,
        which SQLite cannot look up in ``incident_disputed_idx``.
        """
        return self.filter(is_disputed__in=[flag])

    def beneath(self, location):
        """Incidents in ``location`` or any place beneath it."""
        return self.filter(location.beneath_q())

    def totals(self, sources=None):
        """The range over these incidents as a ``figures.Total``. Two queries (one when the
        caller already knows how many sources reported on them)."""
        sums = self.order_by().aggregate(**_sums_for_total())
        if sources is None:
            sources = (
                TollReport.objects.filter(is_current=True, incident__in=self.order_by().values("pk"))
                .values("source_id")
                .distinct()
                .count()
            )
        return _total(sums, sources=sources)

    def published_sources(self):
        """How many sources have a current figure on a published incident (one query).

        For all published incidents a DISTINCT over every report is slow; ``totals()`` keeps
        it for smaller sets, where it is the faster of the two.
        """
        return count_sources_reporting(
            TollReport.objects.filter(is_current=True, incident__status=Incident.Status.PUBLISHED)
        )

    def monthly_totals(self):
        """(first day of month, Total) for each month with incidents, oldest first. One query.

        Grouped by day in SQL and by month here: the day is an indexed column on every
        database (SQLite would call a Python function per row to truncate dates to months),
        and a few thousand days add up in a few milliseconds. ``sources`` is not counted per
        month: it would cost a query per month.
        """
        days = self.order_by().values("start_date").annotate(**_sums_for_total()).order_by("start_date")
        months = {}
        for day in days:
            month = day.pop("start_date").replace(day=1)
            sums = months.setdefault(month, dict.fromkeys(day, 0))
            for name, value in day.items():
                sums[name] += value
        return [(month, _total(sums)) for month, sums in months.items()]

    def with_figures(self):
        """Each incident's range computed in SQL from its current reports.

        Annotates ``current_lowest``, ``current_highest``, ``current_highest_open``,
        ``current_figure_count``, ``current_source_count`` and ``current_disputed``;
        the same arithmetic as ``incidents.figures``. Lists read the stored copies
        (``killed_lowest`` ...) instead; this is what refreshes them in bulk.
        """
        current = TollReport.objects.filter(incident=OuterRef("pk"), is_current=True).order_by()
        with_number = current.filter(killed__isnull=False)

        def per_incident(queryset, aggregate):
            return Subquery(queryset.values("incident").annotate(v=aggregate).values("v"))

        return self.annotate(
            current_lowest=per_incident(with_number, Min("killed")),
            current_highest=per_incident(with_number, Max(Coalesce("killed_upper", "killed"))),
            current_figure_count=Coalesce(per_incident(with_number, Count("pk")), 0),
            current_source_count=Coalesce(per_incident(current, Count("pk")), 0),
        ).annotate(
            current_highest_open=Exists(
                with_number.filter(
                    killed_qualifier__in=figures.OPEN_QUALIFIERS, killed=OuterRef("current_highest")
                )
            ),
            current_disputed=Case(
                When(
                    Q(current_figure_count__gte=2) & ~Q(current_lowest=F("current_highest")),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=models.BooleanField(),
            ),
        )

    def refresh_figures(self):
        """Recompute current reports and stored ranges for these incidents in bulk.

        For bulk loads (imports, synthetic data) that bypass ``TollReport.save()``.
        """
        TollReport.objects.filter(incident__in=self.values("pk")).refresh_current()
        batch = []
        for incident in self.with_figures().only("pk").iterator(chunk_size=2000):
            toll = figures.TollRange(
                lowest=incident.current_lowest,
                highest=incident.current_highest,
                highest_open=incident.current_highest_open,
                figure_count=incident.current_figure_count,
                source_count=incident.current_source_count,
            )
            incident.store_range(toll)
            batch.append(incident)
            if len(batch) == 2000:
                Incident.objects.bulk_update(batch, Incident.FIGURE_FIELDS)
                batch = []
        Incident.objects.bulk_update(batch, Incident.FIGURE_FIELDS)


class Incident(RulesInCleanMixin, models.Model):
    class Kind(models.TextChoices):
        # ACLED's sub-event vocabulary, grouped.
        AIR_STRIKE = "air_strike", "Air or drone strike"
        SHELLING = "shelling", "Shelling, artillery or missile attack"
        ARMED_CLASH = "armed_clash", "Armed clash"
        REMOTE_EXPLOSIVE = "remote_explosive", "Remote explosive / landmine / IED"
        CHEMICAL_WEAPON = "chemical_weapon", "Chemical weapon"
        SUICIDE_BOMB = "suicide_bomb", "Suicide bomb"
        ATTACK = "attack", "Attack on civilians"
        OTHER = "other", "Other"

    class DatePrecision(models.TextChoices):
        DAY = "day", "Exact day"
        DAYS = "days", "Within a few days"
        WEEK = "week", "Within a week"
        MONTH = "month", "Within a month"
        YEAR = "year", "Within a year"

    class LocationPrecision(models.TextChoices):
        EXACT = "exact", "Exact place"
        NEAR = "near", "Near the place"
        ADMIN2 = "admin2", "Somewhere in the district"
        ADMIN1 = "admin1", "Somewhere in the governorate"
        COUNTRY = "country", "Somewhere in the country"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    # Stored copies of the range over current reports, written only by refresh_figures().
    FIGURE_FIELDS = [
        "killed_lowest",
        "killed_highest",
        "killed_highest_open",
        "killed_spread",
        "figure_count",
        "source_count",
        "is_disputed",
    ]

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    summary = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    start_date = models.DateField(help_text="The day it happened, or the first day.")
    end_date = models.DateField(
        null=True, blank=True, help_text="Only when it lasted several days or the day is uncertain."
    )
    date_precision = models.CharField(max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="incidents")
    place = models.CharField(max_length=200, blank=True, help_text="Free text, e.g. “military academy”.")
    location_precision = models.CharField(
        max_length=10, choices=LocationPrecision.choices, default=LocationPrecision.EXACT
    )
    perpetrators = models.ManyToManyField(
        Actor,
        blank=True,
        related_name="incidents_perpetrated",
        verbose_name="alleged perpetrators",
    )
    claimed_by = models.ManyToManyField(
        Actor,
        blank=True,
        related_name="incidents_claimed",
        help_text="Leave empty when nobody claimed responsibility.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    related = models.ManyToManyField("self", blank=True, verbose_name="related incidents")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # Bumped on every save; the admin refuses a save made from an older version (no lost edits).
    version = models.PositiveIntegerField(default=1)

    class Dataset(models.TextChoices):
        UCDP = "ucdp", "UCDP GED"
        ACLED = "acled", "ACLED"

    # Where an imported incident came from, so that a re-import updates it instead of duplicating it.
    dataset = models.CharField(max_length=10, choices=Dataset.choices, blank=True, editable=False)
    dataset_event_id = models.CharField("event id in the dataset", max_length=64, blank=True, editable=False)

    killed_lowest = models.IntegerField(null=True, editable=False)
    killed_highest = models.IntegerField(null=True, editable=False)
    killed_highest_open = models.BooleanField(default=False, editable=False)
    killed_spread = models.IntegerField(default=0, editable=False)
    figure_count = models.IntegerField(default=0, editable=False)
    source_count = models.IntegerField(default=0, editable=False)
    is_disputed = models.BooleanField(default=False, editable=False)

    objects = IncidentQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[*FIGURE_FIELDS, "version"], m2m_fields=["perpetrators", "claimed_by"]
    )

    class Meta:
        ordering = ["-start_date", "-pk"]
        permissions = [
            ("publish_incident", "Can publish, unpublish and delete published incidents"),
            ("export_data", "Can export CSV data"),
        ]
        constraints = [
            CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="incident_end_not_before_start",
            ),
            CheckConstraint(
                condition=Q(killed_lowest__isnull=True)
                | Q(killed_lowest__gte=0, killed_highest__gte=F("killed_lowest")),
                name="incident_stored_range_ordered",
            ),
            # A dataset's event is imported once; re-imports find it here.
            models.UniqueConstraint(
                fields=["dataset", "dataset_event_id"],
                condition=~Q(dataset=""),
                name="incident_unique_dataset_event",
            ),
        ]
        # Status is never the first column: nearly every incident is published, so an index
        # that starts with it narrows nothing, and SQLite, which cannot see that, would read
        # the whole table through it (searching text took five times as long).
        indexes = [
            # /incidents/ newest and oldest first and the date filters. It also holds the stored
            # figures, so that the totals over every published incident (home page) and per
            # month are read from this index alone, not from every row of the table.
            models.Index(fields=["start_date", *TOTALLED_FIELDS, "status"], name="incident_date_figures_idx"),
            # Sorting by highest toll and the min_killed filter.
            models.Index(fields=["killed_highest"], name="incident_toll_idx"),
            # "Most disputed" on the home page and the disputed filter.
            models.Index(fields=["is_disputed", "killed_spread"], name="incident_disputed_idx"),
            # The kind filter.
            models.Index(fields=["kind", "start_date"], name="incident_kind_date_idx"),
            # The feed: the most recently published first.
            models.Index(fields=["published_at", "id"], name="incident_published_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("incident_detail", args=[self.slug])

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def toll(self):
        """The stored range as a ``figures.TollRange`` (no query)."""
        return figures.TollRange(
            lowest=self.killed_lowest,
            highest=self.killed_highest,
            highest_open=self.killed_highest_open,
            figure_count=self.figure_count,
            source_count=self.source_count,
        )

    def clean(self):
        errors = {}
        now = today()
        if self.start_date and self.start_date > now:
            errors["start_date"] = "This date is in the future: enter the day the incident happened."
        if self.end_date:
            if self.start_date and self.end_date < self.start_date:
                errors["end_date"] = "The end date cannot be before the start date."
            elif self.end_date > now:
                errors["end_date"] = "This date is in the future."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(
                Incident,
                self.title,
                f"{self.title} {self.start_date}",
                exclude_pk=self.pk,
                fallback=f"{self.kind}-{self.start_date}",
            )
        if self.pk and self._state.adding is False and "update_fields" not in kwargs:
            # The stored range belongs to refresh_figures(): never write back a stale copy.
            kwargs["update_fields"] = [
                f.attname
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.FIGURE_FIELDS
            ]
            self.version = bump_version(self)
        super().save(*args, **kwargs)

    def store_range(self, toll):
        self.killed_lowest = toll.lowest
        self.killed_highest = toll.highest
        self.killed_highest_open = toll.highest_open
        self.killed_spread = toll.spread
        self.figure_count = toll.figure_count
        self.source_count = toll.source_count
        self.is_disputed = toll.is_disputed

    def refresh_figures(self):
        """Mark each source's latest report current and store the range. Three to five queries."""
        reports = list(self.reports.order_by("source_id", "-published_on", "-pk"))
        current_ids = set()
        seen_sources = set()
        for report in reports:
            if report.source_id not in seen_sources:
                seen_sources.add(report.source_id)
                current_ids.add(report.pk)
        self.reports.filter(is_current=True).exclude(pk__in=current_ids).update(is_current=False)
        self.reports.filter(pk__in=current_ids, is_current=False).update(is_current=True)
        toll = figures.incident_range(r.killed_figure for r in reports if r.pk in current_ids)
        self.store_range(toll)
        Incident.objects.filter(pk=self.pk).update(
            **{name: getattr(self, name) for name in self.FIGURE_FIELDS}
        )
        return toll

    def likely_duplicates(self):
        """Other incidents within two days at the same place or in the same district."""
        if not (self.start_date and self.location_id):
            return Incident.objects.none()
        window = timezone.timedelta(days=2)
        start, end = self.start_date - window, (self.end_date or self.start_date) + window
        location = self.location
        same_area = Q(location=location)
        if location.admin2_id:
            same_area |= Q(location__path__startswith=location.admin2.path)
        overlapping = Q(start_date__lte=end) & (
            Q(end_date__isnull=True, start_date__gte=start) | Q(end_date__gte=start)
        )
        return (
            Incident.objects.filter(same_area, overlapping)
            .exclude(pk=self.pk)
            .select_related("location")
            .order_by("start_date")
        )


# --- Reports --------------------------------------------------------------------------------


class Qualifier(models.TextChoices):
    EXACT = figures.EXACT, "exactly"
    AT_LEAST = figures.AT_LEAST, "at least"
    MORE_THAN = figures.MORE_THAN, "more than"
    ABOUT = figures.ABOUT, "about"
    UP_TO = figures.UP_TO, "up to"
    BETWEEN = figures.BETWEEN, "between … and …"
    UNKNOWN = figures.UNKNOWN, "unknown"


def figure_constraints(field):
    """The one-row rules of a figure (``killed`` or ``injured``) as database constraints."""
    qualifier, upper = f"{field}_qualifier", f"{field}_upper"
    return [
        CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
            name=f"report_{field}_not_negative",
        ),
        CheckConstraint(
            condition=Q(**{qualifier: figures.UNKNOWN, f"{field}__isnull": True})
            | (~Q(**{qualifier: figures.UNKNOWN}) & Q(**{f"{field}__isnull": False})),
            name=f"report_{field}_number_unless_unknown",
        ),
        CheckConstraint(
            condition=(Q(**{f"{upper}__isnull": True}) & ~Q(**{qualifier: figures.BETWEEN}))
            | Q(**{qualifier: figures.BETWEEN, f"{upper}__isnull": False, f"{upper}__gt": F(field)}),
            name=f"report_{field}_upper_only_for_between",
        ),
    ]


def of_whom_constraint(field):
    return CheckConstraint(
        condition=Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__gte": 0, "killed__isnull": True})
        | Q(**{f"{field}__gte": 0, f"{field}__lte": Coalesce("killed_upper", "killed")}),
        name=f"report_{field}_within_killed",
    )


class TollReportQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def refresh_current(self):
        """Mark each source's latest report per incident as current, in one UPDATE."""
        newer = TollReport.objects.filter(
            incident_id=OuterRef("incident_id"), source_id=OuterRef("source_id")
        ).filter(
            Q(published_on__gt=OuterRef("published_on"))
            | Q(published_on=OuterRef("published_on"), pk__gt=OuterRef("pk"))
        )
        return self.update(is_current=~Exists(newer))


class TollReport(RulesInCleanMixin, models.Model):
    Qualifier = Qualifier

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="reports")
    source = models.ForeignKey(
        Source,
        on_delete=models.PROTECT,
        related_name="reports",
        error_messages={"null": "Choose the source that published this figure."},
    )
    published_on = models.DateField(help_text="The day the source published this figure.")
    url = models.URLField(
        "link",
        max_length=500,
        blank=True,
        help_text="Where the source published it. Leave empty only when it was not published online, "
        "and say where it came from in the note.",
    )
    archive_url = models.URLField("archived copy", max_length=500, blank=True)
    quote = models.TextField(blank=True, help_text="The source's exact words, in any language.")

    killed = models.IntegerField(null=True, blank=True)
    killed_qualifier = models.CharField(
        "killed: as stated", max_length=10, choices=Qualifier.choices, default=Qualifier.EXACT
    )
    killed_upper = models.IntegerField("killed: upper figure", null=True, blank=True)
    injured = models.IntegerField(null=True, blank=True)
    injured_qualifier = models.CharField(
        "injured: as stated", max_length=10, choices=Qualifier.choices, default=Qualifier.UNKNOWN
    )
    injured_upper = models.IntegerField("injured: upper figure", null=True, blank=True)
    civilians = models.IntegerField("of whom civilians", null=True, blank=True)
    children = models.IntegerField("of whom children", null=True, blank=True)
    women = models.IntegerField("of whom women", null=True, blank=True)
    note = models.TextField(blank=True)

    version = models.PositiveIntegerField(default=1)
    # Whether this is its source's latest report on the incident; kept by Incident.refresh_figures().
    is_current = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TollReportQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["is_current", "version"])

    class Meta:
        verbose_name = "toll report"
        ordering = ["-published_on", "-pk"]
        constraints = [
            *figure_constraints("killed"),
            *figure_constraints("injured"),
            of_whom_constraint("civilians"),
            of_whom_constraint("children"),
            of_whom_constraint("women"),
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
        errors = {}
        for field in ("killed", "injured"):
            errors.update(self._figure_errors(field))
        if "killed" not in errors and "killed_upper" not in errors:
            bound = self.killed_figure.high
            for field in ("civilians", "children", "women"):
                value = getattr(self, field)
                if value is None:
                    continue
                if value < 0:
                    errors[field] = "A figure cannot be negative."
                elif bound is not None and value > bound:
                    errors[field] = (
                        f"This cannot be more than the number killed ({bound:,}): "
                        "it counts some of the people killed."
                    )
        try:
            incident = self.incident
        except Incident.DoesNotExist:  # an inline on a new incident's form
            incident = None
        if self.published_on:
            if self.published_on > today():
                errors["published_on"] = "This date is in the future."
            elif incident and incident.start_date and self.published_on < incident.start_date:
                errors["published_on"] = (
                    "A report cannot be published before the incident started "
                    f"({incident.start_date:%-d %B %Y})."
                )
        if errors:
            raise ValidationError(errors)

    def _figure_errors(self, field):
        value = getattr(self, field)
        qualifier = getattr(self, f"{field}_qualifier")
        upper = getattr(self, f"{field}_upper")
        label = "killed" if field == "killed" else "injured"
        if value is not None and value < 0:
            return {field: "A figure cannot be negative."}
        if qualifier == figures.UNKNOWN and value is not None:
            return {
                f"{field}_qualifier": "'unknown' cannot go with a number: clear the figure or say "
                "how the source put it (exactly, at least …)."
            }
        if qualifier != figures.UNKNOWN and value is None:
            return {
                field: f"Enter the number of people {label}, or choose 'unknown' if the source gives none."
            }
        if qualifier == figures.BETWEEN and (upper is None or upper <= value):
            return {f"{field}_upper": "'between' needs an upper figure larger than the lower one."}
        if qualifier != figures.BETWEEN and upper is not None:
            return {
                f"{field}_upper": "Only a 'between' figure has an upper figure: choose 'between' or clear it."
            }
        return {}

    def save(self, *args, **kwargs):
        previous_incident_id = None
        if self.pk:
            previous_incident_id = (
                TollReport.objects.filter(pk=self.pk).values_list("incident_id", flat=True).first()
            )
        with transaction.atomic():
            if previous_incident_id:
                self.version = bump_version(self)
            super().save(*args, **kwargs)
            self.incident.refresh_figures()
            if previous_incident_id and previous_incident_id != self.incident_id:
                Incident.objects.get(pk=previous_incident_id).refresh_figures()

    def delete(self, *args, **kwargs):
        incident = self.incident
        with transaction.atomic():
            result = super().delete(*args, **kwargs)
            incident.refresh_figures()
        return result
