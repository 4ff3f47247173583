"""The pieces of a page with a map (incidents/maps.py): its styles, its scripts and their
settings, its legend. Written here, not in templates, so that no template holds a script tag."""

from django import template
from django.utils.html import json_script
from django.utils.safestring import mark_safe

from incidents import maps

register = template.Library()


@register.simple_tag
def map_styles():
    """Leaflet's styles and ours, for the page's head."""
    return mark_safe("\n".join(maps.MEDIA.render_css()))  # noqa: S308 (the tags Django's Media writes)


@register.simple_tag
def map_settings():
    """What static/js/map.js reads, as JSON data (not a script: the CSP allows none inline)."""
    return json_script(maps.script_settings(), "map-settings")


@register.simple_tag
def map_scripts():
    """The map's settings, then Leaflet, Leaflet.markercluster and static/js/map.js."""
    return mark_safe("\n".join([map_settings(), *maps.MEDIA.render_js()]))  # noqa: S308 (as above)


@register.inclusion_tag("includes/map_legend.html")
def map_legend():
    sizes = maps.legend_sizes()
    largest = max(radius for _, radius in sizes)
    return {"sizes": sizes, "box": round(2 * largest + 4), "centre": largest + 2}
