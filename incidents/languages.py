"""Languages of what sources say: ISO 639-1 codes (``TollReport.quote_language``)."""

from django.core.exceptions import ValidationError

# Every two-letter code of ISO 639-1 (the 183 in use; "sh" was withdrawn). A string keeps the
# table readable.
ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da
    de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz
    ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln
    lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi
    pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti
    tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu""".split()  # noqa: SIM905
)

MESSAGE = (
    "Enter the language as its two-letter ISO 639-1 code in lower case: ar for Arabic, "
    "en for English, fr for French."
)


def validate_iso_639_1(value):
    if value and value not in ISO_639_1:
        raise ValidationError(MESSAGE, code="invalid_language")
