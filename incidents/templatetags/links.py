from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def web_link(url):
    """The URL if it is an http(s) link, else "" (no javascript: or data: links from imported data)."""
    if url and urlsplit(str(url).strip()).scheme.lower() in ("http", "https"):
        return url
    return ""
