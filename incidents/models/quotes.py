"""A source's words as stated, with their language and an English translation: the same three
fields and rules on reports and attributions (``quote_fields``, ``quote_constraints``,
``quote_errors``)."""

from django.db import models
from django.db.models import CheckConstraint, Q

from incidents import languages
from incidents.languages import ISO_639_1, validate_iso_639_1


def quote_fields():
    """``quote_language``, ``quote_translation``, ``translation_is_machine``, made afresh for each
    model (and in the order of its class body)."""
    return (
        models.CharField(
            "language of the quote",
            max_length=2,
            blank=True,
            validators=[validate_iso_639_1],
            help_text="Its ISO 639-1 code: ar (Arabic), en (English), fr (French) …",
        ),
        models.TextField(
            "English translation of the quote",
            blank=True,
            help_text="Leave empty when the quote is in English.",
        ),
        models.BooleanField(
            "machine translation",
            default=False,
            help_text="Tick when a machine translated the quote and no person checked it: readers are told.",
        ),
    )


def quote_constraints(prefix):
    """The rules of ``quote_errors`` in the database, named ``<prefix>_…``."""
    return [
        CheckConstraint(
            condition=Q(quote_language="") | Q(quote_language__in=sorted(ISO_639_1)),
            name=f"{prefix}_quote_language_is_iso_639_1",
        ),
        CheckConstraint(
            condition=Q(quote_translation="") | (~Q(quote="") & ~Q(quote_language="")),
            name=f"{prefix}_translation_has_a_quote_and_its_language",
        ),
        CheckConstraint(
            condition=Q(translation_is_machine=False) | ~Q(quote_translation=""),
            name=f"{prefix}_machine_translation_has_a_translation",
        ),
    ]


def quote_errors(record):
    """{field: message} for a record's quote, language and translation."""
    errors = {}
    if record.quote_language and record.quote_language not in ISO_639_1:
        errors["quote_language"] = languages.MESSAGE
    if record.quote_translation and not record.quote:
        errors["quote_translation"] = "There is no quote to translate: enter the source's words first."
    elif record.quote_translation and not record.quote_language and "quote_language" not in errors:
        errors["quote_language"] = "Say which language the quote is in (ar, fr …): it has a translation."
    if record.translation_is_machine and not record.quote_translation:
        errors["translation_is_machine"] = "There is no translation: untick this, or enter the translation."
    return errors
