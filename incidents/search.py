"""Text search that finds Arabic however it is spelt: "ادلب" finds "إدلب".

Arabic is written with or without short vowels (tashkeel) and the stretching tatweel, and the
same word is spelt with أ, إ, آ or ا, with final ة or ه, with final ى or ي. Both the searched text
and the query are *folded*: those marks removed, each variant written as one letter. Nothing else
changes (Latin letters keep their case: the lookups compare without it).

- ``fold_arabic(text)``: in Python, for the query and for ``Incident.search_ar``, the stored
  folded Arabic title and summary (the one writer: ``Incident.save()`` and the incident
  QuerySet's ``bulk_create``/``update``), so that searching 100,000 incidents stays a plain
  ``LIKE`` over one column.
- ``ArabicFolded(expression)``: the same folding in SQL, for the small tables read on the fly
  (places', sources' and actors' Arabic names): ``translate()`` on PostgreSQL, ``fold_arabic``
  itself on SQLite (a function registered on each connection).
"""

import re

from django.db.models import Func, TextField

# Short vowels, shadda, sukun, Quranic marks and the superscript alef; the tatweel (ـ).
MARKS = (
    "".join(chr(c) for c in range(0x0610, 0x061B))
    + "".join(chr(c) for c in range(0x064B, 0x0660))
    + "\u0670"
    + "".join(chr(c) for c in range(0x06D6, 0x06EE))
    + "\u0640"
)
# Spelling variants and the one letter each is folded to.
VARIANTS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"}

_FOLD = str.maketrans({**VARIANTS, **dict.fromkeys(MARKS)})
_ARABIC_LETTER = re.compile("[\u0620-\u064a\u0671-\u06d3]")


def fold_arabic(text):
    """``text`` without Arabic marks and with each spelling variant folded: "إدْلِب" -> "ادلب"."""
    return (text or "").translate(_FOLD)


def has_arabic(text):
    """Whether ``text`` holds an Arabic letter (a query that needs the Arabic search)."""
    return bool(_ARABIC_LETTER.search(text or ""))


SQLITE_FUNCTION = "ct_fold_arabic"


class ArabicFolded(Func):
    """``fold_arabic`` in SQL, over a text column (no index can serve it: small tables only)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        # translate() maps each of the first string's characters to the second's, and drops the
        # characters left over (the marks).
        sql, params = compiler.compile(self.source_expressions[0])
        return f"translate({sql}, %s, %s)", [*params, "".join(VARIANTS) + MARKS, "".join(VARIANTS.values())]

    def as_sqlite(self, compiler, connection, **extra_context):
        # fold_arabic itself, registered on each connection (register_sqlite_function).
        sql, params = compiler.compile(self.source_expressions[0])
        return f"{SQLITE_FUNCTION}({sql})", params


def register_sqlite_function(sender, connection, **kwargs):
    """``connection_created`` receiver: makes ``fold_arabic`` callable from SQLite's SQL."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, fold_arabic, deterministic=True)
