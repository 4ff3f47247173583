"""Incidents: what happened, when and where; their stored figures and status are written elsewhere.

The range over an incident's current reports is stored on the incident by ``incidents.tolls``
and its status by ``incidents.workflow``; ``save()`` and ``update()`` here never write them.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import CheckConstraint, F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from incidents import figures, tolls
from incidents.models.base import RulesInCleanMixin, Versioned, today
from incidents.models.parties import Actor
from incidents.models.places import Location, in_english
from incidents.search import fold_arabic, has_arabic
from incidents.slugs import save_with_free_slug

# The stored figures that totals add up; incident_date_figures_idx holds them too. Incidents in a
# part tree (a whole or a part) are added up apart, in Python (stats.totals), never twice.
TOTALLED_FIELDS = ["killed_lowest", "killed_highest", "killed_highest_open", "is_disputed", "in_part_tree"]


# The entered fields that say where the totals count an incident: its month and its place.
COUNTED_BY = ["start_date", "location", "location_id"]


class IncidentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status="published")

    def disputed(self, flag=True):
        """Incidents whose sources disagree (or, with ``flag=False``, do not).

        Written as IN: Django turns ``is_disputed=True`` into a bare ``WHERE is_disputed``,
        which SQLite cannot look up in ``incident_disputed_idx``.
        """
        return self.filter(is_disputed__in=[flag])

    def contradictory(self, flag=True):
        """Incidents where no single toll fits every source's figure (or, with False, the others).
        Written as IN, like ``disputed()``."""
        return self.filter(is_contradictory__in=[flag])

    def beneath(self, location):
        """Incidents in ``location`` or any place beneath it."""
        return self.filter(location.beneath_q())

    def count_placed(self):
        """``{"total": n, "placed": m}``: how many incidents, and how many of them a map can show
        (with their own coordinates or their place's, the API's rule: ``represent.coordinates``;
        an incident has both or neither). One query."""
        own = Q(latitude__isnull=False)
        place = Q(location__latitude__isnull=False, location__longitude__isnull=False)
        return self.order_by().aggregate(
            total=models.Count("pk"), placed=models.Count("pk", filter=own | place)
        )

    def update(self, **values):
        refuse_derived_writes(self.model, values)
        if not set(Incident.SEARCHED_FIELDS) & set(values):
            return self._update_entered(values)
        with transaction.atomic():
            ids = list(self.values_list("pk", flat=True))
            updated = self._update_entered(values)
            refresh_search_text(ids)
        return updated

    def _update_entered(self, values):
        moves_trees = "part_of" in values or "part_of_id" in values
        if not moves_trees and not set(COUNTED_BY) & set(values):
            return super().update(**values)
        with transaction.atomic():
            before = dict(self.values_list("pk", "part_of"))
            updated = super().update(**values)
            if not moves_trees:
                tolls.recount(before)  # the totals count each incident in its month and at its place
                return updated
            # Part trees change: the one writer marks them (and recounts the months).
            after = list(Incident.objects.filter(pk__in=before))
            for incident in after:
                if incident.part_of_id and incident.pk in incident.part_of.wholes_ids():
                    raise ValueError(f"Incident {incident.pk} would be part of its own part.")
            tolls.refresh({*before, *before.values(), *(incident.part_of_id for incident in after)})
        return updated

    def bulk_update(self, objs, fields, *args, **kwargs):
        refuse_derived_writes(self.model, dict.fromkeys(fields))
        objs = list(objs)
        if not {"part_of", "part_of_id", *COUNTED_BY} & set(fields):
            # Django's bulk_update ends in update(), which writes search_ar again.
            return super().bulk_update(objs, fields, *args, **kwargs)
        with transaction.atomic():  # as update(): part trees and months change
            before = dict(Incident.objects.filter(pk__in=[o.pk for o in objs]).values_list("pk", "part_of"))
            updated = super().bulk_update(objs, fields, *args, **kwargs)
            tolls.refresh({*before, *before.values(), *(o.part_of_id for o in objs)})
        return updated

    def delete(self):
        """Delete, after taking the incidents out of the month totals; their wholes are then
        refreshed (they may have no part left)."""
        with transaction.atomic():
            wholes = dict(self.values_list("pk", "part_of"))
            tolls.lock({*wholes, *wholes.values()})  # the wholes too: refreshed after the totals' lock
            tolls.forget(wholes)
            result = super().delete()
            tolls.refresh(wholes.values())
        return result

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for incident in objs:
            incident.search_ar = incident.folded_arabic()
        if any(incident.status != "draft" for incident in objs):
            raise ValueError("New incidents start as drafts: publish them with workflow.publish_incidents().")
        with transaction.atomic():
            created = super().bulk_create(objs, *args, **kwargs)
            parts = [incident for incident in created if incident.part_of_id]
            tolls.refresh({pk for part in parts for pk in (part.pk, part.part_of_id)})  # part trees
        return created

    def _write_status(self, **values):
        """For ``incidents.workflow`` only, the one place where the status changes (with the
        version and ``updated_at``, as a save moves them on)."""
        if set(values) - {*Incident.WORKFLOW_FIELDS, "version", "updated_at"}:
            raise ValueError("Only the status, published_at and published_by are written this way.")
        return super().update(**values)


def refresh_search_text(ids):
    """Write ``search_ar`` again for these incidents (after an ``update()`` of their Arabic text)."""
    rows = Incident._base_manager.filter(pk__in=ids)
    for incident in rows.only("pk", *Incident.SEARCHED_FIELDS):
        models.QuerySet.update(rows.filter(pk=incident.pk), search_ar=incident.folded_arabic())


def refuse_derived_writes(model, values):
    derived = sorted(set(values) & {*model.FIGURE_FIELDS, *model.WORKFLOW_FIELDS, "search_ar"})
    if derived:
        raise ValueError(
            f"{', '.join(derived)}: written only by incidents.tolls (figures), incidents.workflow (status) "
            "or Incident.save() (search_ar)."
        )


def coordinate_errors(latitude, longitude):
    """Field messages for a latitude and longitude pair (both or neither, within range)."""
    errors = {}
    if latitude is not None and not -90 <= latitude <= 90:
        errors["latitude"] = "Latitude must be between -90 and 90."
    if longitude is not None and not -180 <= longitude <= 180:
        errors["longitude"] = "Longitude must be between -180 and 180."
    if (latitude is None) != (longitude is None) and not errors:
        errors["longitude" if longitude is None else "latitude"] = (
            "Give both latitude and longitude, or neither."
        )
    return errors


# "somewhere in the governorate": whole phrases, for the level names a country may use (places.LEVEL_NAMES).
SOMEWHERE_IN = {
    "governorate": _("somewhere in the governorate"),
    "province": _("somewhere in the province"),
    "state": _("somewhere in the state"),
    "region": _("somewhere in the region"),
    "district": _("somewhere in the district"),
    "county": _("somewhere in the county"),
    "department": _("somewhere in the department"),
    "municipality": _("somewhere in the municipality"),
    "admin 1": _("somewhere in the admin 1 area"),
    "admin 2": _("somewhere in the admin 2 area"),
}


def incident_errors(record, *, as_of=None):
    """{field: message} for an incident's dates and coordinates: the rules of ``Incident.clean()``
    that read no other row. ``record`` is an ``Incident`` or any object with its fields as
    attributes (an import's row); ``as_of`` is the day it is (default: ``today()``)."""
    errors = {}
    now = as_of or today()
    if record.start_date and record.start_date > now:
        errors["start_date"] = "This date is in the future: enter the day the incident happened."
    if record.end_date:
        if record.start_date and record.end_date < record.start_date:
            errors["end_date"] = "The end date cannot be before the start date."
        elif record.end_date > now:
            errors["end_date"] = "This date is in the future."
    errors.update(coordinate_errors(record.latitude, record.longitude))
    return errors


def search_text(record):
    """What an incident's ``search_ar`` holds: the Arabic title and summary, and the title, summary
    and place when they hold Arabic, folded (incidents.search). ``record`` as ``incident_errors``."""
    texts = [
        record.title_ar,
        record.summary_ar,
        *(t for t in (record.title, record.summary, record.place) if has_arabic(t)),
    ]
    return fold_arabic("\n".join(text for text in texts if text))


class Incident(RulesInCleanMixin, Versioned):
    class Kind(models.TextChoices):
        # ACLED's sub-event vocabulary, grouped.
        AIR_STRIKE = "air_strike", _("Air or drone strike")
        SHELLING = "shelling", _("Shelling, artillery or missile attack")
        ARMED_CLASH = "armed_clash", _("Armed clash")
        REMOTE_EXPLOSIVE = "remote_explosive", _("Remote explosive / landmine / IED")
        CHEMICAL_WEAPON = "chemical_weapon", _("Chemical weapon")
        SUICIDE_BOMB = "suicide_bomb", _("Suicide bomb")
        ATTACK = "attack", _("Attack on civilians")
        OTHER = "other", pgettext_lazy("kind of incident", "Other")

    class DatePrecision(models.TextChoices):
        DAY = "day", _("Exact day")
        DAYS = "days", _("Within a few days")
        WEEK = "week", _("Within a week")
        MONTH = "month", _("Within a month")
        YEAR = "year", _("Within a year")

    class LocationPrecision(models.TextChoices):
        EXACT = "exact", _("Exact place")
        NEAR = "near", _("Near the place")
        ADMIN2 = "admin2", _("Somewhere in the admin 2 area (district…)")
        ADMIN1 = "admin1", _("Somewhere in the admin 1 area (governorate, province, state…)")
        REGION = "region", _("Somewhere in a region larger than an admin 1 area")
        COUNTRY = "country", _("Somewhere in the country")
        WATER_AIRSPACE = "water_airspace", _("At sea or in the air")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", pgettext_lazy("status", "Published")

    # Stored copies of the range over current reports: written only by incidents.tolls.refresh().
    FIGURE_FIELDS = [
        "killed_lowest",
        "killed_highest",
        "killed_highest_open",
        "killed_spread",
        "figure_count",
        "source_count",
        "is_disputed",
        "killed_agreement",
        "killed_is_floor",
        "killed_contradictory",
        "civilians_lowest",
        "civilians_highest",
        "civilians_highest_open",
        "is_contradictory",
        "in_part_tree",
        "attribution_disputed",
        "totalled_in",
        "totalled_at",
    ]
    TOTALLED_FIELDS = TOTALLED_FIELDS
    # The fields whose Arabic text search_ar holds.
    SEARCHED_FIELDS = ["title_ar", "summary_ar", "title", "summary", "place"]
    # Written only by incidents.workflow, the one place where an incident is published or unpublished.
    WORKFLOW_FIELDS = ["status", "published_at", "published_by"]

    title = models.CharField(max_length=200)
    title_ar = models.CharField("title in Arabic", max_length=200, blank=True)
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    summary = models.TextField(blank=True)
    summary_ar = models.TextField("summary in Arabic", blank=True)
    # The incident's Arabic text, folded for the search (incidents.search): the Arabic title and
    # summary, and the title, summary and place when they hold Arabic. Kept by save(),
    # bulk_create() and update() (bulk_update ends in it), never entered.
    search_ar = models.TextField(blank=True, default="", editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    start_date = models.DateField(help_text="The day it happened, or the first day.")
    end_date = models.DateField(
        null=True, blank=True, help_text="Only when it lasted several days or the day is uncertain."
    )
    date_precision = models.CharField(max_length=10, choices=DatePrecision.choices, default=DatePrecision.DAY)
    # No index of its own: incident_place_figures_idx begins with it.
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="incidents", db_index=False)
    place = models.CharField(max_length=200, blank=True, help_text="Free text, e.g. “military academy”.")
    location_precision = models.CharField(
        max_length=20, choices=LocationPrecision.choices, default=LocationPrecision.EXACT
    )
    # More precise than the place's own (a compound inside a town); imports match events by them.
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Only if more precise than the place's.",
    )
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # Derived from the attributions by incidents.tolls (filters and history read them):
    # actors that at least one source currently alleges, and actors that currently claim it.
    perpetrators = models.ManyToManyField(
        Actor,
        blank=True,
        editable=False,
        related_name="incidents_perpetrated",
        verbose_name="alleged perpetrators",
    )
    claimed_by = models.ManyToManyField(Actor, blank=True, editable=False, related_name="incidents_claimed")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, editable=False)
    related = models.ManyToManyField("self", blank=True, verbose_name="related incidents")
    part_of = models.ForeignKey(  # no index of its own: incident_parts_idx begins with it
        "self",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="parts",
        verbose_name="part of",
        help_text="The larger incident this one is part of (a day's shelling within a wave; a child "
        "“among the victims” of an attack). Totals then count its deaths within the whole, never twice.",
    )
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

    # The datasets whose events are imported; each event is a report (TollReport.dataset_event_id).
    class Dataset(models.TextChoices):
        UCDP = "ucdp", "UCDP GED"
        ACLED = "acled", "ACLED"

    killed_lowest = models.IntegerField(null=True, editable=False)
    killed_highest = models.IntegerField(null=True, editable=False)
    killed_highest_open = models.BooleanField(default=False, editable=False)
    killed_spread = models.IntegerField(default=0, editable=False)
    figure_count = models.IntegerField(default=0, editable=False)
    source_count = models.IntegerField(default=0, editable=False)
    is_disputed = models.BooleanField(default=False, editable=False)  # sources differ, in any population
    killed_agreement = models.CharField(
        max_length=10, blank=True, editable=False
    )  # agree, differ, contradict
    killed_is_floor = models.BooleanField(default=False, editable=False)  # from civilian + combatant figures
    killed_contradictory = models.BooleanField(default=False, editable=False)
    civilians_lowest = models.IntegerField(null=True, editable=False)
    civilians_highest = models.IntegerField(null=True, editable=False)
    civilians_highest_open = models.BooleanField(default=False, editable=False)
    is_contradictory = models.BooleanField(default=False, editable=False)  # no toll fits every figure
    in_part_tree = models.BooleanField(default=False, editable=False)  # a whole or a part of one
    # Sources currently allege different actors, or an alleged actor denies (incidents.blame).
    attribution_disputed = models.BooleanField(default=False, editable=False)
    # The month whose totals (MonthTotal) count this incident: the first day of its start date's
    # month while it is published, empty while it is a draft. What the totals hold, so that a
    # change of status, date or figures is added to them as a difference (incidents.tolls).
    totalled_in = models.DateField(null=True, editable=False)
    # The same for the place totals (PlaceTotal): the id of the place whose row counts it (its
    # location while it is published), empty while it is a draft.
    totalled_at = models.IntegerField(null=True, editable=False)

    objects = IncidentQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[*FIGURE_FIELDS, "version", "search_ar"],
        m2m_fields=["perpetrators", "claimed_by"],
        # History is read by record (its id) and by date, never by these: indexes on them were
        # only written to, on every change of every incident.
        no_db_index=["slug", "location", "part_of", "published_by"],
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
            CheckConstraint(condition=~Q(part_of=F("pk")), name="incident_not_part_of_itself"),
            # Every way of publishing records when (incidents.workflow); the feed relies on it.
            CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="incident_published_has_published_at",
            ),
            CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(
                    latitude__isnull=False,
                    longitude__isnull=False,
                    latitude__gte=-90,
                    latitude__lte=90,
                    longitude__gte=-180,
                    longitude__lte=180,
                ),
                name="incident_coordinates_both_and_in_range",
            ),
        ]
        # Status is never the first column: nearly every incident is published, so an index
        # that starts with it narrows nothing, and SQLite, which cannot see that, would read
        # the whole table through it (searching text took five times as long).
        indexes = [
            # /incidents/ newest and oldest first and the date filters, in the list's whole order
            # (date, then id): the list and reports.csv come from the index in order, with no
            # sort (at 1,000,000 incidents, reports.csv's query sorted every date's reports). It
            # also holds the stored figures, so that the totals over every published incident
            # (home page) and per month are read from this index alone, not from every row.
            models.Index(
                fields=["start_date", "id", *TOTALLED_FIELDS, "status"], name="incident_date_figures_idx"
            ),
            # The same for a place's totals (place pages): the incidents of a place and its
            # sub-places, their stored figures and their ids (for the sources reporting on them)
            # read from this index alone, not from the table. With the kind and the start date: a
            # place and a kind (and dates) are counted by probing each of the place's sub-places
            # for that kind (8,400 entries for a governorate's shelling at 1,000,000 incidents),
            # instead of reading every shelling in the kind index (118,000).
            models.Index(
                fields=["location", "status", "kind", "start_date", *TOTALLED_FIELDS, "id"],
                name="incident_place_figures_idx",
            ),
            # Sorting by highest toll and the min_killed filter.
            models.Index(fields=["killed_highest"], name="incident_toll_idx"),
            # "Most disputed" on the home page and the disputed filter.
            models.Index(fields=["is_disputed", "killed_spread"], name="incident_disputed_idx"),
            # An incident page lists its parts, in date order.
            models.Index(fields=["part_of", "start_date"], name="incident_parts_idx"),
            # Totals add the few incidents in a part tree apart (stats.tree_members).
            models.Index(
                fields=["start_date"], name="incident_part_tree_idx", condition=Q(in_part_tree=True)
            ),
            # The same for a place's totals (stats.place_total): its part-tree incidents, place by place.
            models.Index(
                fields=["location", "start_date"],
                name="incident_part_tree_place_idx",
                condition=Q(in_part_tree=True),
            ),
            # The contradictory filter.
            models.Index(fields=["is_contradictory", "killed_spread"], name="incident_contradictory_idx"),
            # The kind filter. With the status and place, a filtered list counts its matches from
            # this index alone (kind, dates, a place: /incidents/?location=…&kind=…).
            models.Index(fields=["kind", "start_date", "status", "location"], name="incident_kind_date_idx"),
            # The feed: the most recently published first.
            models.Index(fields=["published_at", "id"], name="incident_published_idx"),
            # The few incidents with a point of their own, by place: the map counts those at
            # places without coordinates (stats.placed_count) without reading every incident.
            models.Index(
                fields=["location"], name="incident_own_point_idx", condition=Q(latitude__isnull=False)
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("incident_detail", args=[self.slug])

    def folded_arabic(self):
        """What ``search_ar`` holds (``search_text``)."""
        return search_text(self)

    @property
    def location_precision_words(self):
        """ "somewhere in the governorate", in the words of the place's country (reads the
        place and its country unless loaded: select_related("location__country"))."""
        if self.location_precision in (self.LocationPrecision.ADMIN1, self.LocationPrecision.ADMIN2):
            level = Location(kind=self.location_precision, country=self.location.country)
            named = level.level_name
            if (named if in_english() else named.lower()) in SOMEWHERE_IN:
                return str(SOMEWHERE_IN[named if in_english() else named.lower()])
            if not in_english():  # a level name only the country's English knows: the neutral words
                return str(SOMEWHERE_IN[level.SHORT_KIND[level.kind]])
            # A country that does not name its levels: "somewhere in the admin 1 area".
            return f"somewhere in the {named}{' area' if named == level.SHORT_KIND[level.kind] else ''}"
        # Lower case in English ("exact place"); other languages have no capitals to lower.
        return str(self.get_location_precision_display()).lower()

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    @property
    def toll(self):
        """The stored all-deaths range as a ``figures.TollRange`` (no query)."""
        return figures.TollRange(
            lowest=self.killed_lowest,
            highest=self.killed_highest,
            highest_open=self.killed_highest_open,
            figure_count=self.figure_count,
            source_count=self.source_count,
            agreement=self.killed_agreement or None,
            is_floor=self.killed_is_floor,
        )

    @property
    def civilians_toll(self):
        """The stored civilian range (bounds only) as a ``figures.TollRange`` (no query)."""
        return figures.TollRange(
            lowest=self.civilians_lowest,
            highest=self.civilians_highest,
            highest_open=self.civilians_highest_open,
        )

    def clean(self):
        errors = incident_errors(self)
        if self.part_of_id:
            if self.pk and self.part_of_id == self.pk:
                errors["part_of"] = "An incident cannot be part of itself."
            elif self.pk and self.pk in self.part_of.wholes_ids():
                errors["part_of"] = (
                    "This incident is a whole of the one you chose (directly or through its parts): "
                    "an incident cannot be part of its own part."
                )
        if errors:
            raise ValidationError(errors)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            whole = self.part_of_id
            tolls.lock([self.pk, whole])  # the whole too: refreshed after the totals' lock
            tolls.forget([self.pk])
            result = super().delete(*args, **kwargs)
            tolls.refresh([whole])  # it may have no part left
        return result

    def _refuse_a_part_cycle(self):
        """Checked again under the lock of both incidents: two people making A part of B and B part
        of A at the same moment both pass ``clean()``; the second to take the lock is refused."""
        if self.part_of_id is None:
            return
        tolls.lock([self.pk, self.part_of_id])
        if self.pk in Incident.objects.get(pk=self.part_of_id).wholes_ids():
            raise ValidationError({"part_of": "An incident cannot be part of its own part."})

    def wholes_ids(self):
        """The ids of this incident and every incident it is part of, up the chain (a query each)."""
        ids, current = [self.pk], self
        while current.part_of_id and current.part_of_id not in ids:
            ids.append(current.part_of_id)
            current = Incident.objects.only("pk", "part_of").get(pk=current.part_of_id)
        return ids

    def save(self, *args, **kwargs):
        """Save what a person or an import entered. Never the stored figures (``incidents.tolls``)
        nor the status (``incidents.workflow``): this copy's may be stale, so the database's are
        kept and read back, and the history row records them as they are."""
        self.search_ar = self.folded_arabic()
        if self._state.adding and (self.pk is None or not Incident._base_manager.filter(pk=self.pk).exists()):
            if self.status != self.Status.DRAFT:
                raise ValueError(
                    "A new incident starts as a draft: publish it with workflow.publish_incident()."
                )
            with transaction.atomic():
                save_with_free_slug(
                    self,
                    lambda: super(Incident, self).save(*args, **kwargs),
                    self.title,
                    f"{self.title} {self.start_date}",
                    fallback=f"{self.kind}-{self.start_date}",
                )
                if self.part_of_id:
                    tolls.refresh([self.pk, self.part_of_id])  # both are now in a part tree
            return
        protected = {*self.FIGURE_FIELDS, *self.WORKFLOW_FIELDS}
        update_fields = kwargs.pop("update_fields", None) or [
            f.name for f in self._meta.concrete_fields if not f.primary_key
        ]
        kwargs["update_fields"] = {name for name in update_fields if name not in protected} | {"version"}
        if set(self.SEARCHED_FIELDS) & kwargs["update_fields"]:
            kwargs["update_fields"].add("search_ar")
        with transaction.atomic():
            self.move_version_on()
            stored = (
                Incident._base_manager.filter(pk=self.pk)
                .values(*self.WORKFLOW_FIELDS, "part_of", "start_date", "location")
                .get()
            )
            self.status, self.published_at, self.published_by_id = (
                stored["status"], stored["published_at"], stored["published_by"],
            )  # fmt: skip
            if stored["part_of"] != self.part_of_id:
                self._refuse_a_part_cycle()
            super().save(*args, **kwargs)
            if stored["part_of"] != self.part_of_id:
                tolls.refresh([self.pk, stored["part_of"], self.part_of_id])
            elif (stored["start_date"], stored["location"]) != (self.start_date, self.location_id):
                tolls.recount([self.pk])  # counted in another month or at another place now

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
            .select_related("location__country")
            .order_by("start_date")
        )
