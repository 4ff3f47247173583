"""Records as plain values: checked by their model's own rules, written many rows a statement.

An import writes hundreds of thousands of records. Model instances, ``full_clean()`` and
``bulk_create()`` prepare every field of every record through several layers of Django, which
took most of an import's time. Here a record is a ``Row`` (its values by attname); ``FieldChecks``
runs the model's field checks (``Field.clean``, as ``Model.clean_fields()`` does) without
checking a value again that the field has already accepted, and the model's ``clean()`` rules are
the functions ``clean()`` itself calls (``incident_errors``, ``report_errors``); ``Table`` inserts
and updates rows a few hundred to a statement, each column's conversion for the database chosen
once.
Nothing here sends signals: history rows are written by ``incidents.history``, derived figures
by ``incidents.tolls``.
"""

import datetime
import decimal
import sqlite3
import sys

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import BooleanField, CharField, Field, IntegerField, TextField
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

from incidents import dataversion

# Rows per INSERT or UPDATE at most (each is one statement, one round trip, one data version bump).
ROWS_PER_INSERT = 500
# Rows per COPY at most (each moves the data version on once).
COPY_ROWS = 5_000
# Fewer rows than this go by INSERT on PostgreSQL too: a COPY's fixed cost (a savepoint, a
# ``nextval`` query, the COPY itself) is more than one INSERT of a few rows, as an admin save writes.
COPY_FROM_ROWS = 100
# Characters of COPY text sent at a time (``StreamedLines``).
COPY_READ_SIZE = 32_768
# Values a field has accepted, remembered per field; beyond this many each value is checked.
REMEMBERED = 10_000
# Types whose equal values are the same value to every field check (not Decimal: 1.0 == 1.00).
EXACT_TYPES = frozenset({str, int, bool, type(None), datetime.date})
# Fields whose ``get_prep_value`` hands a value of this type to the database unchanged.
AS_IS = {
    CharField.get_prep_value: str,
    TextField.get_prep_value: str,
    IntegerField.get_prep_value: int,
    BooleanField.get_prep_value: bool,
}
# Values that cannot change once made: the last one prepared may be reused (``preparer``).
IMMUTABLE = (str, int, float, decimal.Decimal, datetime.date, datetime.time)
_MISSING = object()
NONE_TYPE = type(None)


class Row(dict):
    """A record's values by attname, also readable as attributes (``row.start_date``), which is
    how the models' rule functions read a record."""

    __slots__ = ()

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FieldChecks:
    """The checks of a model's fields named in ``attnames`` (relations left out: the importer has
    just found or created them), as ``Model.clean_fields()`` runs them: each field's
    ``clean()`` (type, choices, length, validators), a blank value skipped where the field allows
    one, the cleaned value kept."""

    def __init__(self, model, attnames):
        self.checks = [
            (field, {}, plain_text_limit(field))
            for field in model._meta.concrete_fields
            if field.attname in attnames and not field.is_relation
        ]

    def errors(self, row):
        """{field name: [ValidationError]} for ``row``; cleans its values in place."""
        errors = {}
        for field, accepted, text_limit in self.checks:
            raw = row[field.attname]
            if field.blank and raw in field.empty_values:
                continue
            if text_limit and raw.__class__ is str and 0 < len(raw) <= text_limit:
                continue  # a title, a summary: what the field's clean() accepts as it is
            key = (type(raw), raw) if type(raw) in EXACT_TYPES else None
            if key is not None:
                cleaned = accepted.get(key, _MISSING)
                if cleaned is not _MISSING:
                    row[field.attname] = cleaned
                    continue
            try:
                cleaned = field.clean(raw, None)
            except ValidationError as error:
                errors[field.name] = error.error_list
                continue
            if key is not None and len(accepted) < REMEMBERED:
                accepted[key] = cleaned
            row[field.attname] = cleaned
        return errors


def plain_text_limit(field):
    """The most characters ``field`` accepts when it is plain text (a ``CharField`` or
    ``TextField`` of Django's own checks, no choices, no validator but its length): its
    ``clean()`` then returns any non-empty ``str`` of at most that many characters unchanged, and
    refuses nothing else such a text could be. None for any other field.

    Most of an import's values are such texts, each different (titles, summaries, quotes): none
    gains from being remembered, and ``clean()`` costs a few microseconds each."""
    kind = type(field)
    djangos_own = kind.to_python in (CharField.to_python, TextField.to_python) and (
        kind.clean,
        kind.validate,
        kind.run_validators,
    ) == (Field.clean, Field.validate, Field.run_validators)
    if not djangos_own or field.choices is not None:
        return None
    if any(type(v) is not MaxLengthValidator or v.limit_value != field.max_length for v in field.validators):
        return None
    return field.max_length or sys.maxsize


def check(row, fields, rules=None, **context):
    """The errors of ``row`` (``FieldChecks`` ``fields``, then the model's ``rules(row, **context)``)
    as a ``ValidationError`` like ``full_clean()``'s, or None."""
    errors = fields.errors(row)
    for name, message in (rules(row, **context) if rules else {}).items():
        errors.setdefault(name, []).append(ValidationError(message))
    return ValidationError(errors) if errors else None


def as_is_type(field, using):
    """The Python type whose values ``field`` hands to ``using``'s database unchanged, or None:
    then each value goes through the field's own ``get_db_prep_save``."""
    if field.is_relation:
        field = field.target_field
    cls, ops = type(field), type(using.ops)
    plain = AS_IS.get(cls.get_prep_value)
    if plain is None or cls.get_db_prep_save is not Field.get_db_prep_save:
        return None
    prepare = cls.get_db_prep_value
    if prepare is Field.get_db_prep_value:
        return plain
    base = BaseDatabaseOperations
    if (
        prepare is IntegerField.get_db_prep_value
        and ops.adapt_integerfield_value is base.adapt_integerfield_value
    ):
        return plain
    if (
        prepare is AutoFieldMixin.get_db_prep_value
        and ops.validate_autopk_value is base.validate_autopk_value
    ):
        return plain
    return None


def preparer(field, using=None):
    """A function giving the database's form of a value of ``field`` (its ``get_db_prep_save``)."""
    using = using or connections[DEFAULT_DB_ALIAS]
    prepare, plain = field.get_db_prep_save, as_is_type(field, using)
    if plain is str:  # a text field hands any str (a choice too) on as it is
        return lambda value: value if value is None or isinstance(value, str) else prepare(value, using)
    if plain is not None:
        return lambda value: value if value is None or type(value) is plain else prepare(value, using)
    last = [_MISSING, None]

    def prepared(value):
        # A batch repeats values (its time, a release date): the last one is prepared once.
        if value is last[0]:
            return last[1]
        result = prepare(value, using)
        if isinstance(value, IMMUTABLE):
            last[:] = value, result
        return result

    return prepared


# COPY's text format: a backslash, tab, newline or carriage return in a value is escaped, so that
# it cannot end the value or the row.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_SPECIAL = frozenset("\\\t\n\r")


def copy_text(value):
    """A prepared value as PostgreSQL's ``COPY`` text format reads it (``\\N``: NULL)."""
    kind = type(value)
    if kind is str:
        return value.translate(COPY_ESCAPES) if COPY_SPECIAL.intersection(value) else value
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is int or kind is decimal.Decimal or kind is float:
        return str(value)
    if isinstance(value, datetime.date | datetime.time):  # datetimes too, with their time zone
        return value.isoformat()
    if isinstance(value, str):  # a choice
        return copy_text(str.__str__(value))
    raise TypeError(f"No COPY text for a {kind.__name__}: {value!r}")


# copy_text of each type whose text a C function gives (no Python call per value).
COPY_TEXT_OF_TYPE = {
    int: str,
    float: str,
    decimal.Decimal: str,
    bool: ("f", "t").__getitem__,
    datetime.date: datetime.date.isoformat,
    datetime.datetime: datetime.datetime.isoformat,
    datetime.time: datetime.time.isoformat,
    NONE_TYPE: lambda value: "\\N",
}


def copy_line(values):
    """A row of prepared values as a line of ``COPY``'s text format (no newline): the same as
    ``"\\t".join(map(copy_text, values))``, in far fewer Python calls (an import writes millions
    of values). Texts pass whole when the line shows none of them holds a character to escape:
    as many tabs as separators, as many backslashes as NULLs, no line break."""
    texts = [
        value if value.__class__ is str else COPY_TEXT_OF_TYPE.get(value.__class__, copy_text)(value)
        for value in values
    ]
    line = "\t".join(texts)
    if (
        line.count("\t") == len(texts) - 1
        and line.count("\\") == values.count(None)
        and "\n" not in line
        and "\r" not in line
    ):
        return line
    return "\t".join(map(copy_text, values))


class StreamedLines:
    """The file ``copy_expert`` reads a COPY's rows from, each line made when it is asked for:
    the server inserts the rows sent while the next ones are made (two processes at work, on two
    cores, not one waiting for the other), and no batch's whole text is held at once.

    psycopg2 turns an error raised while a line is made into the COPY's failure (a
    ``DatabaseError``, which an import takes for the database refusing a row): the error is kept
    in ``failure`` so that ``Table.copy`` raises it as it was."""

    def __init__(self, lines):
        self.lines = iter(lines)
        self.failure = None

    def read(self, size=-1):
        """About ``size`` characters of whole lines (all of them for a negative size); "" at the end."""
        chunk, length = [], 0
        try:
            for line in self.lines:
                chunk.append(line)
                length += len(line)
                if 0 <= size <= length:
                    break
        except BaseException as error:
            self.failure = error
            raise
        return "".join(chunk)


def max_parameters(using):
    """How many parameters one statement may carry."""
    if using.vendor == "sqlite":
        using.ensure_connection()
        getlimit = getattr(using.connection, "getlimit", None)  # Python 3.11+
        return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else using.features.max_query_params
    return using.features.max_query_params or 65_535


class Table:
    """A model's table, written with multi-row INSERTs and UPDATEs of ``Row``s.

    ``fields`` are the model's fields to write (default: every concrete field but an automatic
    primary key). Only our own table and column names go into the SQL, quoted; every value is a
    parameter. ``using``: a connection (default: this thread's default one).
    """

    def __init__(self, model, fields=None, using=None):
        using = using or connections[DEFAULT_DB_ALIAS]
        meta = model._meta
        if fields is None:
            fields = [f for f in meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
        self.model, self.fields, self.using = model, fields, using
        self.attnames = [field.attname for field in fields]
        self.preparers = [preparer(field, using) for field in fields]
        # Columns whose values need preparing even when every other value passes as it is.
        self.expected = [as_is_type(field, using) for field in fields]
        self.converted = [
            (i, p) for i, (p, t) in enumerate(zip(self.preparers, self.expected, strict=True)) if t is None
        ]
        self.signatures = {}  # the types of a row's values -> whether they all pass as they are
        quote = using.ops.quote_name
        columns = ", ".join(quote(field.column) for field in fields)
        self.sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES "  # noqa: S608 (our own names)
        self.pk_column, self.pk_attname = quote(meta.pk.column), meta.pk.attname
        self.row_sql = f"({', '.join(['%s'] * len(fields))})"
        self.rows_per_insert = max(1, min(ROWS_PER_INSERT, max_parameters(using) // (len(fields) + 1)))
        self.restamp()

    def restamp(self):
        """Take the time now as the creation and change time of the rows ``defaults`` makes from
        here on (an import restamps once per batch)."""
        now = timezone.now()
        self.template = Row(
            (field.attname, now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
             else field.get_default())
            for field in self.fields
        )  # fmt: skip

    def defaults(self, **values):
        """A ``Row`` of each field's default (the ``restamp`` time for ``auto_now`` and
        ``auto_now_add`` dates), then ``values``: what ``Model.__init__`` and ``save()`` would
        give a new record."""
        row = Row(self.template)
        row.update(values)
        return row

    def prepared(self, row):
        """``row``'s values in the database's form, in column order. A row whose values have the
        types their columns pass as they are (as rows before it had) gets only the other
        columns prepared: most of a table's columns are text and numbers. (Text includes a
        choice such as ``Incident.Status.DRAFT``: a text field hands any ``str`` on as it is.)"""
        values = [row[name] for name in self.attnames]
        signature = tuple(map(type, values))
        plain = self.signatures.get(signature)
        if plain is None:
            plain = all(
                expected is None
                or kind is expected
                or kind is NONE_TYPE
                or (expected is str and issubclass(kind, str))
                for kind, expected in zip(signature, self.expected, strict=True)
            )
            if len(self.signatures) < REMEMBERED:
                self.signatures[signature] = plain
        if not plain:
            return [prepare(value) for prepare, value in zip(self.preparers, values, strict=True)]
        for i, prepare in self.converted:
            values[i] = prepare(values[i])
        return values

    def insert(self, rows, *, match_on=None):
        """INSERT ``rows`` (``Row``s holding every field's value). With ``match_on`` (attnames of
        fields that together are unique: text, numbers, dates), each row's new primary key is set
        on it (``row["id"]``), matched on those values as text (the database may return a date as
        text or as a date), whatever order the database returns the rows in.

        On PostgreSQL each row's primary key is set on it whether or not ``match_on`` is given:
        ``COPY_FROM_ROWS`` rows or more are numbered first and sent with ``COPY`` (``copy``); fewer
        are INSERTed, their keys returned in the order of their VALUES (as Django's
        ``bulk_create`` relies on)."""
        rows = list(rows)
        postgresql = self.using.vendor == "postgresql"
        if postgresql and len(rows) >= COPY_FROM_ROWS:
            return self.copy(rows)
        returning, key = "", None
        if postgresql:
            returning, match_on = f" RETURNING {self.pk_column}", None
        elif match_on:
            position = {name: i for i, name in enumerate(self.attnames)}
            key = [(name, self.preparers[position[name]]) for name in match_on]
            named = ", ".join(
                self.using.ops.quote_name(self.fields[position[name]].column) for name in match_on
            )
            returning = f" RETURNING {self.pk_column}, {named}"
        new_ids = {}
        with self.using.cursor() as cursor:
            for start in range(0, len(rows), self.rows_per_insert):
                chunk = rows[start : start + self.rows_per_insert]
                params = [value for row in chunk for value in self.prepared(row)]
                cursor.execute(self.sql + ", ".join([self.row_sql] * len(chunk)) + returning, params)
                if postgresql:
                    for row, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                        row[self.pk_attname] = pk
                elif match_on:
                    new_ids.update((tuple(map(str, values)), pk) for pk, *values in cursor.fetchall())
        if match_on:
            for row in rows:
                row[self.pk_attname] = new_ids[tuple(str(prepare(row[name])) for name, prepare in key)]
        return rows

    def reserve_ids(self, count):
        """``count`` new primary keys from the table's own sequence, in ascending order, for rows
        written with ``copy()``; None where the database numbers rows only as it inserts them
        (SQLite)."""
        if self.using.vendor != "postgresql":
            return None
        with self.using.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [self.using.ops.quote_name(self.model._meta.db_table), self.model._meta.pk.column, count],
            )
            return sorted(pk for (pk,) in cursor.fetchall())

    def copy(self, rows):
        """INSERT ``rows`` into a PostgreSQL table with ``COPY … FROM STDIN``; a row without a
        primary key is numbered first from the table's own sequence (``row["id"]``, in the order
        of ``rows``). Returns them.

        The server reads ``COPY``'s rows far faster than a multi-row INSERT's (no statement of
        thousands of parameters to parse and plan), and its text takes less work here than
        quoting every parameter. Every constraint, foreign key and trigger applies as to an INSERT.
        """
        if not rows:
            return rows
        quote = self.using.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join([self.pk_column, *(quote(field.column) for field in self.fields)])
        with transaction.atomic(using=self.using.alias), self.using.cursor() as cursor:
            unnumbered = [row for row in rows if row.get(self.pk_attname) is None]
            if unnumbered:
                for row, pk in zip(unnumbered, self.reserve_ids(len(unnumbered)), strict=True):
                    row[self.pk_attname] = pk
            for start in range(0, len(rows), COPY_ROWS):
                text = StreamedLines(
                    copy_line([row[self.pk_attname], *self.prepared(row)]) + "\n"
                    for row in rows[start : start + COPY_ROWS]
                )
                # Only our own table and column names, quoted; the values are data, not SQL.
                try:
                    # copy_expert is psycopg2's own, past Django's cursor: its errors are made
                    # Django's here (a refused row is an IntegrityError, as from an INSERT). The
                    # size by position: Django's debug cursor (DEBUG on, as `make run`) passes on
                    # no keywords.
                    with self.using.wrap_database_errors:
                        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", text, COPY_READ_SIZE)
                except DatabaseError:
                    if text.failure is not None:
                        raise text.failure from None  # our error, not the database's
                    raise
                # COPY goes to psycopg2 directly (copy_expert), past the connection's execute
                # wrappers, so dataversion does not see it: the data version is moved on here, in
                # the same transaction, as dataversion does after each public INSERT.
                dataversion.bump(self.using)
        return rows

    def update(self, rows, *, also=()):
        """UPDATE each of ``rows`` (found by its primary key) to its values of this table's fields,
        a few hundred rows to a statement (``UPDATE … FROM (VALUES …)``), not a statement a row.
        ``also``: SQL assignments added for every row (our own, e.g. a version moved on)."""
        rows = list(rows)
        if not rows:
            return
        quote = self.using.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = [
            f"{quote(field.column)} = {self._values_column(i, field)}" for i, field in enumerate(self.fields)
        ]
        assignments = ", ".join([*columns, *also])
        row_sql = f"(%s, {self.row_sql[1:]}"
        with self.using.cursor() as cursor:
            for start in range(0, len(rows), self.rows_per_insert):
                chunk = rows[start : start + self.rows_per_insert]
                params = [value for row in chunk for value in (row[self.pk_attname], *self.prepared(row))]
                # Only our own table and column names, quoted; every value is a parameter.
                values = ", ".join([row_sql] * len(chunk))
                sql = (
                    f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v "  # noqa: S608
                    f"WHERE {table}.{self.pk_column} = v.column1"
                )
                cursor.execute(sql, params)

    def _values_column(self, index, field):
        """The VALUES column of field ``index`` (after the primary key's, column1), as ``field``'s
        type: PostgreSQL types a VALUES column from its values (NULLs alone read as text); SQLite
        needs no type."""
        column = f"v.column{index + 2}"
        if self.using.vendor == "postgresql":
            return f"CAST({column} AS {field.cast_db_type(self.using)})"
        return column
