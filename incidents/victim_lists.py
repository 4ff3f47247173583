"""Lists of people pasted into the admin, one person a line ("name, age, sex"), read and checked
before anything is saved; and the warning when a person seems recorded in another incident."""

import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower

from incidents.models import Victim
from incidents.models.victims import AgeGroup, Sex

# More lines than any one list we have seen; keeps a stray paste of a whole file from the form.
MAX_LINES = 1000

ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
YEARS = re.compile(r"([0-9]{1,4})\s*(?:years?|yrs?|y)?(?:\s+old)?", re.IGNORECASE)
MONTHS = re.compile(r"([0-9]{1,2})\s*(?:months?|mos?)(?:\s+old)?", re.IGNORECASE)
AGE_WORDS = {
    "child": AgeGroup.CHILD,
    "adult": AgeGroup.ADULT,
    "elderly": AgeGroup.ELDERLY,
    "unknown": AgeGroup.UNKNOWN,
    "?": AgeGroup.UNKNOWN,
}
SEX_WORDS = {
    **dict.fromkeys(["f", "female", "woman", "girl", "w", "أنثى", "انثى"], Sex.FEMALE),
    **dict.fromkeys(["m", "male", "man", "boy", "ذكر"], Sex.MALE),
    **dict.fromkeys(["", "u", "?", "unknown"], Sex.UNKNOWN),
}
UNNAMED = {"", "-", "?", "unnamed", "unknown", "no name"}


@dataclass
class PastedPerson:
    """One line of a pasted list: what was read from it, and what is wrong with it."""

    number: int
    text: str
    victim: Victim | None = None
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def read_list(text, *, incident, status, date_of_death=None):
    """Each non-empty line of ``text`` as a ``PastedPerson``, checked by ``Victim.full_clean()``
    (nothing is saved). No query but the duplicate check (one query)."""
    people = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            people.append(_read_line(number, line.strip(), incident, status, date_of_death))
    _warn_about_duplicates(people, incident)
    return people


def _read_line(number, line, incident, status, date_of_death):
    person = PastedPerson(number, line)
    parts = [part.strip() for part in (line.split("\t") if "\t" in line else re.split(r"[,،]", line))]
    if len(parts) > 3:
        person.errors.append(
            "Too many commas: write “name, age, sex”. A name with a comma in it goes between "
            "tabs (paste from a spreadsheet) or without the comma."
        )
        return person
    name, age_text, sex_text = [*parts, "", ""][:3]
    victim = Victim(incident=incident, status=status, date_of_death=date_of_death)
    if name.lower() not in UNNAMED:
        if ARABIC.search(name):
            victim.name_ar = name
        else:
            victim.name = name
    _read_age(age_text, victim, person)
    sex = SEX_WORDS.get(sex_text.lower())
    if sex is None:
        person.errors.append(f"Could not read the sex “{sex_text}”: write female, male or unknown (f, m).")
    else:
        victim.sex = sex
    if not person.errors:
        try:
            victim.full_clean(exclude=["incident"])
        except ValidationError as error:
            person.errors += [
                f"{Victim._meta.get_field(name).verbose_name.capitalize()}: {' '.join(messages)}"
                for name, messages in error.message_dict.items()
            ]
    person.victim = victim
    return person


def _read_age(text, victim, person):
    if not text:
        return
    if text.lower() in AGE_WORDS:
        victim.age_group = AGE_WORDS[text.lower()]
    elif match := MONTHS.fullmatch(text):
        victim.age = 0 if int(match.group(1)) < 12 else int(match.group(1)) // 12
    elif match := YEARS.fullmatch(text):
        victim.age = int(match.group(1))
    else:
        person.errors.append(
            f"Could not read the age “{text}”: write the age in years (2), in months for a baby "
            "(6 months), or child, adult or elderly."
        )


def _warn_about_duplicates(people, incident):
    readable = [p for p in people if p.victim and (p.victim.name or p.victim.name_ar)]
    seen = {}
    for person in readable:
        key = same_person_key(person.victim, incident)
        if key in seen:
            person.warnings.append(f"The same name and date of death as line {seen[key]} of this list.")
        seen.setdefault(key, person.number)
    elsewhere = recorded_elsewhere(incident, [p.victim for p in readable])
    for person in readable:
        for other in elsewhere.get(same_person_key(person.victim, incident), []):
            person.warnings.append(duplicate_warning(other))


def same_person_key(victim, incident):
    """What two records of the same person share: the name (either script, any case) and the date
    of death (the incident's start when none is given)."""
    names = frozenset(n.strip().casefold() for n in (victim.name, victim.name_ar) if n.strip())
    return names, victim.date_of_death or incident.start_date


def recorded_elsewhere(incident, victims):
    """{``same_person_key``: [people with that name and date of death on other incidents]}, for
    the unsaved or saved ``victims`` of ``incident``. One query."""
    names = {n.strip().lower() for v in victims for n in (v.name, v.name_ar) if n.strip()}
    if not names:
        return {}
    candidates = (
        Victim.objects.annotate(lower_name=Lower("name"), lower_name_ar=Lower("name_ar"))
        .filter(Q(lower_name__in=names) | Q(lower_name_ar__in=names))
        .exclude(incident=incident)
        .select_related("incident")
    )
    by_name_and_day = defaultdict(list)
    for other in candidates:
        day = other.date_of_death or other.incident.start_date
        for name in (other.name, other.name_ar):
            if name.strip():
                by_name_and_day[(name.strip().casefold(), day)].append(other)
    found = defaultdict(list)
    for victim in victims:
        key = same_person_key(victim, incident)
        names, day = key
        for name in names:
            for other in by_name_and_day.get((name, day), []):
                if other not in found[key]:
                    found[key].append(other)
    return found


def duplicate_warning(other):
    day = other.date_of_death or other.incident.start_date
    return (
        f"“{other}” who died on {day:%-d %B %Y} is already recorded in “{other.incident}”: "
        "check that this is not the same person counted twice."
    )
