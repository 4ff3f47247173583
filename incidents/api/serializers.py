"""The shapes of the API's answers, for the OpenAPI schema.

The answers themselves are ``represent.py``'s plain data, written straight to JSON (a
serializer pass cost a third of a page of incidents); tests check every answer against these
shapes. A field added to a model later (an incident's own coordinates, a report's best
estimate, Arabic titles) is one line there and one line here.
"""

from rest_framework import serializers

from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport, Victim


class IntervalSerializer(serializers.Serializer):
    low = serializers.IntegerField(help_text="The smallest toll the figure allows.")
    high = serializers.IntegerField(allow_null=True, help_text="The largest; null when the figure is open.")


class FigureSerializer(serializers.Serializer):
    as_stated = serializers.CharField(help_text="As the source put it: “at least 89”, “dozens”, “unknown”.")
    counted_as = serializers.CharField(help_text="How a plural word counts (“at least 24”); else empty.")
    qualifier = serializers.ChoiceField(choices=TollReport.Qualifier.choices)
    number = serializers.IntegerField(allow_null=True)
    upper = serializers.IntegerField(allow_null=True, help_text="The upper number of a “between”.")
    interval = IntervalSerializer(
        allow_null=True, help_text="The tolls the figure allows; null when unknown."
    )
    stated_low = serializers.IntegerField(allow_null=True, help_text="The smallest number it states.")
    stated_high = serializers.IntegerField(allow_null=True, help_text="The largest number it states.")
    open = serializers.BooleanField(help_text="The source says the toll may be higher.")


class RangeSerializer(serializers.Serializer):
    lowest = serializers.IntegerField(allow_null=True)
    highest = serializers.IntegerField(allow_null=True)
    highest_open = serializers.BooleanField()
    short = serializers.CharField(help_text="“89–120+”, “17”, “unknown”.")
    agreement = serializers.ChoiceField(
        choices=["agree", "differ", "contradict"], allow_null=True, help_text="Null without figures."
    )
    figure_count = serializers.IntegerField()
    source_count = serializers.IntegerField()
    is_floor = serializers.BooleanField(help_text="All deaths read from civilian and combatant figures.")


class SourceRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    short_name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Source.Kind.choices)


class ActorRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Actor.Kind.choices)


class PlaceRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Location.Kind.choices)
    pcode = serializers.CharField(allow_null=True, help_text="OCHA P-code.")
    chain = serializers.CharField(help_text="The place and those it lies in: “Idlib, Idlib, Syria”.")


class IncidentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.SlugField()
    title = serializers.CharField()


class CoordinatesSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    of = serializers.ChoiceField(choices=["incident", "place"], help_text="Whose coordinates these are.")


class CurrentFigureSerializer(FigureSerializer):
    source = SourceRefSerializer()
    population = serializers.ChoiceField(choices=TollReport.Population.choices)
    report_id = serializers.IntegerField()
    published_on = serializers.DateField()
    url = serializers.CharField(allow_blank=True)


class StanceSerializer(serializers.Serializer):
    source = SourceRefSerializer()
    actor = ActorRefSerializer()
    stance = serializers.ChoiceField(choices=Attribution.Stance.choices)
    published_on = serializers.DateField()
    quote = serializers.CharField(allow_blank=True)


class AttributionSerializer(serializers.Serializer):
    sentence = serializers.CharField(allow_blank=True, help_text="Who blames whom, as the page says it.")
    disputed = serializers.BooleanField()
    stances = StanceSerializer(many=True, help_text="Each source's current stance on each actor.")


class CountsBySexSerializer(serializers.Serializer):
    female = serializers.IntegerField()
    male = serializers.IntegerField()
    unknown = serializers.IntegerField()


class CountsByAgeGroupSerializer(serializers.Serializer):
    child = serializers.IntegerField(help_text="Under 18.")
    adult = serializers.IntegerField()
    elderly = serializers.IntegerField(help_text="60 and over.")
    unknown = serializers.IntegerField()


class CountsByStatusSerializer(serializers.Serializer):
    civilian = serializers.IntegerField()
    combatant = serializers.IntegerField()
    unknown = serializers.IntegerField()


class VictimCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="People recorded by name or description, names hidden or not.")
    by_sex = CountsBySexSerializer()
    by_age_group = CountsByAgeGroupSerializer()
    by_status = CountsByStatusSerializer()


class PersonSerializer(serializers.Serializer):
    name = serializers.CharField(allow_null=True, help_text="Null until an editor releases the name.")
    name_ar = serializers.CharField(allow_null=True, help_text="Null until an editor releases the name.")
    description = serializers.CharField(help_text="“a child aged 2, civilian”: shown for every person.")
    sex = serializers.ChoiceField(choices=Victim.Sex.choices)
    age = serializers.IntegerField(allow_null=True)
    age_group = serializers.ChoiceField(choices=Victim.AgeGroup.choices)
    status = serializers.ChoiceField(choices=Victim.Status.choices)


class IncidentSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stable: cite it.")
    slug = serializers.SlugField()
    url = serializers.URLField(help_text="The incident's page.")
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    kind = serializers.ChoiceField(choices=Incident.Kind.choices)
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    date_precision = serializers.ChoiceField(choices=Incident.DatePrecision.choices)
    location = PlaceRefSerializer()
    place = serializers.CharField(allow_blank=True)
    location_precision = serializers.ChoiceField(choices=Incident.LocationPrecision.choices)
    coordinates = CoordinatesSerializer(allow_null=True)
    killed = RangeSerializer(help_text="Everyone killed.")
    civilians = RangeSerializer()
    combatants = RangeSerializer()
    sentences = serializers.ListField(child=serializers.CharField(), help_text="The ranges in words.")
    disputed = serializers.BooleanField(help_text="Sources differ.")
    contradictory = serializers.BooleanField(help_text="No single toll fits every source's figure.")
    source_count = serializers.IntegerField()
    current_figures = CurrentFigureSerializer(many=True)
    attribution = AttributionSerializer()
    part_of = IncidentRefSerializer(allow_null=True, help_text="The larger incident this one is part of.")
    parts = IncidentRefSerializer(many=True)
    victims_identified = VictimCountsSerializer(help_text="How many people are identified, by group.")


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    incident = IncidentRefSerializer()
    source = SourceRefSerializer()
    published_on = serializers.DateField()
    published_time = serializers.TimeField(allow_null=True)
    url = serializers.CharField(allow_blank=True)
    archive_url = serializers.CharField(allow_blank=True)
    quote = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)
    killed_counts = serializers.ChoiceField(choices=TollReport.Population.choices)
    killed = FigureSerializer()
    injured = FigureSerializer()
    civilians = serializers.IntegerField(allow_null=True, help_text="Of whom civilians.")
    children = serializers.IntegerField(allow_null=True)
    women = serializers.IntegerField(allow_null=True)
    is_current = serializers.BooleanField(help_text="Its source's current report in its population.")


class VersionSerializer(serializers.Serializer):
    stamp = serializers.CharField(help_text="When the version shown was recorded, as used in its permalink.")
    recorded_at = serializers.DateTimeField()
    permalink = serializers.URLField(help_text="The incident as it was in this version.")


class CitationSerializer(serializers.Serializer):
    identifier = serializers.CharField(help_text="Stable identifier of the record.")
    text = serializers.CharField(help_text="Suggested citation.")
    publisher = serializers.CharField()
    title = serializers.CharField()
    url = serializers.URLField()
    accessed = serializers.DateField()
    version = VersionSerializer(allow_null=True)


class IncidentDetailSerializer(IncidentSerializer):
    people = PersonSerializer(many=True, help_text="Each person identified; names only once released.")
    reports = ReportSerializer(many=True, help_text="Every report and revision, oldest first.")
    revisions = serializers.ListField(child=serializers.CharField(), help_text="How figures changed.")
    corrections = serializers.ListField(
        child=serializers.CharField(), help_text="Changes to figures after publication."
    )
    related = IncidentRefSerializer(many=True)
    citation = CitationSerializer()


class LocationSerializer(PlaceRefSerializer):
    name_ar = serializers.CharField(allow_blank=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    parent = serializers.SlugField(allow_null=True)
    within = PlaceRefSerializer(many=True, help_text="The country, governorate and district it lies in.")


class SourceSerializer(SourceRefSerializer):
    affiliation = serializers.CharField(allow_blank=True)
    website = serializers.CharField(allow_blank=True)
    url = serializers.URLField(help_text="The source's page.")


class ActorSerializer(ActorRefSerializer):
    url = serializers.URLField(help_text="The actor's page.")
