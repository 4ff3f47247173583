"""What the maps show (README, "Map"): where an incident or a place is drawn, how large its
marker is, and the settings that static/js/map.js reads from the page.

The script only draws. What it needs is given to it as JSON (``script_settings``, through
``json_script``: the CSP allows no inline script), so that the legend printed on the page and the
markers the script draws use one scale, and the tiles are the ones the CSP allows.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.forms import Media
from django.urls import reverse
from django.utils.translation import get_language, gettext

from casualty_tracker.env import TILE_SUBDOMAINS
from incidents.api import represent

# Leaflet and Leaflet.markercluster (vendored by `make vendor`), then our own style and script:
# every page with a map loads the same files, the admin's incident form too.
MEDIA = Media(
    css={
        "all": [
            "vendor/leaflet/leaflet.css",
            "vendor/leaflet.markercluster/MarkerCluster.css",
            "css/map.css",
        ]
    },
    js=["vendor/leaflet/leaflet.js", "vendor/leaflet.markercluster/leaflet.markercluster.js", "js/map.js"],
)

# A marker's radius in pixels grows with the tenfolds of the highest figure (the log scale keeps
# 10 and 1,000 deaths both visible), from the smallest (a toll unknown, or none) to a cap, so that
# one mass-casualty event does not cover its neighbours.
MARKER_SCALE = {"smallest": 5, "per_tenfold": 4, "largest": 26}
LEGEND_FIGURES = [1, 10, 100, 1000]

# How close a small map starts: an incident's own point is precise; a place's point stands for
# the whole place, so the larger the place the further out.
OWN_POINT_ZOOM = 14
PLACE_ZOOM = {"country": 5, "admin1": 7, "admin2": 9, "admin3": 10, "locality": 12, "site": 15}


def marker_radius(highest):
    """The radius of the marker of an incident whose highest figure is ``highest`` (None when
    no figure is known). static/js/map.js computes the same from ``MARKER_SCALE``."""
    scale = MARKER_SCALE
    if not highest:
        return scale["smallest"]
    return min(scale["largest"], round(scale["smallest"] + scale["per_tenfold"] * math.log10(highest + 1), 1))


def legend_sizes():
    """[(figure, radius)] for the legend: the markers of 1, 10, 100 and 1,000 killed."""
    return [(figure, marker_radius(figure)) for figure in LEGEND_FIGURES]


@dataclass(frozen=True)
class Point:
    """Where a small map is centred, and on whose coordinates: ``of`` is "incident" (its own)
    or "place" (its place's, standing for all of it)."""

    latitude: float
    longitude: float
    of: str
    zoom: int


def incident_point(incident):
    """The incident's own coordinates, else its place's (as the API places it:
    ``represent.coordinates``); None when neither is known. Reads ``incident.location``."""
    point = represent.coordinates_of(incident)
    if point is None:
        return None
    zoom = OWN_POINT_ZOOM if point["of"] == "incident" else PLACE_ZOOM[incident.location.kind]
    return Point(point["latitude"], point["longitude"], point["of"], zoom)


def place_point(location):
    """The place's coordinates, or None when it has none."""
    if location.latitude is None or location.longitude is None:
        return None
    return Point(float(location.latitude), float(location.longitude), "place", PLACE_ZOOM[location.kind])


def script_settings():
    """What static/js/map.js needs on every page with a map: the tiles (the ones the CSP
    allows, ``settings.MAP_TILES_URL``), the marker scale, the words it writes, and where the
    incident pages are in the page's language (a popup links there)."""
    return {
        "tiles": {
            "url": settings.MAP_TILES_URL,
            "attribution": settings.MAP_TILES_ATTRIBUTION,
            "subdomains": TILE_SUBDOMAINS,
        },
        "markers": MARKER_SCALE,
        "incidentPages": reverse("incident_list"),
        # A popup's title in the page's language: the Arabic title on an Arabic page, else the
        # English one marked as English (as the pages do: templatetags/bilingual.py).
        "titleField": "title_ar" if get_language() == "ar" else "title",
        "inEnglish": gettext("English"),
        # In the page's language; the {placeholders} are filled in by the script.
        "words": {
            "killed": gettext("{range} killed"),
            "tollUnknown": gettext("toll unknown"),
            "differ": gettext("sources differ"),
            "cluster": gettext("{count} incidents here: select to zoom in"),
            "loading": gettext("Loading the incidents: {loaded} of {count}…"),
            "paused": gettext("The server asks the map to wait: loading goes on in {seconds} s."),
            "shown": gettext("Incidents on the map: {shown} of {count}."),
            "unplaced": gettext("The others have no coordinates; the list below has them all."),
            "none": gettext("No incident matches these filters."),
            "failed": gettext("The map could not load the incidents ({reason}); the list below has them."),
            "picker": gettext("Click the map or drag the marker to set the coordinates."),
        },
    }
