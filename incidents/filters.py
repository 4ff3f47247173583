"""The filters of /incidents/, shared with the CSV exports (DESIGN.md, "List filters")."""

import functools
import re

import django_filters
from django import forms
from django.core.validators import slug_re
from django.db.models import Exists, OuterRef, Q
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from incidents import dataversion
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport, Victim
from incidents.models.places import load_chains_in_page_language
from incidents.roles import can_see_drafts
from incidents.search import ArabicFolded, fold_arabic, has_arabic
from incidents.templatetags.bilingual import chain_text_in_page_language, text_in_page_language

# More deaths than any single incident has had; keeps huge numbers out of the database.
MAX_FIGURE = 10_000_000

SORTS = {
    "newest": (_("Newest first"), ["-start_date", "-pk"]),
    "oldest": (_("Oldest first"), ["start_date", "pk"]),
    "toll": (_("Highest toll"), ["-killed_highest", "-start_date", "-pk"]),
    "disputed": (_("Most disputed"), ["-is_disputed", "-killed_spread", "-start_date", "-pk"]),
}


def names_to_choose(request, model, wanted=None):
    """The places, actors or sources (``model``) a menu lists and a slug in the address may
    name; ``wanted``: a condition of the menu's own (a Q).

    Only those that published incidents use: a name that appears only in drafts is never
    public, and its slug reads like an unknown one. Those who edit incidents see them all.
    """
    if request is not None and can_see_drafts(request.user):
        names = model.objects.all()
    else:
        names = _public_names(model).all()  # a copy: the one kept is never read
    return names if wanted is None else names.filter(wanted)


@functools.cache
def _public_names(model):
    """``model.objects.public()``, built once per process and never evaluated itself. Building it
    (an EXISTS over the published incidents per kind of place) took the list pages and the API
    a few milliseconds a request, longer than the database takes to run it."""
    return model.objects.public()


def locations_to_choose(request):
    """Countries, governorates and districts in the menu, plus a deeper place asked for by slug.

    Every place can be filtered on (links from place pages carry its slug), but listing
    every village would make the menu unusable.
    """
    wanted = Q(kind__in=[Location.Kind.COUNTRY, Location.Kind.ADMIN1, Location.Kind.ADMIN2])
    slug = request.GET.get("location", "") if request is not None else ""
    # Only something shaped like a slug reaches the database (PostgreSQL refuses NUL characters).
    if slug_re.fullmatch(slug):
        wanted |= Q(slug=slug)
    else:
        slug = None
    # The menu says "Homs, Syria (governorate)" in each country's words: its country row comes along.
    names = names_to_choose(request, Location, wanted).select_related("country").order_by("chain")
    return _menu(names, "places", request, slug)


def actors_to_choose(request):
    return _menu(names_to_choose(request, Actor), "actors", request)


def sources_to_choose(request):
    return _menu(names_to_choose(request, Source), "sources", request)


def _menu(names, menu, request, *asked):
    """``names``, said to be the menu ``menu`` for this kind of reader (``MenuSelect`` keeps it
    by that): everything its query depends on, without compiling the query to SQL for a key
    (which took a list page a few milliseconds). Kept by the query's clones."""
    names.query.menu = (menu, request is not None and can_see_drafts(request.user), *asked)
    return names


# Whole sentences, one per kind of name, so that each language can say it its own way.
NO_SUCH = {
    "place": _("There is no such place: check the address or choose one from the list."),
    "actor": _("There is no such actor: check the address or choose one from the list."),
    "source": _("There is no such source: check the address or choose one from the list."),
    "choice": _("There is no such choice: check the address or choose one from the list."),
}


class NamesInPageLanguage(forms.models.ModelChoiceIterator):
    """The menu's places, actors or sources, read at once so that the places' names in the page's
    language are read in one more query (none on an English page)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        names = list(self.queryset)
        load_chains_in_page_language(name for name in names if isinstance(name, Location))
        for name in names:
            yield self.choice(name)


class MenuSelect(forms.Select):
    """A menu written in Python (``format_html``), the same HTML as Django's template for a select
    writes: the filter menus hold a few hundred options (every governorate and district), and a
    template rendered per option, with a dictionary of attributes built for each, took most of
    the time of a list page. Options only, no groups (the filters have none).

    A menu of places, actors or sources is rendered once per names version (``RENDERED_MENUS``):
    every list and map page of that version shows the same names."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        if not isinstance(self.choices, forms.models.ModelChoiceIterator):
            return self._render(name, chosen, attributes)  # a few fixed choices: nothing to save
        # What the menu shows: the names its query reads (which depend on who asks: staff see
        # the names of drafts too) in the page's language, and which of them is chosen.
        field = self.choices.field
        query = self.choices.queryset.query
        menu = getattr(query, "menu", None)  # said by *_to_choose; else the SQL says it
        if menu is None:
            sql, params = query.sql_with_params()
            menu = (sql, tuple(params))
        key = (
            *menu, get_language(), type(field), field.to_field_name,
            str(field.empty_label), name, attributes, tuple(sorted(chosen)),
        )  # fmt: skip
        return RENDERED_MENUS.get(key, lambda: self._render(name, chosen, attributes))

    def _render(self, name, chosen, attributes):
        selected = False
        options = []
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            # As Django's Select: only the first option with the value is selected.
            is_selected = not selected and option_value in chosen
            selected = selected or is_selected
            options.append((option_value, mark_safe(" selected") if is_selected else "", label))
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            attributes,
            format_html_join("", '<option value="{}"{}>{}</option>', options),
        )


# Menus of names rendered in this process, kept under the names version they were read at
# (``dataversion.KeptUnderNames``): on a crisis day they are read and written once per
# publication rather than once per revision. The list's and the map's whole filter boxes are
# kept here too (``written_once.filter_box``). At most 128 menus and boxes (of several versions,
# languages, choices); then it starts again.
RENDERED_MENUS = dataversion.KeptUnderNames(size=128)


class SlugChoiceField(forms.ModelChoiceField):
    iterator = NamesInPageLanguage
    widget = MenuSelect

    def __init__(self, *args, kind="choice", **kwargs):
        self.kind = kind
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        """ "Homs, Syria (governorate)", "المرصد السوري لحقوق الإنسان": in the page's language."""
        if isinstance(obj, Location):
            return gettext("%(place)s (%(level)s)") % {
                "place": chain_text_in_page_language(obj),
                "level": obj.level_label,
            }
        return text_in_page_language(obj, "name")

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if error.code == "invalid_choice":
                raise forms.ValidationError(NO_SUCH[self.kind], code="invalid_choice") from None
            raise


class SlugFilter(django_filters.ModelChoiceFilter):
    field_class = SlugChoiceField


class ISODateField(forms.DateField):
    """YYYY-MM-DD and nothing else: 10/05/2023 is 5 October in much of the world and 10 May
    elsewhere, so no other way of writing a date is guessed at."""

    ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": _("Enter a date as YYYY-MM-DD, e.g. 2023-10-05.")}

    def to_python(self, value):
        # strptime alone would take 2023-10-5 too.
        if isinstance(value, str) and value.strip() and not self.ISO_DATE.fullmatch(value.strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ISODateInput(forms.TextInput):
    """A text box that asks for YYYY-MM-DD. Not type=date: the browser would show its own
    order (mm/dd/yyyy in some locales) and empty a value it cannot read, so the reader would
    neither see the format the message asks for nor the value to correct."""

    def __init__(self, attrs=None):
        super().__init__(
            {
                "placeholder": "YYYY-MM-DD",
                "pattern": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
                "inputmode": "numeric",
                "autocomplete": "off",
                "size": 10,
                **(attrs or {}),
            }
        )


class ISODateFilter(django_filters.DateFilter):
    field_class = ISODateField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", ISODateInput)
        super().__init__(*args, **kwargs)


class WholeNumberFilter(django_filters.NumberFilter):
    # "2.5 killed" is a typo worth flagging, not a figure.
    field_class = forms.IntegerField


class IncidentFilterForm(forms.Form):
    def _post_clean(self):
        super()._post_clean()
        # Screen readers announce which fields are wrong and read their messages.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}-errors"}
                )

    def clean(self):
        cleaned = super().clean()
        after, before = cleaned.get("date_after"), cleaned.get("date_before")
        if after and before and after > before:
            self.add_error("date_before", gettext("This date is before the “from” date."))
        return cleaned


class MenuChoiceFilter(django_filters.ChoiceFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MenuSelect)
        super().__init__(*args, **kwargs)


class IncidentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=200)
    date_after = ISODateFilter(
        field_name="start_date",
        lookup_expr="gte",
        label=_("From (YYYY-MM-DD)"),
    )
    date_before = ISODateFilter(
        field_name="start_date",
        lookup_expr="lte",
        label=_("To (YYYY-MM-DD)"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD, e.g. 2023-10-31.")},
    )
    location = SlugFilter(
        label=_("Place"),
        queryset=locations_to_choose,
        to_field_name="slug",
        method="in_location",
        empty_label=_("Anywhere"),
        kind="place",
    )
    kind = MenuChoiceFilter(label=_("Kind"), choices=Incident.Kind.choices, empty_label=_("Any kind"))
    perpetrator = SlugFilter(
        label=_("Alleged perpetrator"),
        queryset=actors_to_choose,
        to_field_name="slug",
        field_name="perpetrators",
        empty_label=_("Anyone"),
        kind="actor",
    )
    source = SlugFilter(
        label=_("Reported by"),
        queryset=sources_to_choose,
        to_field_name="slug",
        method="reported_by",
        empty_label=_("Any source"),
        kind="source",
    )
    disputed = MenuChoiceFilter(
        label=_("Figures"),
        choices=[("true", _("Sources differ")), ("false", _("Sources agree"))],
        method="only_disputed",
        empty_label=_("Disputed or not"),
    )
    attribution = MenuChoiceFilter(
        label=_("Attribution"),
        choices=[
            ("disputed", _("Disputed: sources blame different actors, or one denies")),
            ("agreed", _("Agreed")),
        ],
        method="by_attribution",
        empty_label=_("Disputed or not"),
    )
    contradictory = MenuChoiceFilter(
        label=_("Contradictions"),
        choices=[("true", _("Sources contradict each other")), ("false", _("No contradiction"))],
        method="only_contradictory",
        empty_label=_("With or without"),
    )
    min_killed = WholeNumberFilter(
        label=_("At least … killed (highest figure)"),
        field_name="killed_highest",
        lookup_expr="gte",
        min_value=0,
        max_value=MAX_FIGURE,
        widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
    )
    sort = MenuChoiceFilter(
        label=_("Sort"),
        choices=[(key, label) for key, (label, _) in SORTS.items()],
        method="sort_by",
        empty_label=None,
        null_label=None,
    )

    class Meta:
        model = Incident
        fields = []
        form = IncidentFilterForm

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if has_arabic(value):
            return queryset.filter(self.arabic_matches(fold_arabic(value)))
        # Places, sources and named people are few: their ids are read first (three small
        # queries), so that each condition below is one an index serves (on PostgreSQL the
        # trigram indexes of migration 0019 for the text; an id list) and a rare word is found
        # without reading every incident.
        places = ids(Location.objects.filter(Q(chain__icontains=value) | Q(name_ar__icontains=value)))
        sources = ids(Source.objects.filter(Q(name__icontains=value) | Q(short_name__iexact=value)))
        # Only names an editor has released: a hidden name finds nothing, even for those who can
        # see it in the admin (the list and the exports share this search).
        named = Victim.objects.public().filter(Q(name__icontains=value) | Q(name_ar__icontains=value))
        matches = Q(title__icontains=value) | Q(place__icontains=value) | Q(summary__icontains=value)
        if places:
            matches |= Q(location__in=places)
        if sources:
            matches |= Q(pk__in=TollReport.objects.filter(source__in=sources).values("incident_id"))
        named_in = ids(named.order_by().values_list("incident_id", flat=True).distinct())
        if named_in:
            matches |= Q(pk__in=named_in)
        return queryset.filter(matches)

    @staticmethod
    def arabic_matches(folded):
        """Incidents whose Arabic text (``Incident.search_ar``: the Arabic title and summary, and
        any Arabic in the title, summary and place), place (or a place it lies in), source or actor
        holds ``folded`` (incidents.search: without marks, spelling variants folded).

        The places', sources' and actors' ids are read first (four small queries): the
        conditions below then use lists, each served by an index (on PostgreSQL, ``search_ar``
        by its trigram index), rather than each folding every name again."""
        named = ids(named_in_arabic(Location, folded))
        # A place matches when it, or a place it lies in, has the name: "إدلب" finds Idlib's
        # villages. Through the ancestor columns Location.save() keeps.
        places = (
            ids(
                Location.objects.filter(
                    Q(pk__in=named)
                    | Q(parent__in=named)
                    | Q(admin2__in=named)
                    | Q(admin1__in=named)
                    | Q(country__in=named)
                )
            )
            if named
            else []
        )
        sources = ids(named_in_arabic(Source, folded))
        actors = ids(named_in_arabic(Actor, folded))
        matches = Q(search_ar__icontains=folded)
        if places:
            matches |= Q(location__in=places)
        if sources:
            matches |= Q(pk__in=TollReport.objects.filter(source__in=sources).values("incident_id"))
        if sources or actors:
            attributed = Attribution.objects.filter(Q(actor__in=actors) | Q(source__in=sources))
            matches |= Q(pk__in=attributed.values("incident_id"))
        return matches

    def in_location(self, queryset, name, location):
        return queryset.beneath(location)

    def reported_by(self, queryset, name, source):
        return queryset.filter(Exists(TollReport.objects.filter(incident=OuterRef("pk"), source=source)))

    def only_disputed(self, queryset, name, value):
        return queryset.disputed(value == "true")

    def by_attribution(self, queryset, name, value):
        return queryset.filter(attribution_disputed__in=[value == "disputed"])

    def only_contradictory(self, queryset, name, value):
        return queryset.contradictory(value == "true")

    def sort_by(self, queryset, name, value):
        # Without a sort, the model's ordering (newest first) applies.
        return queryset.order_by(*SORTS[value][1])


def ids(rows):
    """The ids of ``rows`` (a QuerySet of models, or of one column) as a list. One query."""
    if rows._fields:
        return list(rows)
    return list(rows.order_by().values_list("pk", flat=True))


def named_in_arabic(model, folded):
    """Places, sources or actors whose Arabic name holds ``folded``; sources and actors also by
    their name, as one known only by an Arabic name is entered. Few rows: the names are folded in
    SQL as they are read (a place's only where it has an Arabic name: places are the most)."""
    if model is Location:
        named = model.objects.exclude(name_ar="").alias(folded=ArabicFolded("name_ar"))
        return named.filter(folded__icontains=folded)
    named = model.objects.alias(folded=ArabicFolded("name_ar"), folded_name=ArabicFolded("name"))
    return named.filter(Q(folded__icontains=folded) | Q(folded_name__icontains=folded))


NO_FILTER = object()


def filtered_by_place_alone(filterset):
    """The place ``filterset`` (valid) chooses when it filters by nothing else, ``NO_FILTER``
    when it filters by nothing at all, else None: the two cases the totals ``incidents.tolls``
    keeps can count without reading the incidents."""
    filters = set(filterset.form.changed_data) - {"sort"}
    if not filters:
        return NO_FILTER
    if filters == {"location"}:
        return filterset.form.cleaned_data["location"]
    return None


def summarised_count(filterset):
    """How many published incidents ``filterset`` (valid, over every published incident) gives,
    read from the totals when they can say: with no filter (the month totals) or a place alone
    (the place totals), one query over a few hundred rows instead of a count of the incidents.
    None for any other filter."""
    from incidents import stats

    place = filtered_by_place_alone(filterset)
    if place is NO_FILTER:
        return stats.published_total().incidents
    if place is not None:
        return stats.place_incident_count(place)
    return None


def summarised_placed_count(filterset):
    """``Incident.objects.count_placed()`` of what ``filterset`` gives (the map page), from the
    place totals when the filter is none or a place alone (``stats.placed_count``); else None."""
    from incidents import stats

    place = filtered_by_place_alone(filterset)
    if place is None:
        return None
    return stats.placed_count(None if place is NO_FILTER else place)


def filter_incidents(request, queryset):
    """Apply the list filters of ``request.GET``; ``(filterset, incidents)``.

    Malformed filters give no incidents (never silently unfiltered data); the form
    carries the messages to show beside it.
    """
    filterset = IncidentFilter(request.GET, queryset=queryset, request=request)
    if filterset.is_valid():
        return filterset, filterset.qs
    return filterset, queryset.none()
