import secrets

from django.db import IntegrityError, transaction
from django.utils.text import slugify

# Two people saving records with the same title at the same moment can both find a slug free;
# the loser of the race tries the next free one. Racers cannot see each other's uncommitted
# slugs, so after a few numbered tries a random suffix ends the race.
SLUG_ATTEMPTS = 10
NUMBERED_ATTEMPTS = 3


def unique_slug(model, *candidates, exclude_pk=None, max_length=80, fallback="item"):
    """The first free slug among ``candidates``, else the first one numbered (-2, -3 ...).

    Costs one query per candidate tried. Names that slugify to nothing (Arabic
    script, punctuation) fall back to ``fallback``.
    """
    bases = [slugify(c)[:max_length].strip("-") for c in candidates if c]
    if not bases or not bases[0]:
        bases.insert(0, slugify(fallback)[:max_length] or "item")
    bases = [b for b in bases if b]
    others = model._default_manager.all()
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    for base in dict.fromkeys(bases):
        if not others.filter(slug=base).exists():
            return base
    base = bases[0]
    taken = set(others.filter(slug__startswith=base).values_list("slug", flat=True))
    number = 2
    while True:
        suffix = f"-{number}"
        slug = base[: max_length - len(suffix)] + suffix
        if slug not in taken:
            return slug
        number += 1


def save_with_free_slug(instance, save, *candidates, fallback):
    """``save()`` the instance, first giving it a free slug made from ``candidates`` if it has none.

    When a same-moment save takes the slug first, the database refuses this one (unique
    index); it is retried with the next free slug instead of failing.
    """
    if instance.slug:
        return save()
    model = type(instance)
    for attempt in range(SLUG_ATTEMPTS):
        instance.slug = unique_slug(model, *candidates, exclude_pk=instance.pk, fallback=fallback)
        if attempt >= NUMBERED_ATTEMPTS:
            instance.slug = f"{instance.slug[:70]}-{secrets.token_hex(3)}"
        try:
            with transaction.atomic():
                return save()
        except IntegrityError:
            taken = model._default_manager.filter(slug=instance.slug).exclude(pk=instance.pk).exists()
            instance.slug = ""
            if not taken or attempt == SLUG_ATTEMPTS - 1:
                raise
    return None
