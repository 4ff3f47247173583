"""The domain of DESIGN.md, one module per responsibility.

Every rule is kept twice: a named database ``CheckConstraint`` (the backstop for imports and
scripts) and the same rule in ``clean()`` with a message on the field that is wrong, for the admin.
"""

from incidents.models.attributions import Attribution
from incidents.models.base import EditConflict, RulesInCleanMixin, Versioned, today
from incidents.models.incidents import Incident, IncidentQuerySet
from incidents.models.parties import Actor, Source
from incidents.models.places import Location
from incidents.models.reports import Qualifier, TollReport, TollReportQuerySet
from incidents.models.totals import MonthTotal, PartTreeShare

__all__ = [
    "Actor",
    "Attribution",
    "EditConflict",
    "Incident",
    "IncidentQuerySet",
    "Location",
    "MonthTotal",
    "PartTreeShare",
    "Qualifier",
    "RulesInCleanMixin",
    "Source",
    "TollReport",
    "TollReportQuerySet",
    "Versioned",
    "today",
]
