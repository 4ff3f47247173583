"""How two spellings of a place or actor name are compared: pure text, no database.

"Hims governorate", "Homs" and "حِمص" differ in words that only say what kind of place it is,
in accents, case and Arabic letter forms. ``normalise`` removes those differences; what remains
("hims" vs "homs") is a real variant, recorded once as a name of the place (``PlaceName``).
"""

import re
import unicodedata

# Words that say what kind of place a name is, not which place ("Idlib governorate").
PLACE_WORDS = {
    "governorate", "province", "district", "sub-district", "subdistrict", "region", "town", "city",
    "village", "muhafazat", "mohafazat", "mintaqat", "nahiyat", "nahiya", "mantika",
}  # fmt: skip
# Arabic letters written several ways: alef with hamza or madda, teh marbuta, alef maksura.
ARABIC_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None})
# ACLED's "Military Forces of Syria (2000-)": the years say which government, not another actor.
YEARS = re.compile(r"\(\s*\d{4}\s*-\s*(\d{4})?\s*\)")
NOT_A_LETTER = re.compile(r"[^\w]+")
# "Ma'arrat" and "Maarrat" are one name: apostrophes and ayn/hamza signs are dropped, not spaced.
APOSTROPHES = re.compile(r"['’‘`ʿʾ]")


def normalise(name, *, place=False):
    """The form two names are compared in: lower case, no accents or tashkeel, punctuation and
    (for a place) words like "governorate" removed."""
    text = APOSTROPHES.sub("", YEARS.sub(" ", name or ""))
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.translate(ARABIC_FORMS).casefold()
    words = NOT_A_LETTER.sub(" ", text.replace("_", " ")).split()
    if place:
        kept = [word for word in words if word not in PLACE_WORDS]
        words = kept or words  # "District" alone is still a name
    return " ".join(words)
