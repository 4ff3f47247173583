"""Who did it, according to whom (DESIGN.md, "Attribution"): pure rules, no database.

Blame is recorded per source, never as one joint list: "Gaza MoH alleges the IDF; US
intelligence alleges PIJ; PIJ denies". A source's current stance on an actor is its latest
attribution for that actor (by ``published_on``, then entry order). The one writer of derived
data (``incidents.tolls``) stores what these functions say: the alleged perpetrators and
claims of each incident, and whether its attribution is disputed.
"""

from dataclasses import dataclass

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
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def blame_sentence(current):
    """Who blames whom, in words: "Gaza MoH alleges the Israel Defense Forces; US intelligence and
    French military intelligence allege Palestinian Islamic Jihad; Palestinian Islamic Jihad
    denies." ``current``: the current attributions, with ``source`` and ``actor`` loaded."""
    groups = {}
    for attribution in sorted(current, key=lambda a: (a.published_on, a.pk)):
        groups.setdefault((attribution.stance, attribution.actor.name), []).append(attribution.source)
    phrases = []
    for (stance, actor), sources in groups.items():
        labels = [source.label for source in sources]
        if stance == ALLEGED:
            verb = "alleges" if len(labels) == 1 else "allege"
            phrases.append(f"{_names(labels)} {verb} {actor}")
        else:
            verb = "claims responsibility" if stance == CLAIMED else "denies"
            said_by_itself = [s for s in sources if s.name == actor or s.label == actor]
            others = [
                label for source, label in zip(sources, labels, strict=True) if source not in said_by_itself
            ]
            phrases.append(f"{actor} {verb}" + (f" (according to {_names(others)})" if others else ""))
    return "; ".join(phrases) + "." if phrases else ""
