"""What a reader sees of a page, and the Latin-script words left in it (tests of the Arabic site).

``visible_text`` keeps what is shown or read out: text, the page's <title>, the SVG charts' titles
and descriptions, and the attributes a person meets (``aria-label``, ``title``, ``alt``,
``placeholder``, and ``data-label``, which the phone layout prints before each cell). It leaves out
<script>, <style> and code samples (<code>, <pre>), and every element marked as written in another
language (``lang="en"``: a record that has no Arabic text yet, a quote in its own language, the
switch to the English page): those are data in their own language, not the interface.

``latin_words`` then finds the words in Latin script, minus addresses, file names, identifiers and
an explicit allow-list of names and codes that are written in Latin letters in Arabic too.
"""

import re
from html.parser import HTMLParser

SKIPPED = {"script", "style", "code", "pre", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-label")

# Names and codes that Arabic text writes in Latin letters: sources' abbreviations, formats,
# standards. Nothing here is an English word of the interface.
ALLOWED = {
    "SOHR",  # Syrian Observatory for Human Rights, as it abbreviates itself in Arabic too
    "SNHR",  # Syrian Network for Human Rights
    "UCDP",  # Uppsala Conflict Data Program
    "ACLED",
    "HXL",  # Humanitarian Exchange Language
    "CSV",
    "JSON",
    "GeoJSON",
    "API",
    "OpenAPI",
    "Frictionless",  # the data package standard's name
    "README",
    "Atom",  # the feed format
    "P-code",  # OCHA's place codes
    "UTF-8",
    "YYYY-MM-DD",  # how a date is typed, in any language
}

URL = re.compile(r"(?:https?://|/)[\w./?&=%#:-]*[\w/]")
FILE_NAME = re.compile(r"\b[\w-]+\.(?:csv|json|txt|xml)\b")
IDENTIFIER = re.compile(r"\b[a-z]+:\d+\b")  # incident:12
PLACE_CODE = re.compile(r"^[A-Z]{2}\d*$")  # SY, SY07 (P-codes)
LICENCE = re.compile(r"^(?:CC|ODbL)(?:-[\w.]+)*$")  # CC-BY-4.0
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, hidden)
        self.parts = []

    @property
    def hidden(self):
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        lang = attrs.get("lang")
        hidden = (
            self.hidden
            or tag in SKIPPED
            or (lang is not None and not lang.startswith("ar") and tag != "html")
        )
        if not hidden:
            self.parts.extend(attrs[name] for name in SHOWN_ATTRIBUTES if attrs.get(name))
            if tag == "meta" and attrs.get("name") == "description":
                self.parts.append(attrs.get("content") or "")
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        # Close up to the matching tag (HTML lets some end tags be left out).
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html):
    parser = _Visible()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def latin_words(text):
    """The Latin-script words of ``text`` that are neither an address, a file name, an identifier,
    a place or licence code, nor in ``ALLOWED``."""
    for pattern in (URL, FILE_NAME, IDENTIFIER):
        text = pattern.sub(" ", text)
    return [
        word
        for word in LATIN_WORD.findall(text)
        if word not in ALLOWED and not PLACE_CODE.match(word) and not LICENCE.match(word)
    ]
