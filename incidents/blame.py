"""Who did it, according to whom (DESIGN.md, "Attribution"): pure rules, no database.

Blame is recorded per source, never as one joint list: "Gaza MoH alleges the IDF; US
intelligence alleges PIJ; PIJ denies". A source's current stance on an actor is its latest
attribution for that actor (by ``published_on``, then entry order). The one writer of derived
data (``incidents.tolls``) stores what these functions say: the alleged perpetrators and
claims of each incident, and whether its attribution is disputed.
"""

from dataclasses import dataclass

from django.utils.translation import gettext, ngettext, pgettext

from incidents.templatetags.bilingual import text_in_page_language

ALLEGED = "alleged"
CLAIMED = "claimed"
DENIED = "denied"


def current_stances(attributions):
    """{(source_id, actor_id): the current attribution} over one incident's ``attributions``
    (objects with ``source_id``, ``actor_id``, ``stance``, ``published_on``, ``pk``)."""
    current = {}
    for attribution in attributions:
        key = (attribution.source_id, attribution.actor_id)
        held = current.get(key)
        if held is None or (attribution.published_on, attribution.pk) > (held.published_on, held.pk):
            current[key] = attribution
    return current


@dataclass(frozen=True)
class Blame:
    """An incident's attribution as its sources currently state it."""

    alleged: frozenset  # actor ids alleged by at least one source
    claimed: frozenset  # actor ids that claimed it
    denied: frozenset  # actor ids that denied it
    is_disputed: bool


def blame(attributions):
    """The ``Blame`` of one incident's attributions.

    Disputed when the sets of actors its sources currently allege differ (one source alleges
    the IDF, another PIJ), or when an alleged actor denies.
    """
    current = current_stances(attributions).values()
    alleged_by_source = {}
    for attribution in current:
        if attribution.stance == ALLEGED:
            alleged_by_source.setdefault(attribution.source_id, set()).add(attribution.actor_id)
    alleged = frozenset(a.actor_id for a in current if a.stance == ALLEGED)
    claimed = frozenset(a.actor_id for a in current if a.stance == CLAIMED)
    denied = frozenset(a.actor_id for a in current if a.stance == DENIED)
    sets = {frozenset(actors) for actors in alleged_by_source.values()}
    return Blame(alleged, claimed, denied, is_disputed=len(sets) > 1 or bool(alleged & denied))


def _names(names):
    """ "A, B and C", in the page's language."""
    names = list(names)
    if len(names) == 1:
        return names[0]
    return gettext("%(names)s and %(last)s") % {
        "names": pgettext("between items of a list", ", ").join(names[:-1]),
        "last": names[-1],
    }


def blame_sentence(current):
    """Who blames whom, in words and in the page's language: "Gaza MoH alleges the Israel Defense
    Forces; US intelligence and French military intelligence allege Palestinian Islamic Jihad;
    Palestinian Islamic Jihad denies." ``current``: the current attributions, with ``source`` and
    ``actor`` loaded. Names in the page's language (``name_ar`` on an Arabic page, when given)."""
    groups = {}
    for attribution in sorted(current, key=lambda a: (a.published_on, a.pk)):
        groups.setdefault((attribution.stance, attribution.actor), []).append(attribution.source)
    phrases = []
    for (stance, actor), sources in groups.items():
        labels = [text_in_page_language(source, "label") for source in sources]
        actor_name = text_in_page_language(actor, "name")
        if stance == ALLEGED:
            phrase = ngettext("%(sources)s alleges %(actor)s", "%(sources)s allege %(actor)s", len(labels))
            phrases.append(phrase % {"sources": _names(labels), "actor": actor_name})
        else:
            phrase = (
                gettext("%(actor)s claims responsibility")
                if stance == CLAIMED
                else gettext("%(actor)s denies")
            ) % {"actor": actor_name}
            said_by_itself = [s for s in sources if s.name == actor.name or s.label == actor.name]
            others = [
                label for source, label in zip(sources, labels, strict=True) if source not in said_by_itself
            ]
            if others:
                phrase = gettext("%(statement)s (according to %(sources)s)") % {
                    "statement": phrase,
                    "sources": _names(others),
                }
            phrases.append(phrase)
    if not phrases:
        return ""
    return gettext("%(statements)s.") % {"statements": pgettext("between statements", "; ").join(phrases)}
