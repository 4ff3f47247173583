"""The site in English and Arabic: addresses, the language switch, the admin's language, the
translations themselves (.po and .mo), the range sentences in Arabic, and numbers and dates."""

import datetime
import gettext
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import translation

from incidents import figures
from incidents.figures import AT_LEAST, BETWEEN, CIVILIANS, DOZENS, EXACT, MORE_THAN, UNKNOWN, Figure
from incidents.models import Incident
from tests.factories import make_homs, make_incident, make_report, make_source, make_user

LOCALE = Path(settings.BASE_DIR) / "locale"
PO_FILES = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    return Incident.objects.get(slug="homs-military-academy-drone-strike-2023-10-05")


def html_tag(response):
    return re.search(r"<html[^>]*>", response.content.decode()).group(0)


# --- Addresses ---------------------------------------------------------------------------------

PUBLIC_PAGES = [
    "/",
    "/incidents/",
    "/incidents/?q=Homs&kind=air_strike",
    "/map/?kind=air_strike",
    "/incidents/homs-military-academy-drone-strike-2023-10-05/",
    "/locations/syria/",
    "/sources/sohr/",
    "/actors/syrian-forces/",
    "/methodology/",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_public_page_answers_in_arabic_under_ar_right_to_left(client, demo, path):
    response = client.get(f"/ar{path}")
    assert response.status_code == 200
    assert html_tag(response) == '<html lang="ar" dir="rtl">'
    assert response["Content-Language"] == "ar"
    # The strict policy holds in Arabic too.
    assert "script-src 'self'" in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_english_stays_at_the_root_left_to_right(client, demo, path):
    response = client.get(path)
    assert response.status_code == 200
    assert html_tag(response) == '<html lang="en" dir="ltr">'


def test_the_feed_has_an_arabic_address_too(client, demo):
    assert client.get("/ar/incidents/feed/").status_code == 200


def test_a_browser_asking_for_arabic_still_gets_english_at_the_root(client, demo):
    # One address, one language: what a link, a search engine or a cache sees.
    response = client.get("/incidents/", headers={"accept-language": "ar"})
    assert html_tag(response) == '<html lang="en" dir="ltr">'
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    assert html_tag(client.get("/incidents/")) == '<html lang="en" dir="ltr">'


@pytest.mark.parametrize("path", ["/ar/admin/", "/ar/export/incidents.csv", "/ar/healthz/", "/ar/robots.txt"])
def test_staff_pages_and_data_have_no_arabic_address(client, db, path):
    assert client.get(path).status_code == 404


def test_exports_stay_english_whatever_the_editor_s_language(editor_client, demo):
    editor_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    response = editor_client.get("/export/reports.csv", headers={"accept-language": "ar"})
    body = b"".join(response.streaming_content).decode()
    assert "at least 89" in body and "more than 120" in body


def test_a_page_links_to_itself_in_the_other_language_with_its_filters(client, demo):
    english = client.get("/incidents/?q=Homs&kind=air_strike").content.decode()
    assert (
        '<a href="/ar/incidents/?q=Homs&amp;kind=air_strike" hreflang="ar" lang="ar" dir="rtl">العربية</a>'
        in english
    )
    arabic = client.get("/ar/incidents/?q=Homs&kind=air_strike").content.decode()
    assert (
        '<a href="/incidents/?q=Homs&amp;kind=air_strike" hreflang="en" lang="en" dir="ltr">English</a>'
        in arabic
    )


def test_each_page_names_its_alternates_for_search_engines(client, demo):
    slug = "homs-military-academy-drone-strike-2023-10-05"
    for path in (f"/incidents/{slug}/", f"/ar/incidents/{slug}/"):
        page = client.get(path).content.decode()
        assert f'<link rel="alternate" hreflang="en" href="http://testserver/incidents/{slug}/">' in page
        assert f'<link rel="alternate" hreflang="ar" href="http://testserver/ar/incidents/{slug}/">' in page
        assert (
            f'<link rel="alternate" hreflang="x-default" href="http://testserver/incidents/{slug}/">' in page
        )


def test_the_frame_of_every_arabic_page_is_in_arabic(client, demo):
    page = client.get("/ar/methodology/").content.decode()
    head, rest = page.split('<main id="main"')
    frame = head + rest.split("</main>")[1]  # the page's own text is translated in its template
    for arabic in (
        "متتبّع الضحايا",
        "الحوادث",
        "المنهجية",
        "الرئيسية",
        "انتقل إلى المحتوى",
        "كيف نقرأ الأرقام",
    ):
        assert arabic in frame
    visible = re.sub(r"<[^>]+>", " ", frame.split("<body>")[1])
    assert re.findall("[A-Za-z]+", visible) == ["English"]  # the switch to the English page


def test_a_page_that_does_not_exist_answers_404_in_either_language(client, db):
    assert client.get("/ar/incidents/no-such-incident/").status_code == 404
    assert client.get("/ar/nothing-here/").status_code == 404


# --- The admin in the analyst's language ---------------------------------------------------------


def test_the_admin_is_in_arabic_for_an_analyst_whose_browser_asks_for_arabic(analyst_client):
    response = analyst_client.get("/admin/", headers={"accept-language": "ar"})
    assert html_tag(response).startswith('<html lang="ar" dir="rtl"')
    page = response.content.decode()
    assert "تسجيل الخروج" in page  # "Log out": Django's own translation of the admin
    assert "متتبّع الضحايا" in page  # our site header


def test_the_admin_is_in_english_by_default(analyst_client):
    response = analyst_client.get("/admin/")
    assert html_tag(response).startswith('<html lang="en" dir="ltr"')


def test_an_analyst_chooses_the_admin_s_language_and_it_stays(db):
    client = Client(enforce_csrf_checks=False)
    client.force_login(make_user("amal", group="Analyst"))
    response = client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "ar" and cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/admin/")  # no Accept-Language: the choice is remembered
    assert html_tag(page).startswith('<html lang="ar" dir="rtl"')
    # The public pages keep their addresses' language.
    assert html_tag(client.get("/")) == '<html lang="en" dir="ltr">'


# --- The translations files ----------------------------------------------------------------------


def test_there_is_an_arabic_catalogue_with_arabic_s_six_plural_forms():
    po = polib.pofile(str(LOCALE / "ar" / "LC_MESSAGES" / "django.po"))
    assert po.metadata["Language"] == "ar"
    assert po.metadata["Plural-Forms"].startswith("nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 :")


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_every_message_of_a_catalogue_is_translated(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [entry.msgid for entry in po if not entry.obsolete and not entry.translated()]
    assert untranslated == []


@pytest.mark.parametrize("po_path", PO_FILES, ids=lambda p: str(p.relative_to(LOCALE)))
def test_the_committed_mo_says_what_its_po_says(po_path):
    """A .mo older than its .po (a translation changed, `make compilemessages` forgotten) fails.

    Compares the messages, not the files' times, which a git clone does not keep."""
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run make compilemessages"
    with mo_path.open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)._catalog
    expected = {}
    for entry in polib.pofile(str(po_path)):
        if entry.obsolete or not entry.translated():
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            for index, text in entry.msgstr_plural.items():
                expected[(key, int(index))] = text
        else:
            expected[key] = entry.msgstr
    compiled = {key: text for key, text in compiled.items() if key != ""}  # "" is the header
    assert compiled == expected, f"{mo_path} is out of date with its .po: run make compilemessages"


# --- The range sentences in Arabic ---------------------------------------------------------------

HOMS = [Figure(AT_LEAST, 89), Figure(MORE_THAN, 120)]


@pytest.mark.parametrize(
    "current, population, arabic",
    [
        (HOMS, "all", "أُفيد بمقتل ما بين 89 وأكثر من 120 شخصًا، بحسب 2 مصدرين تختلف أرقامهما."),
        ([Figure(AT_LEAST, 89)], "all", "أُفيد بمقتل ما لا يقل عن 89 شخصًا، بحسب 1 مصدر."),
        ([Figure(EXACT, 0)], "all", "لم يُبلَّغ عن مقتل أحد، بحسب 1 مصدر."),
        ([Figure(EXACT, 1)], "all", "أُفيد بمقتل 1 شخص، بحسب 1 مصدر."),
        ([Figure(EXACT, 7)], "all", "أُفيد بمقتل 7 أشخاص، بحسب 1 مصدر."),
        ([Figure(EXACT, 7)], CIVILIANS, "أُفيد بمقتل 7 مدنيين، بحسب 1 مصدر."),
        ([Figure(EXACT, 2000)], "all", "أُفيد بمقتل 2,000 شخص، بحسب 1 مصدر."),
        ([Figure(DOZENS, None)], "all", "أُفيد بمقتل عشرات من الأشخاص، بحسب 1 مصدر."),
        (
            [Figure(BETWEEN, 10, 15), Figure(BETWEEN, 10, 15), Figure(BETWEEN, 10, 15)],
            "all",
            "أُفيد بمقتل ما بين 10 و15 شخصًا، بحسب 3 مصادر تتفق أرقامها.",
        ),
        (
            [Figure(EXACT, 120), Figure(MORE_THAN, 120)],
            "all",
            "أُفيد بمقتل 120 أو أكثر من 120 شخصًا، بحسب 2 مصدرين تتناقض أرقامهما.",
        ),
        (
            [Figure(AT_LEAST, 89), Figure(UNKNOWN, None)],
            "all",
            "أُفيد بمقتل ما لا يقل عن 89 شخصًا، بحسب 1 مصدر (لم يقدّم 1 مصدر آخر رقمًا).",
        ),
        ([Figure(UNKNOWN, None)], "all", "أُبلغ عن قتلى دون رقم، بحسب 1 مصدر."),
        ([], "all", "لم يُعلن أي مصدر رقمًا بعد."),
    ],
)
def test_the_range_sentence_reads_in_arabic(current, population, arabic):
    with translation.override("ar"):
        assert figures.range_sentence(current, population=population) == arabic
    # The English sentence is untouched by the translation.
    with translation.override("en"):
        assert not re.search("[\u0600-\u06ff]", figures.range_sentence(current, population=population))


@pytest.mark.parametrize(
    "count, noun",
    # Arabic's six plural forms: 0, 1, 2, 3-10, 11-99, 100-102 (and so on by the hundred).
    [(1, "شخص"), (2, "شخصين"), (3, "أشخاص"), (10, "أشخاص"), (11, "شخصًا"), (99, "شخصًا"), (100, "شخص"),
     (103, "أشخاص"), (111, "شخصًا")],
)  # fmt: skip
def test_arabic_counts_take_their_own_plural_form(count, noun):
    with translation.override("ar"):
        sentence = figures.range_sentence([Figure(EXACT, count)])
    assert sentence.startswith(f"أُفيد بمقتل {figures.shown_number(count)} {noun}،")


def test_a_figure_in_words_and_its_reading_in_arabic():
    with translation.override("ar"):
        assert Figure(DOZENS, None).as_stated_with_reading() == "عشرات (تُحتسب: ما لا يقل عن 24)"
        assert str(Figure(BETWEEN, 1000, 1200)) == "ما بين 1,000 و1,200"
        # Data stays English in every language: CSV cells and correction notes.
        assert Figure(BETWEEN, 1000, 1200).as_stated() == "between 1,000 and 1,200"


def test_the_floor_and_revision_sentences_in_arabic_with_arabic_month_names():
    with translation.override("ar"):
        floor = figures.floor_sentence(figures.TollRange(lowest=71, highest=71, highest_open=True))
        revision = figures.revision_sentence(
            "SOHR",
            [
                (datetime.date(2023, 10, 5), Figure(EXACT, 100)),
                (datetime.date(2023, 10, 6), Figure(MORE_THAN, 120)),
            ],
        )
    assert floor == "أُفيد بمقتل ما لا يقل عن 71 شخصًا، باحتساب أرقام المدنيين والمقاتلين."
    assert revision == "أفاد SOHR أولًا بـ 100 في 5 أكتوبر 2023، ثم أكثر من 120 في 6 أكتوبر 2023."


def test_the_arabic_incident_page_tells_the_range_in_arabic(client, db):
    address = make_homs().get_absolute_url()
    page = client.get(f"/ar{address}").content.decode()
    assert "أُفيد بمقتل ما بين 89 وأكثر من 120 شخصًا، بحسب 2 مصدرين تختلف أرقامهما." in page
    assert "ما لا يقل عن 89" in page  # MoH's row
    english = client.get(address).content.decode()
    assert (
        "Between 89 and more than 120 people were reported killed, according to 2 sources that differ."
        in english
    )


# --- Numbers and dates -------------------------------------------------------------------------


def test_arabic_numbers_keep_western_digits_and_a_comma_between_thousands():
    with translation.override("ar"):
        assert figures.shown_number(1200) == "1,200"
        assert figures.shown_number(2_000_000) == "2,000,000"
    with translation.override("en"):
        assert figures.shown_number(1200) == "1,200"


def test_dates_on_arabic_pages_have_arabic_month_names(client, db):
    incident = make_homs()
    page = client.get(f"/ar{incident.get_absolute_url()}").content.decode()
    assert "5 أكتوبر 2023" in page


def test_english_pages_keep_british_dates(client, db):
    incident = make_incident("A strike", start_date=datetime.date(2023, 10, 5))
    make_report(incident, make_source("Some source"), killed=3)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Thursday 5 October 2023" in page


@pytest.mark.gettext
def test_the_catalogue_holds_every_translatable_text_of_the_code_and_templates(
    settings, tmp_path, monkeypatch
):
    """`make messages` was run after the last {% translate %} or gettext() was added or changed.

    On a copy: makemessages writes the catalogue of the directory it runs in."""
    import shutil

    root = Path(settings.BASE_DIR)
    for name in ("casualty_tracker", "incidents", "templates", "locale"):
        shutil.copytree(root / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    call_command("makemessages", locale=["ar"], no_obsolete=True, verbosity=0)

    def messages(path):
        return {(entry.msgctxt, entry.msgid, entry.msgid_plural) for entry in polib.pofile(str(path))}

    extracted = messages(tmp_path / "locale" / "ar" / "LC_MESSAGES" / "django.po")
    committed = messages(LOCALE / "ar" / "LC_MESSAGES" / "django.po")
    assert extracted - committed == set(), "new texts to translate: run make messages"
    assert committed - extracted == set(), "texts no longer used: run make messages"


# --- Arabic's six plural forms, and the range sentence for every qualifier -----------------------


def render_total(**counts):
    from django.template.loader import render_to_string

    total = figures.Total(lowest=10, highest=20, **counts)
    return " ".join(render_to_string("includes/total.html", {"total": total}).split())


@pytest.mark.parametrize(
    "count, incidents, sources",
    [
        # 0, 1, 2, 3-10, 11-99 and 100+ each have their own form: "0 مصدر", "مصدر واحد", "مصدرين",
        # "3 مصادر", "11 مصدرًا", "100 مصدر".
        (0, None, "بحسب 0 مصدر"),
        (1, "في حادث واحد", "بحسب مصدر واحد"),
        (2, "في حادثين", "بحسب مصدرين"),
        (3, "في 3 حوادث", "بحسب 3 مصادر"),
        (11, "في 11 حادثًا", "بحسب 11 مصدرًا"),
        (100, "في 100 حادث", "بحسب 100 مصدر"),
    ],
)
def test_counts_of_incidents_and_sources_take_their_arabic_plural_form(count, incidents, sources):
    with translation.override("ar"):
        if incidents:
            # A total over incidents: "… in 11 incidents, according to 3 sources."
            sentence = render_total(incidents=count, incidents_with_figures=count, sources=3)
            assert f"شخصًا {incidents}، بحسب 3 مصادر." in sentence
            sentence = render_total(incidents=3, incidents_with_figures=3, sources=count)
            assert f"في 3 حوادث، {sources}." in sentence
        else:  # no incident: the page says so in words; the phrase still has its zero form
            assert render_total() == "لا يوجد حادث منشور بعد."
        assert (
            translation.ngettext("according to %(counter)s source", "according to %(counter)s sources", count)
            % {"counter": count}
            == sources
        )


@pytest.mark.parametrize(
    "count, arabic",
    [
        (1, "أُفيد بمقتل 5 أشخاص، بحسب 1 مصدر."),
        (2, "أُفيد بمقتل 5 أشخاص، بحسب 2 مصدرين تتفق أرقامهما."),
        (3, "أُفيد بمقتل 5 أشخاص، بحسب 3 مصادر تتفق أرقامها."),
        (11, "أُفيد بمقتل 5 أشخاص، بحسب 11 مصدرًا تتفق أرقامها."),
        (100, "أُفيد بمقتل 5 أشخاص، بحسب 100 مصدر تتفق أرقامها."),
    ],
)
def test_the_range_sentence_counts_its_sources_in_arabic(count, arabic):
    with translation.override("ar"):
        assert figures.range_sentence([Figure(EXACT, 5)] * count) == arabic
        # Sources that gave no figure are counted in their own plural form too.
        silent = figures.range_sentence([Figure(EXACT, 5), *[Figure(UNKNOWN, None)] * count])
    expected = {
        1: "(لم يقدّم 1 مصدر آخر رقمًا)",
        2: "(لم يقدّم 2 مصدران آخران رقمًا)",
        3: "(لم تقدّم 3 مصادر أخرى رقمًا)",
        11: "(لم يقدّم 11 مصدرًا آخر رقمًا)",
        100: "(لم يقدّم 100 مصدر آخر رقمًا)",
    }
    assert silent.endswith(f"بحسب 1 مصدر {expected[count]}.")


def test_the_months_chart_counts_incidents_in_arabic():
    from incidents import charts

    months = [
        (
            datetime.date(2023, month, 1),
            figures.Total(lowest=1, highest=2, incidents=count, incidents_with_figures=count),
        )
        for month, count in [(1, 1), (2, 2), (3, 3), (4, 11), (5, 100)]
    ]
    with translation.override("ar"):
        words = [bar.words for bar in charts.monthly_chart(months, rtl=True).bars]
    assert words == [
        "يناير 2023: القتلى 1–2 في حادث واحد",
        "فبراير 2023: القتلى 1–2 في حادثين",
        "مارس 2023: القتلى 1–2 في 3 حوادث",
        "إبريل 2023: القتلى 1–2 في 11 حادثًا",
        "مايو 2023: القتلى 1–2 في 100 حادث",
    ]


ARABIC_RANGE_SENTENCES = [
    # (qualifier, number, upper, all deaths, civilians only)
    (EXACT, 7, None, "أُفيد بمقتل 7 أشخاص، بحسب 1 مصدر.", "أُفيد بمقتل 7 مدنيين، بحسب 1 مصدر."),
    (EXACT, 0, None, "لم يُبلَّغ عن مقتل أحد، بحسب 1 مصدر.", "لم يُبلَّغ عن مقتل أي مدني، بحسب 1 مصدر."),
    (AT_LEAST, 89, None, "أُفيد بمقتل ما لا يقل عن 89 شخصًا، بحسب 1 مصدر.",
     "أُفيد بمقتل ما لا يقل عن 89 مدنيًا، بحسب 1 مصدر."),
    (MORE_THAN, 120, None, "أُفيد بمقتل أكثر من 120 شخصًا، بحسب 1 مصدر.",
     "أُفيد بمقتل أكثر من 120 مدنيًا، بحسب 1 مصدر."),
    ("about", 50, None, "أُفيد بمقتل نحو 50 شخصًا، بحسب 1 مصدر.", "أُفيد بمقتل نحو 50 مدنيًا، بحسب 1 مصدر."),
    ("up_to", 50, None, "أُفيد بمقتل ما يصل إلى 50 شخصًا، بحسب 1 مصدر.",
     "أُفيد بمقتل ما يصل إلى 50 مدنيًا، بحسب 1 مصدر."),
    (BETWEEN, 10, 15, "أُفيد بمقتل ما بين 10 و15 شخصًا، بحسب 1 مصدر.",
     "أُفيد بمقتل ما بين 10 و15 مدنيًا، بحسب 1 مصدر."),
    ("several", None, None, "أُفيد بمقتل بضعة من الأشخاص، بحسب 1 مصدر.",
     "أُفيد بمقتل بضعة من المدنيين، بحسب 1 مصدر."),
    (DOZENS, None, None, "أُفيد بمقتل عشرات من الأشخاص، بحسب 1 مصدر.",
     "أُفيد بمقتل عشرات من المدنيين، بحسب 1 مصدر."),
    ("scores", None, None, "أُفيد بمقتل عشرات كثيرة من الأشخاص، بحسب 1 مصدر.",
     "أُفيد بمقتل عشرات كثيرة من المدنيين، بحسب 1 مصدر."),
    ("hundreds", None, None, "أُفيد بمقتل مئات من الأشخاص، بحسب 1 مصدر.",
     "أُفيد بمقتل مئات من المدنيين، بحسب 1 مصدر."),
    ("thousands", None, None, "أُفيد بمقتل آلاف من الأشخاص، بحسب 1 مصدر.",
     "أُفيد بمقتل آلاف من المدنيين، بحسب 1 مصدر."),
    (UNKNOWN, None, None, "أُبلغ عن قتلى دون رقم، بحسب 1 مصدر.",
     "أُبلغ عن قتلى بين المدنيين دون رقم، بحسب 1 مصدر."),
]  # fmt: skip


def test_the_table_of_arabic_range_sentences_covers_every_qualifier():
    assert {row[0] for row in ARABIC_RANGE_SENTENCES} == set(figures.QUALIFIERS)


@pytest.mark.parametrize(
    "qualifier, number, upper, everyone, civilians",
    ARABIC_RANGE_SENTENCES,
    ids=[f"{row[0]}-{row[1]}" for row in ARABIC_RANGE_SENTENCES],
)
def test_the_range_sentence_of_every_qualifier_in_arabic(qualifier, number, upper, everyone, civilians):
    figure = Figure(qualifier, number, upper)
    with translation.override("ar"):
        assert figures.range_sentence([figure]) == everyone
        assert figures.range_sentence([figure], population=CIVILIANS) == civilians
        # Combatants take the same sentence with their own noun.
        combatants = figures.range_sentence([figure], population=figures.COMBATANTS)
    assert combatants == civilians.replace("مدنيين", "مقاتلين").replace("مدنيًا", "مقاتلًا").replace(
        "مدني،", "مقاتل،"
    )
