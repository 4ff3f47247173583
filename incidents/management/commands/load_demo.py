"""Load the incidents of shared/seed-article.txt as published demo data. Idempotent."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import ngettext

from incidents import workflow
from incidents.models import (
    Actor,
    ActorName,
    Attribution,
    Incident,
    Location,
    PlaceName,
    Source,
    TollReport,
    Victim,
)
from incidents.names import normalise

ARTICLE_DATE = datetime.date(2023, 11, 14)
QUOTE_LANGUAGE = "en"  # the seed article's, which every quote below comes from
ARTICLE_NOTE = (
    "Relayed in a news article dated 14 November 2023 (the project's seed article); "
    "no link to the original statement is recorded."
)

# (key, name, Arabic name, kind, parent key, P-code, latitude, longitude)
LOCATIONS = [
    ("syria", "Syria", "سوريا", "country", None, "SY", None, None),
    ("homs-gov", "Homs", "حمص", "admin1", "syria", "SY04", None, None),
    ("idlib-gov", "Idlib", "إدلب", "admin1", "syria", "SY07", None, None),
    ("aleppo-gov", "Aleppo", "حلب", "admin1", "syria", "SY02", None, None),
    ("homs-district", "Homs", "حمص", "admin2", "homs-gov", "SY0400", None, None),
    ("idlib-district", "Idlib", "إدلب", "admin2", "idlib-gov", "SY0700", None, None),
    ("homs-city", "Homs", "حمص", "locality", "homs-district", None, "34.732400", "36.713700"),
    ("idlib-city", "Idlib", "إدلب", "locality", "idlib-district", None, "35.930600", "36.633900"),
    # The article does not say which district the village lies in.
    ("jaftallak", "Jaftallak Haj Hamoud", "جفتلك الحاج حمود", "locality", "idlib-gov", None, None, None),
]

# Other spellings of the places, as UCDP GED ("Hims governorate") and ACLED ("Idleb") write them,
# so that an import finds these places instead of creating second ones.
PLACE_NAMES = {
    "syria": ["Syrian Arab Republic"],
    "homs-gov": ["Hims"],
    "homs-district": ["Hims"],
    "homs-city": ["Hims"],
    "idlib-gov": ["Idleb", "Edlib"],
    "idlib-district": ["Idleb", "Edlib"],
    "idlib-city": ["Idleb", "Edlib"],
    "aleppo-gov": ["Halab"],
}
# What Syria calls its levels (pages say "Homs (governorate)").
SYRIAN_LEVELS = {"admin1_name": "governorate", "admin2_name": "district", "admin3_name": "sub-district"}

# (key, name, Arabic name, kind). The Arabic names describe, as the English ones do.
ACTORS = [
    ("syrian-forces", "Syrian government forces", "القوات الحكومية السورية", "state_forces"),
    ("russian-forces", "Russian forces", "القوات الروسية", "foreign_forces"),
    ("drone-operators", "Unidentified drone operators", "مشغّلو طائرات مسيّرة مجهولون", "unidentified"),
]

# The datasets' names for the same actors.
ACTOR_NAMES = {
    "syrian-forces": ["Government of Syria", "Military Forces of Syria (2000-)", "Syrian Arab Army"],
    "russian-forces": ["Government of Russia (Soviet Union)", "Military Forces of Russia (1991-)"],
}

# (key, name, short name, kind, affiliation, website, Arabic name). The ministry and SOHR publish
# in Arabic under these names; the news article is named in Arabic as in English.
SOURCES = [
    (
        "moh",
        "Syrian Ministry of Health",
        "MoH",
        "government",
        "Ministry of the Syrian government.",
        "https://www.moh.gov.sy/",
        "وزارة الصحة السورية",
    ),
    (
        "sohr",
        "Syrian Observatory for Human Rights",
        "SOHR",
        "monitoring_group",
        "UK-based monitoring group with a network of informants in Syria; opposed to the government.",
        "https://www.syriahr.com/en/",
        "المرصد السوري لحقوق الإنسان",
    ),
    (
        "news",
        "News report, 14 November 2023",
        "News",
        "media",
        "The unattributed news article the demo data comes from.",
        "",
        "تقرير إخباري، 14 نوفمبر 2023",
    ),
]

HOMS_QUOTE = (
    "The Ministry of Health reported a death toll of at least 89, whereas the Syrian Observatory "
    "for Human Rights placed the figures at over 120."
)

INCIDENTS = [
    {
        "slug": "homs-military-academy-drone-strike-2023-10-05",
        "title": "Drone strike on the Homs military academy graduation ceremony",
        "title_ar": "هجوم بطائرات مسيّرة على حفل تخريج في الكلية الحربية بحمص",
        "summary_ar": (
            "هاجمت عدة طائرات مسيّرة حفل تخريج في الكلية الحربية في حمص، حيث تجمّعت عائلات وضباط جدد. "
            "وكان بين الضحايا نساء وأطفال. وأعلنت سوريا الحداد الوطني ثلاثة أيام. ولم تعلن أي جماعة "
            "مسؤوليتها؛ وحمّلت وزارتا الدفاع والخارجية السوريتان «إرهابيين» المسؤولية."
        ),
        "summary": (
            "Several drones attacked a graduation ceremony at the military academy in Homs, where "
            "families and new officers had gathered. Women and children were among the victims. "
            "Syria declared three days of national mourning. No group claimed responsibility; "
            "Syria's Ministries of Defence and Foreign Affairs blamed “terrorists”."
        ),
        "kind": "air_strike",
        "start_date": datetime.date(2023, 10, 5),
        "end_date": None,
        "date_precision": "day",
        "location": "homs-city",
        "place": "Military academy, graduation ceremony",
        "location_precision": "exact",
        # The article: drones attacked; the ministries blamed "terrorists"; no group claimed it.
        "attributions": [
            (
                "news",
                "drone-operators",
                "alleged",
                "several drones carried out an unprecedented attack on a graduation ceremony at the "
                "military academy",
            )
        ],
        "reports": [
            {
                "source": "moh",
                "published_on": datetime.date(2023, 10, 5),
                "killed": 89,
                "killed_qualifier": "at_least",
                "quote": HOMS_QUOTE,
                "note": "Women and children among the dead. " + ARTICLE_NOTE,
            },
            {
                "source": "sohr",
                "published_on": datetime.date(2023, 10, 6),
                "killed": 120,
                "killed_qualifier": "more_than",
                "quote": HOMS_QUOTE,
                "note": ARTICLE_NOTE,
            },
        ],
    },
    {
        "slug": "idlib-shelling-2023-10-05",
        "title": "Government shelling and missile attacks on Idlib after the Homs strike",
        "title_ar": "قصف مدفعي وصاروخي حكومي على إدلب بعد هجوم حمص",
        "summary_ar": (
            "بعد هجوم حمص، صعّدت القوات الحكومية السورية قصفها المدفعي والصاروخي على إدلب الخاضعة "
            "لسيطرة المعارضة: قُتل أربعة عشر شخصًا يوم الخميس وثلاثة آخرون يوم الجمعة. وأُلغيت صلاة "
            "الجمعة في مناطق سيطرة المعارضة في إدلب وحلب خشية استهداف المساجد."
        ),
        "summary": (
            "After the Homs strike, Syrian government forces intensified shelling and missile "
            "attacks on opposition-held Idlib: fourteen people were killed on Thursday and three "
            "more on Friday. Friday prayers were cancelled in opposition-held areas of Idlib and "
            "Aleppo for fear of attacks on mosques."
        ),
        "kind": "shelling",
        "start_date": datetime.date(2023, 10, 5),
        "end_date": datetime.date(2023, 10, 6),
        "date_precision": "days",
        "location": "idlib-gov",
        "place": "Opposition-held areas of Idlib governorate",
        "location_precision": "admin1",
        "attributions": [
            (
                "news",
                "syrian-forces",
                "alleged",
                "Syrian government forces intensified their assault on Idlib, resorting to shelling and "
                "missile attacks.",
            )
        ],
        "reports": [
            {
                "source": "news",
                "published_on": datetime.date(2023, 11, 14),
                "killed": 17,
                "killed_qualifier": "exact",
                "civilians": 7,
                "quote": (
                    "The bombardment resulted in the death of fourteen individuals on Thursday and "
                    "three more on Friday. […] seven civilians lost their lives in Idlib"
                ),
                "note": "14 killed on Thursday 5 October and 3 on Friday 6 October. " + ARTICLE_NOTE,
            },
        ],
    },
    {
        "slug": "jaftallak-haj-hamoud-air-attack-2023-10",
        "title": "Russian air attack on Jaftallak Haj Hamoud kills a two-year-old child",
        "title_ar": "غارة جوية روسية على جفتلك الحاج حمود تقتل طفلًا في الثانية من عمره",
        "summary": "A two-year-old child was killed in a Russian air attack on the village.",
        "summary_ar": "قُتل طفل في الثانية من عمره في غارة جوية روسية على القرية.",
        "kind": "air_strike",
        "start_date": datetime.date(2023, 10, 5),
        "end_date": datetime.date(2023, 10, 6),
        "date_precision": "days",
        "location": "jaftallak",
        "place": "Jaftallak Haj Hamoud village",
        "location_precision": "exact",
        "attributions": [
            ("news", "russian-forces", "alleged", "a two-year-old child caught in a Russian air attack")
        ],
        "reports": [
            {
                "source": "news",
                "published_on": datetime.date(2023, 11, 14),
                "killed": 1,
                "killed_qualifier": "exact",
                "civilians": 1,
                "children": 1,
                "quote": (
                    "among the victims was a two-year-old child caught in a Russian air attack in "
                    "the village of Jaftallak Haj Hamoud."
                ),
                "note": ARTICLE_NOTE,
            },
        ],
    },
    {
        "slug": "idlib-city-artillery-married-couple-2023-10",
        "title": "Government artillery kills a married couple in Idlib city",
        "title_ar": "قصف مدفعي حكومي يقتل زوجين في مدينة إدلب",
        "summary_ar": (
            "استهدف قصف مدفعي للقوات الحكومية السورية أحياءً سكنية في مدينة إدلب، ما أسفر عن مقتل زوجين."
        ),
        "summary": (
            "Syrian government artillery hit residential areas of Idlib city, killing a married couple."
        ),
        "kind": "shelling",
        "start_date": datetime.date(2023, 10, 5),
        "end_date": datetime.date(2023, 10, 6),
        "date_precision": "days",
        "location": "idlib-city",
        "place": "Residential areas",
        "location_precision": "near",
        "attributions": [
            (
                "news",
                "syrian-forces",
                "alleged",
                "a married couple was tragically killed when Syrian government artillery targeted "
                "residential areas in Idlib city.",
            )
        ],
        "reports": [
            {
                "source": "news",
                "published_on": datetime.date(2023, 11, 14),
                "killed": 2,
                "killed_qualifier": "exact",
                "civilians": 2,
                "quote": (
                    "a married couple was tragically killed when Syrian government artillery "
                    "targeted residential areas in Idlib city."
                ),
                "note": ARTICLE_NOTE,
            },
        ],
    },
]

# The people the article identifies, with only what it says of them: no names, so nothing for an
# editor to release. (incident slug, [fields of each person])
COUPLE_NOTE = (
    "One of “a married couple” killed when government artillery hit residential areas of Idlib "
    "city (seed article). The article gives no names, ages or sexes."
)
VICTIMS = [
    (
        "jaftallak-haj-hamoud-air-attack-2023-10",
        [
            {
                "age": 2,
                "status": "civilian",
                "note": "“a two-year-old child caught in a Russian air attack in the village of Jaftallak "
                "Haj Hamoud” (seed article). No name or sex given.",
            }
        ],
    ),
    (
        "idlib-city-artillery-married-couple-2023-10",
        [{"status": "civilian", "note": COUPLE_NOTE}, {"status": "civilian", "note": COUPLE_NOTE}],
    ),
]

# The seed says the child was "among the victims" of the bombardment that killed 14 + 3: a part
# of it, counted within its 17. The married couple ("Furthermore, …") is read as more deaths.
PARTS = [("jaftallak-haj-hamoud-air-attack-2023-10", "idlib-shelling-2023-10-05")]

# The strike and what followed it.
RELATIONS = [
    ("homs-military-academy-drone-strike-2023-10-05", "idlib-shelling-2023-10-05"),
    ("idlib-shelling-2023-10-05", "idlib-city-artillery-married-couple-2023-10"),
]

DEMO_USERS = [
    # (username, group or None for a superuser)
    ("admin", None),
    ("editor", "Editor"),
    ("analyst", "Analyst"),
]


class Command(BaseCommand):
    help = "Load the incidents of the seed article (Homs, Idlib, October 2023) as published demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo-users",
            action="store_true",
            help="Also create the logins admin, editor and analyst (password = user name). "
            "Refused unless DJANGO_DEBUG is on.",
        )

    def handle(self, *args, demo_users=False, **options):
        if demo_users and not settings.DEBUG:
            raise CommandError("--demo-users creates well-known passwords: only with DJANGO_DEBUG=1.")
        with transaction.atomic():
            created = self.load()
        added = ngettext("%(count)d incident added", "%(count)d incidents added", created) % {
            "count": created
        }
        self.stdout.write(
            self.style.SUCCESS(f"Demo data: {added}, {len(INCIDENTS) - created} already there.")
        )
        if demo_users:
            self.create_demo_users()

    def load(self):
        places = {}
        for key, name, name_ar, kind, parent, pcode, lat, lon in LOCATIONS:
            places[key] = Location.objects.get_or_create(
                slug=key,
                defaults={
                    "name": name,
                    "name_ar": name_ar,
                    "kind": kind,
                    "parent": places.get(parent),
                    "pcode": pcode,
                    "latitude": Decimal(lat) if lat else None,
                    "longitude": Decimal(lon) if lon else None,
                },
            )[0]
        for key, names in PLACE_NAMES.items():
            for name in names:
                if not PlaceName.objects.filter(
                    location=places[key], key=normalise(name, place=True)
                ).exists():
                    PlaceName.objects.create(location=places[key], name=name)
        syria = places["syria"]
        if not (syria.admin1_name or syria.admin2_name or syria.admin3_name):
            for field, level in SYRIAN_LEVELS.items():
                setattr(syria, field, level)
            syria.save()
        actors = {
            key: Actor.objects.get_or_create(
                slug=key, defaults={"name": name, "name_ar": name_ar, "kind": kind}
            )[0]
            for key, name, name_ar, kind in ACTORS
        }
        for key, names in ACTOR_NAMES.items():
            for name in names:
                if not ActorName.objects.filter(key=normalise(name)).exists():
                    ActorName.objects.create(actor=actors[key], name=name)
        sources = {
            key: Source.objects.get_or_create(
                slug=key,
                defaults={
                    "name": name,
                    "short_name": short,
                    "kind": kind,
                    "affiliation": affiliation,
                    "website": website,
                    "name_ar": name_ar,
                },
            )[0]
            for key, name, short, kind, affiliation, website, name_ar in SOURCES
        }
        created = 0
        for spec in INCIDENTS:
            if Incident.objects.filter(slug=spec["slug"]).exists():
                continue
            fields = {k: v for k, v in spec.items() if k not in ("attributions", "reports", "location")}
            incident = Incident(**fields, location=places[spec["location"]])
            incident.full_clean()
            incident.save()
            for report_spec in spec["reports"]:
                # The article is in English: its words are the quotes, marked as English.
                report = TollReport(
                    incident=incident,
                    **{
                        **report_spec,
                        "source": sources[report_spec["source"]],
                        "quote_language": QUOTE_LANGUAGE,
                    },
                )
                report.full_clean()
                report.save()
            for source, actor, stance, quote in spec["attributions"]:
                attribution = Attribution(
                    incident=incident,
                    source=sources[source],
                    actor=actors[actor],
                    stance=stance,
                    quote=quote,
                    quote_language=QUOTE_LANGUAGE,
                    published_on=ARTICLE_DATE,
                )
                attribution.full_clean()
                attribution.save()
            workflow.publish_incident(incident=incident, user=None, via="load_demo")
            created += 1
        for part, whole in PARTS:
            incident = Incident.objects.get(slug=part)
            if incident.part_of_id is None:
                incident.part_of = Incident.objects.get(slug=whole)
                incident.save()
        for a, b in RELATIONS:
            Incident.objects.get(slug=a).related.add(Incident.objects.get(slug=b))
        self.load_victims()
        return created

    def load_victims(self):
        """The people of ``VICTIMS``, on an incident that has none yet (so a second run, or a run
        after an analyst has recorded them, adds nobody)."""
        for slug, people in VICTIMS:
            incident = Incident.objects.get(slug=slug)
            if incident.victims.exists():
                continue
            reports = list(incident.reports.all())
            for fields in people:
                victim = Victim(incident=incident, **fields)
                victim.full_clean()
                victim.save()
                victim.reports.set(reports)

    def create_demo_users(self):
        User = get_user_model()
        for username, group in DEMO_USERS:
            user, made = User.objects.get_or_create(
                username=username, defaults={"is_staff": True, "is_superuser": group is None}
            )
            if made:
                user.set_password(username)
                user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
        self.stdout.write(
            "Demo logins for http://127.0.0.1:8000/admin/: admin/admin (everything), "
            "editor/editor (publish, export), analyst/analyst (data entry)."
        )
