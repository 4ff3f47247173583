"""The domain of DESIGN.md, one module per responsibility.

Every rule is kept twice: a named database ``CheckConstraint`` (the backstop for imports and
scripts) and the same rule in ``clean()`` with a message on the field that is wrong, for the admin.
"""

from incidents.models.attributions import Attribution
from incidents.models.base import EditConflict, RulesInCleanMixin, Versioned, today
from incidents.models.dataversion import DataVersion, IncidentRevision
from incidents.models.incidents import Incident, IncidentQuerySet
from incidents.models.parties import Actor, ActorName, Source
from incidents.models.places import Location, PlaceName
from incidents.models.reports import Qualifier, TollReport, TollReportQuerySet
from incidents.models.review import PossibleMatch, SlugRedirect
from incidents.models.totals import MonthTotal, PartTreeShare, PlaceTotal, SourceShare, SourceTotal
from incidents.models.victims import Victim, VictimQuerySet

__all__ = [
    "Actor",
    "ActorName",
    "Attribution",
    "DataVersion",
    "IncidentRevision",
    "EditConflict",
    "Incident",
    "IncidentQuerySet",
    "Location",
    "PlaceName",
    "PossibleMatch",
    "MonthTotal",
    "PlaceTotal",
    "SourceShare",
    "SourceTotal",
    "PartTreeShare",
    "Qualifier",
    "RulesInCleanMixin",
    "SlugRedirect",
    "Source",
    "TollReport",
    "TollReportQuerySet",
    "Versioned",
    "Victim",
    "VictimQuerySet",
    "today",
]
