"""Every public page in Arabic, right to left, with no English left in what a reader sees.

The demo's records have their Arabic texts (titles, summaries, names of places, sources and
actors); on top of them this module adds what the demo lacks so that every kind of sentence shows:
a source's revised figure, a correction after publication, a claim and a denial, a person
identified, a list long enough to have pages. The page's interface must then be Arabic through and
through: ``tests.visible_text`` finds any Latin-script word outside names and codes that Arabic
writes in Latin letters too (SOHR, CSV, P-code …) and outside data marked as another language.
"""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import citations
from incidents.models import Actor, Incident, Location, Source
from tests.factories import make_attribution, make_incident, make_report, make_victim
from tests.visible_text import latin_words, visible_text

HOMS = "homs-military-academy-drone-strike-2023-10-05"
CHILD = "jaftallak-haj-hamoud-air-attack-2023-10"


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    homs = Incident.objects.get(slug=HOMS)
    sohr, moh = Source.objects.get(slug="sohr"), Source.objects.get(slug="moh")
    # SOHR revises its figure: "How figures changed".
    make_report(homs, sohr, killed=123, qualifier="at_least", published_on=datetime.date(2023, 10, 7))
    # A figure readers saw is corrected: the "Corrections" note.
    report = homs.reports.get(source=moh)
    report.killed = 90
    report.save()
    # A claim and a denial: every stance in words.
    child = Incident.objects.get(slug=CHILD)
    russia = Actor.objects.get(slug="russian-forces")
    make_attribution(child, russia, sohr, published_on=datetime.date(2023, 11, 15))
    make_attribution(child, russia, moh, stance="denied", published_on=datetime.date(2023, 11, 16))
    make_attribution(
        child,
        Actor.objects.get(slug="drone-operators"),
        sohr,
        stance="claimed",
        published_on=datetime.date(2023, 11, 16),
    )
    make_victim(child, sex="female", age=2, status="civilian")
    return homs


def version_path(incident):
    return f"/ar/incidents/{incident.slug}/versions/{citations.stamp(citations.recorded_at(incident))}/"


def arabic_pages(incident):
    return {
        "home": "/ar/",
        "list": "/ar/incidents/",
        "list, filtered": "/ar/incidents/?q=حمص&kind=air_strike&disputed=true&sort=toll",
        "list, a date that cannot be read": "/ar/incidents/?date_after=yesterday&location=atlantis",
        "list, dates the wrong way round": "/ar/incidents/?date_after=2023-10-06&date_before=2023-10-01",
        "incident": f"/ar/incidents/{HOMS}/",
        "incident with people identified": f"/ar/incidents/{CHILD}/",
        "incident version": version_path(incident),
        "place": "/ar/locations/syria/",
        "governorate": "/ar/locations/idlib-gov/",
        "source": "/ar/sources/sohr/",
        "source compared": "/ar/sources/sohr/?compare=higher",
        "actor": "/ar/actors/syrian-forces/",
        "methodology": "/ar/methodology/",
        "open data": "/ar/data/",
        "map": "/ar/map/",
        "map, filtered": "/ar/map/?q=حمص&kind=air_strike",
        "map, a filter that cannot be read": "/ar/map/?date_after=yesterday",
    }


def test_every_public_page_in_arabic_is_right_to_left_with_no_english_left(client, demo):
    leftovers = {}
    for name, path in arabic_pages(demo).items():
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        page = response.content.decode()
        assert re.search(r"<html[^>]*>", page).group(0) == '<html lang="ar" dir="rtl">', name
        assert response["Content-Language"] == "ar"
        words = latin_words(visible_text(page))
        if words:
            leftovers[name] = sorted(set(words))
    assert leftovers == {}


def test_the_arabic_404_page_is_arabic_too(client, db):
    response = client.get("/ar/incidents/no-such-incident/")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "الصفحة غير موجودة" in page
    assert latin_words(visible_text(page)) == []


def test_a_long_list_pages_in_arabic(client, db):
    place = Location.objects.create(name="Idlib", name_ar="إدلب", kind="country")
    for n in range(30):
        make_incident(f"Strike {n}", title_ar=f"غارة {n}", location=place)
    page = client.get("/ar/incidents/?page=2").content.decode()
    assert "الصفحة 2 من 2" in page and "السابقة" in page
    assert "30 حادثًا مطابقًا؛ المعروض 26–30." in page
    assert latin_words(visible_text(page)) == []


def test_the_filters_speak_arabic_and_say_what_is_wrong_in_arabic(client, demo):
    page = client.get("/ar/incidents/?date_after=05/10/2023&location=atlantis").content.decode()
    assert "أدخل التاريخ بصيغة سنة-شهر-يوم (YYYY-MM-DD)، مثل 2023-10-05." in page
    assert "لا يوجد مكان بهذا الاسم: تحقّق من العنوان أو اختر مكانًا من القائمة." in page
    assert '<label for="id_date_after">من تاريخ (YYYY-MM-DD)</label>' in page
    # The place menu names places in Arabic, with their country's word for the level.
    assert '<option value="idlib-gov">إدلب، سوريا (محافظة)</option>' in page
    assert '<option value="sohr">المرصد السوري لحقوق الإنسان</option>' in page


def test_an_arabic_incident_page_says_everything_in_arabic(client, demo):
    page = client.get(f"/ar/incidents/{HOMS}/").content.decode()
    assert "هجوم بطائرات مسيّرة على حفل تخريج في الكلية الحربية بحمص" in page
    assert "غارة جوية أو بطائرة مسيّرة · " in page  # the kind
    assert "الخميس 5 أكتوبر 2023" in page  # Arabic day and month names, Western digits
    assert "أفاد المرصد السوري لحقوق الإنسان أولًا بـ أكثر من 120 في 6 أكتوبر 2023" in page
    assert "صُحّح رقم من وزارة الصحة السورية: ما لا يقل عن 89 إلى وزارة الصحة السورية: ما لا يقل عن 90." in page
    # Names cannot take Arabic's case endings: the sentence puts them where they need none.
    assert "بحسب تقرير إخباري، 14 نوفمبر 2023، الجهة المسؤولة: مشغّلو طائرات مسيّرة مجهولون." in page


def test_people_identified_and_who_blames_whom_in_arabic(client, demo):
    page = client.get(f"/ar/incidents/{CHILD}/").content.decode()
    assert "طفلة بعمر عامين، مدنية" in page
    assert (
        "بحسب تقرير إخباري، 14 نوفمبر 2023 والمرصد السوري لحقوق الإنسان، الجهة المسؤولة: القوات الروسية"
        in page
    )
    assert "ينفي القوات الروسية المسؤولية (بحسب وزارة الصحة السورية)" in page
    assert "يعلن مشغّلو طائرات مسيّرة مجهولون المسؤولية (بحسب المرصد السوري لحقوق الإنسان)" in page


def test_places_are_named_in_arabic_in_lists_with_one_more_query_whatever_the_number(client, db):
    syria = Location.objects.create(name="Syria", name_ar="سوريا", kind="country")
    place = Location.objects.create(name="Idlib", name_ar="إدلب", kind="admin1", parent=syria)
    village = Location.objects.create(name="Jaftallak", kind="locality", parent=place)

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    make_incident("Strike", title_ar="غارة", location=village)
    few = queries("/ar/incidents/"), queries("/ar/")
    for n in range(20):
        make_incident(f"Strike {n}", title_ar="غارة", location=place if n % 2 else village)
    assert (queries("/ar/incidents/"), queries("/ar/")) == few
    page = client.get("/ar/incidents/").content.decode()
    # A place without an Arabic name keeps its own, marked as English for screen readers.
    assert '<span lang="en" dir="ltr">Jaftallak</span>، إدلب، سوريا' in page
    assert '<td data-label="المكان">إدلب، سوريا' in page


def test_english_pages_show_no_arabic_outside_what_is_marked_arabic(client, demo):
    for name, path in arabic_pages(demo).items():
        english = path.removeprefix("/ar")
        page = client.get(english).content.decode()
        assert '<html lang="en" dir="ltr">' in page, name
        shown = visible_text(page.replace('lang="ar"', 'lang="en"'))  # hide what is marked Arabic
        assert not re.search("[\u0600-\u06ff]", shown), (name, re.findall("[\u0600-\u06ff]+", shown)[:5])


def test_the_arabic_feed_is_in_arabic(client, demo):
    feed = client.get("/ar/incidents/feed/").content.decode()
    assert '<title type="text">متتبّع الضحايا: الحوادث المنشورة حديثًا</title>' in feed
    assert "هجوم بطائرات مسيّرة على حفل تخريج في الكلية الحربية بحمص (القتلى: 90–123+)" in feed
    assert "5 أكتوبر 2023، حمص، سوريا. القتلى المُبلَّغ عنهم: 90–123+، بحسب 2 مصدرين." in feed


def test_the_check_for_english_finds_english():
    """The detector itself: English words are found, names, codes and marked data are not."""
    html = (
        '<html lang="ar"><head><title>Incidents · متتبّع</title><style>.a{color:red}</style></head><body>'
        '<p>المرصد (SOHR) P-code SY07 <a href="/data/">data</a> incidents.csv https://example.org/x</p>'
        '<p lang="en">An English title</p><td data-label="Place">x</td><code>?q=Homs</code>'
        "<script>var english = 1;</script></body></html>"
    )
    assert latin_words(visible_text(html)) == ["Incidents", "data", "Place", "x"]


def test_the_error_page_is_arabic_under_ar(rf, db):
    from django.utils import translation

    from casualty_tracker.views import server_error

    with translation.override("ar"):
        page = server_error(rf.get("/ar/")).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "حدث خطأ ما" in page and '<a href="/ar/">الصفحة الرئيسية</a>' in page
    assert latin_words(visible_text(page)) == []
