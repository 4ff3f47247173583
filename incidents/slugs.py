from django.utils.text import slugify


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
