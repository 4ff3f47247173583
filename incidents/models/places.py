"""Places: a hierarchy from the country down to a locality, with OCHA P-codes."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import CheckConstraint, Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from incidents.models.base import RulesInCleanMixin
from incidents.names import normalise
from incidents.slugs import save_with_free_slug

# What countries call their levels (``Location.admin1_name`` …), in the page's language. A country
# may name its levels anything; a name not listed here reads, on a page in another language than
# English, as the neutral level ("admin 1" in that language) rather than as an English word.
LEVEL_NAMES = {
    "governorate": pgettext_lazy("level of a place", "governorate"),
    "province": pgettext_lazy("level of a place", "province"),
    "state": pgettext_lazy("level of a place", "state"),
    "region": pgettext_lazy("level of a place", "region"),
    "district": pgettext_lazy("level of a place", "district"),
    "county": pgettext_lazy("level of a place", "county"),
    "department": pgettext_lazy("level of a place", "department"),
    "municipality": pgettext_lazy("level of a place", "municipality"),
    "sub-district": pgettext_lazy("level of a place", "sub-district"),
    "country": pgettext_lazy("level of a place", "country"),
    "admin 1": pgettext_lazy("level of a place", "admin 1"),
    "admin 2": pgettext_lazy("level of a place", "admin 2"),
    "admin 3": pgettext_lazy("level of a place", "admin 3"),
    "place": pgettext_lazy("level of a place", "place"),
    "site": pgettext_lazy("level of a place", "site"),
}


def in_english():
    """The page is in English (or no language is active: scripts, exports)."""
    return (get_language() or "en").split("-")[0] == "en"


def with_article(words):
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"


class LocationQuerySet(models.QuerySet):
    def public(self):
        """Places a published incident lies in or beneath (so the places above it count too).

        A place that only drafts use is never public (DESIGN.md, "Public pages"). Countries,
        governorates and districts are matched on the incidents' indexed ancestor columns, finer
        places on the path prefix, as ``Location.beneath_q`` does.
        """
        from incidents.models.incidents import Incident

        published = Incident.objects.published()
        condition = Q()
        for kind in Location.Kind.values:
            if kind in Location.ANCESTOR_KINDS:
                beneath = published.filter(**{f"location__{kind}": OuterRef("pk")})
            else:
                beneath = published.filter(location__path__startswith=OuterRef("path"))
            condition |= Q(kind=kind) & Exists(beneath)
        return self.filter(condition)


def short_chain(chain):
    """A chain of names ("Idlib, Idlib, Idlib, Syria") without a name repeated next to itself."""
    parts = []
    for part in chain.split(", "):
        if not parts or parts[-1] != part:
            parts.append(part)
    return ", ".join(parts)


class Location(RulesInCleanMixin, models.Model):
    class Kind(models.TextChoices):
        COUNTRY = "country", _("Country")
        # Countries name their levels differently (a Syrian governorate, a US state): the
        # labels stay neutral and each country names its own (``admin1_name`` …).
        ADMIN1 = "admin1", _("Admin 1 (governorate, province, state…)")
        ADMIN2 = "admin2", _("Admin 2 (district…)")
        ADMIN3 = "admin3", _("Admin 3 (sub-district…)")
        LOCALITY = "locality", _("City, town or village")
        SITE = "site", _("Site (a building or compound: hospital, school, camp…)")

    LEVELS = {kind: level for level, kind in enumerate(Kind.values)}
    # The levels every place keeps a column for (``country``, ``admin1``, ``admin2``).
    ANCESTOR_KINDS = ("country", "admin1", "admin2")

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
    # What a country calls its levels; pages say "Homs (governorate)" rather than "admin 1".
    admin1_name = models.CharField(
        "name of its admin 1 level",
        max_length=40,
        blank=True,
        help_text="Countries only: what admin 1 is called there, e.g. governorate, province, state.",
    )
    admin2_name = models.CharField(
        "name of its admin 2 level",
        max_length=40,
        blank=True,
        help_text="Countries only: e.g. district.",
    )
    admin3_name = models.CharField(
        "name of its admin 3 level",
        max_length=40,
        blank=True,
        help_text="Countries only: e.g. sub-district.",
    )

    # Kept by save() so that "this place and everything beneath it" is one indexed
    # prefix match, and lists show "Jaftallak Haj Hamoud, Idlib, Syria" without joins.
    path = models.CharField(max_length=255, editable=False, default="")
    chain = models.CharField(max_length=600, editable=False, default="")
    country = models.ForeignKey(
        "self", null=True, on_delete=models.SET_NULL, editable=False, related_name="+"
    )
    admin1 = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, editable=False, related_name="+")
    admin2 = models.ForeignKey("self", null=True, on_delete=models.SET_NULL, editable=False, related_name="+")

    objects = LocationQuerySet.as_manager()
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
            # The kind of the parent is another row's, so "inside a locality" is only in clean().
            CheckConstraint(
                condition=~Q(kind="site") | Q(parent__isnull=False),
                name="location_site_has_a_parent",
            ),
            CheckConstraint(
                condition=Q(kind="country") | Q(admin1_name="", admin2_name="", admin3_name=""),
                name="location_level_names_only_on_countries",
            ),
        ]
        indexes = [
            # Filtering by a place includes everything beneath it: a prefix match on path.
            models.Index(fields=["path"], name="location_path_idx", opclasses=["varchar_pattern_ops"]),
            # Summary exports and admin filters group incidents by governorate.
            models.Index(fields=["kind", "name"], name="location_kind_name_idx"),
        ]

    # Said of a place when its country does not name the level.
    SHORT_KIND = {
        "country": "country",
        "admin1": "admin 1",
        "admin2": "admin 2",
        "admin3": "admin 3",
        "locality": "place",
        "site": "site",
    }
    LEVEL_NAME_FIELDS = {"admin1": "admin1_name", "admin2": "admin2_name", "admin3": "admin3_name"}

    def __str__(self):
        # Several places can share a name (Idlib city, district, governorate): say which.
        # Reads the country row: lists of places select_related("country").
        return f"{self.short_chain} ({self.level_name})"

    @property
    def level_name(self):
        """What this place is, in its country's words: "governorate" in Syria, "admin 1" when
        the country does not say (reads the country row unless it is loaded)."""
        field = self.LEVEL_NAME_FIELDS.get(self.kind)
        return self.level_name_in(self.kind, getattr(self._country(), field, "") if field else "")

    @classmethod
    def level_name_in(cls, kind, named):
        """What a place of ``kind`` is: ``named``, its country's word for the level, when it has
        one, else the neutral level ("admin 2")."""
        return named or cls.SHORT_KIND.get(kind, kind)

    @property
    def level_label(self):
        """``level_name`` in the page's language, for public pages: "governorate", "محافظة". The
        country's own name for the level when known, else the neutral level ("admin 1")."""
        named = self.level_name
        if in_english():
            return named
        return str(LEVEL_NAMES.get(named.lower()) or LEVEL_NAMES[self.SHORT_KIND.get(self.kind, "place")])

    def _country(self):
        """The country row this place lies in; for a place not saved yet, its parent's."""
        if self.kind == self.Kind.COUNTRY:
            return self
        if self.country_id:
            return self.country
        if self.parent_id:
            parent = self.parent
            return (
                parent
                if parent.kind == self.Kind.COUNTRY
                else (parent.country if parent.country_id else None)
            )
        return None

    def get_absolute_url(self):
        return reverse("location_detail", args=[self.slug])

    @property
    def short_chain(self):
        """The chain without repeated names: "Idlib, Syria" for Idlib city in Idlib district."""
        return short_chain(self.chain or self.name)

    def chain_in_page_language(self):
        """The short chain in the page's language, as ``[(name, is_english)]``, this place first:
        each place's Arabic name on an Arabic page when it has one, else its English name, which
        the page marks as English. On an English page, ``short_chain``'s names (no query).

        Reads the places above this one (one query) unless ``load_chains_in_page_language`` has
        read them for a whole page of places at once."""
        if in_english():
            return [(name, False) for name in self.short_chain.split(", ")]
        if not hasattr(self, "_chain_in_page_language"):
            load_chains_in_page_language([self])
        return self._chain_in_page_language

    @property
    def level(self):
        return self.LEVELS[self.kind]

    @property
    def level_words(self):
        """For messages: "city, town or village", "site", "governorate (admin 1)"."""
        if self.kind not in self.LEVEL_NAME_FIELDS:
            return "city, town or village" if self.kind == self.Kind.LOCALITY else self.kind
        named, neutral = self.level_name, self.SHORT_KIND[self.kind]
        return neutral if named == neutral else f"{named} ({neutral})"

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
            elif self.kind == self.Kind.SITE and parent.kind != self.Kind.LOCALITY:
                errors["parent"] = (
                    "A site lies inside a city, town or village, not directly in "
                    f"{with_article(parent.level_name)}: choose the locality it is in as parent "
                    "(add the locality first if needed)."
                )
            elif parent.level >= self.level:
                errors["parent"] = (
                    f"{with_article(self.level_words).capitalize()} cannot lie inside "
                    f"{with_article(parent.level_words)}: choose a larger place as parent."
                )
        if self.kind == self.Kind.SITE and not self.parent_id:
            errors["parent"] = "A site lies inside a city, town or village: choose it as parent."
        if self.kind != self.Kind.COUNTRY:
            for field in self.LEVEL_NAME_FIELDS.values():
                if getattr(self, field):
                    errors[field] = "Only a country names its levels: clear this, or set it on the country."
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
        old = None
        if self.pk:
            old = Location.objects.filter(pk=self.pk).values("path", "chain").first()
        with transaction.atomic():
            self._set_ancestry()
            save_with_free_slug(
                self,
                lambda: super(Location, self).save(*args, **kwargs),
                self.name,
                f"{self.name} {self.parent.name}" if self.parent_id else None,
                fallback=self.pcode or "place",
            )
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
        if self.kind in self.ANCESTOR_KINDS:
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


def load_chains_in_page_language(locations):
    """Read the names in the page's language of the places above each of ``locations`` (places,
    or None), in one query, for ``Location.chain_in_page_language``. Nothing on an English page."""
    locations = [
        location
        for location in locations
        if location is not None and not hasattr(location, "_chain_in_page_language")
    ]
    if in_english() or not locations:
        return
    own_field = f"name_{get_language().split('-')[0]}"
    if own_field not in {field.name for field in Location._meta.fields}:
        own_field = "name"  # a language without names of its own: the English names

    def ids(location):
        return [int(part) for part in location.path.strip("/").split("/") if part] or [location.pk]

    wanted = {pk for location in locations for pk in ids(location)}
    names = {
        pk: (name, own)
        for pk, name, own in Location.objects.filter(pk__in=wanted).values_list("pk", "name", own_field)
    }
    for location in locations:
        names[location.pk] = (location.name, getattr(location, own_field))
        chain = []
        for pk in reversed(ids(location)):
            if pk not in names:
                continue
            name, own = names[pk]
            if chain and chain[-1][2] == name:  # Idlib city in Idlib district: said once
                continue
            chain.append(((own or "").strip() or name, not (own or "").strip(), name))
        location._chain_in_page_language = [(text, is_english) for text, is_english, _ in chain]


class PlaceName(models.Model):
    """Another name a place goes by ("Hims", "Idleb", "حمص"), so that an import finds the place
    instead of creating a second one. ``key`` is the name as ``names.normalise`` compares it."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, editable=False)

    class Meta:
        verbose_name = "other name"
        constraints = [
            models.UniqueConstraint(fields=["location", "key"], name="placename_once_per_place"),
        ]
        indexes = [
            # Imports look a row's place up by name.
            models.Index(fields=["key"], name="placename_key_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.key = normalise(self.name, place=True)
        super().save(*args, **kwargs)
