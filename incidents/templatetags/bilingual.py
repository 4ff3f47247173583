"""Records in the language of the page: ``{{ incident|in_page_language:"title" }}``.

On an Arabic page a record's Arabic text (``title_ar``, ``summary_ar``, ``name_ar``) when it has
one; else its English text, marked as English for the reader and for screen readers
(``lang="en"``, and "(English)" in the page's language). On an English page the English text,
exactly as before. Templates adopt it one field at a time.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, gettext, pgettext

from incidents.search import has_arabic

register = template.Library()

# A field whose Arabic counterpart is not "<field>_ar": a source's label is its short name or name.
ARABIC_FIELD = {"label": "name_ar"}


def _texts(record, field):
    """(the text to show, whether it is the English text on a page in another language).

    A field with no counterpart in the page's language (a report's ``note``, an incident's
    ``place``) shows its own text, marked as English unless it is written in Arabic script."""
    english = getattr(record, field, "") or ""
    language = (get_language() or "en").split("-")[0]
    if language == "en":
        return english, False
    own = getattr(record, ARABIC_FIELD.get(field, f"{field}_{language}"), "") or ""
    if own.strip():
        return own, False
    return english, bool(english) and not has_arabic(english)


def _english(text):
    return format_html('<span lang="en" dir="ltr">{}</span>', text)


@register.filter
def in_page_language(record, field):
    """HTML: the text in the page's language, or the English one marked as such."""
    text, is_english = _texts(record, field)
    if not is_english:
        return text
    return format_html(
        '<span lang="en" dir="ltr">{}</span> <span class="in-english">({})</span>',
        text,
        gettext("English"),
    )


@register.filter
def text_in_page_language(record, field):
    """Plain text, for <title> and meta descriptions: the page language's text, or the English."""
    return _texts(record, field)[0]


@register.filter
def chain_in_page_language(location):
    """HTML: "Jaftallak Haj Hamoud, Idlib, Syria" in the page's language ("إدلب، سوريا"), each
    name without a translation marked as English (``Location.chain_in_page_language``)."""
    if location is None:
        return ""
    return chain_html(location.chain_in_page_language())


@register.filter
def chain_html(names):
    """HTML: ``[(name, is_english)]`` (``Location.chain_in_page_language``) joined as a list."""
    return format_html_join(
        pgettext("between items of a list", ", "),
        "{}",
        ((_english(name) if is_english else name,) for name, is_english in names),
    )


@register.filter
def chain_text_in_page_language(location):
    """Plain text, for <title>, meta descriptions and feeds: the chain in the page's language."""
    return pgettext("between items of a list", ", ").join(
        name for name, _ in location.chain_in_page_language()
    )


@register.filter
def marked_english(text):
    """HTML: ``text`` that exists only in English (a licence's title from the settings) marked as
    English on a page in another language; as it is on an English page."""
    if not text or (get_language() or "en").split("-")[0] == "en" or has_arabic(str(text)):
        return text
    return _english(text)
