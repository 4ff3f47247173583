"""Records in two languages (Arabic titles, summaries and names), quotes with their language and
translation, and a search that finds Arabic however it is spelt."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st

from incidents.models import Incident, Location, TollReport
from incidents.search import MARKS, fold_arabic, has_arabic
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_tree,
)


def page(client, path):
    return client.get(path).content.decode()


# --- The Arabic page shows the Arabic text, or the English marked as such -----------------------


def test_the_arabic_page_shows_the_arabic_title_and_summary(client, db):
    incident = make_incident(
        "Strike on a market",
        title_ar="غارة على سوق",
        summary="Dozens were killed.",
        summary_ar="قُتل العشرات.",
    )
    address = incident.get_absolute_url()
    arabic = page(client, f"/ar{address}")
    assert "<h1>غارة على سوق</h1>" in arabic
    assert "<title>غارة على سوق ·" in arabic
    assert "قُتل العشرات." in arabic
    english = page(client, address)
    assert "<h1>Strike on a market</h1>" in english and "غارة" not in english


def test_without_arabic_text_the_arabic_page_shows_the_english_marked_as_english(client, db):
    address = make_incident("Strike on a market", summary="Dozens were killed.").get_absolute_url()
    arabic = page(client, f"/ar{address}")
    assert (
        '<h1><span lang="en" dir="ltr">Strike on a market</span> '
        '<span class="in-english">(بالإنجليزية)</span></h1>' in arabic
    )
    assert '<span lang="en" dir="ltr">Dozens were killed.</span>' in arabic
    # The English page has no marker.
    assert "in-english" not in page(client, address)


def test_source_actor_and_place_names_in_arabic_where_they_have_one(client, db):
    tree = make_tree()
    tree["city"].name_ar = "إدلب"
    tree["city"].save()
    incident = make_incident("Shelling", location=tree["city"])
    sohr = make_source("Syrian Observatory for Human Rights", name_ar="المرصد السوري لحقوق الإنسان")
    make_report(incident, sohr, killed=7, quote="<b>seven</b>")
    make_attribution(incident, make_actor("Russian forces", name_ar="القوات الروسية"), sohr)
    arabic = page(client, f"/ar{incident.get_absolute_url()}")
    assert ">المرصد السوري لحقوق الإنسان</a>" in arabic
    assert ">القوات الروسية</a>" in arabic
    assert ">إدلب</a>" in arabic
    # Syria has no Arabic name here: English, marked.
    assert '<span lang="en" dir="ltr">Syria</span> <span class="in-english">(بالإنجليزية)</span>' in arabic
    assert "&lt;b&gt;seven&lt;/b&gt;" in arabic  # escaped as ever


def test_arabic_text_is_escaped(client, db):
    address = make_incident("Strike", title_ar="<script>alert(1)</script>").get_absolute_url()
    arabic = page(client, f"/ar{address}")
    assert "<script>alert(1)</script>" not in arabic
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in arabic


# --- Quotes with their language and translation ------------------------------------------------


def test_the_quote_is_shown_as_stated_in_its_language_with_its_translation(client, db):
    incident = make_incident("Strike")
    make_report(
        incident,
        killed=89,
        qualifier="at_least",
        quote="ارتفاع حصيلة الشهداء إلى 89",
        quote_language="ar",
        quote_translation="The toll of martyrs rose to 89",
        translation_is_machine=True,
    )
    make_report(
        incident,
        killed=20,
        qualifier="about",
        quote="quelques dizaines de morts",
        quote_language="fr",
        quote_translation="a few dozen dead",
    )
    english = page(client, incident.get_absolute_url())
    assert '<blockquote dir="auto" lang="ar">“ارتفاع حصيلة الشهداء إلى 89”</blockquote>' in english
    assert (
        '<span class="small muted">Machine translation:</span> <span lang="en" dir="ltr">'
        "“The toll of martyrs rose to 89”</span>"
    ) in english
    assert '<blockquote dir="auto" lang="fr">“quelques dizaines de morts”</blockquote>' in english
    assert (
        '<span class="small muted">Translation:</span> <span lang="en" dir="ltr">“a few dozen dead”</span>'
        in english
    )
    arabic = page(client, f"/ar{incident.get_absolute_url()}")
    assert "ترجمة آلية:" in arabic


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"quote": "x", "quote_language": "xx"}, "quote_language", "two-letter ISO 639-1 code"),
        ({"quote": "x", "quote_language": "AR"}, "quote_language", "two-letter ISO 639-1 code"),
        ({"quote": "x", "quote_language": "ara"}, "quote_language", "two-letter ISO 639-1 code"),
        ({"quote": "", "quote_translation": "dead"}, "quote_translation", "no quote to translate"),
        ({"quote": "morts", "quote_translation": "dead"}, "quote_language", "Say which language"),
        ({"quote": "morts", "quote_language": "fr", "translation_is_machine": True}, "translation_is_machine",
         "There is no translation"),
    ],
)  # fmt: skip
def test_a_quote_s_language_and_translation_are_checked_on_the_field(db, fields, field, message):
    incident = make_incident("Strike")
    report = TollReport(
        incident=incident, source=make_source(), published_on=incident.start_date, killed=3, **fields
    )
    with pytest.raises(ValidationError) as error:
        report.full_clean()
    assert message in " ".join(error.value.message_dict[field])


@pytest.mark.parametrize(
    "fields",
    [
        {"quote": "x", "quote_language": "xx"},
        {"quote": "", "quote_language": "", "quote_translation": "dead"},
        {"quote": "morts", "quote_language": "", "quote_translation": "dead"},
        {"quote": "morts", "quote_language": "fr", "translation_is_machine": True},
    ],
)
def test_the_database_refuses_the_same_quotes(db, fields):
    incident = make_incident("Strike")
    with pytest.raises(IntegrityError), transaction.atomic():
        TollReport.objects.create(
            incident=incident, source=make_source(), published_on=incident.start_date, killed=3, **fields
        )


def test_a_valid_quote_with_its_translation_passes(db):
    incident = make_incident("Strike")
    report = TollReport(
        incident=incident,
        source=make_source(),
        published_on=incident.start_date,
        killed=3,
        quote="قتل ثلاثة",
        quote_language="ar",
        quote_translation="three killed",
        translation_is_machine=True,
    )
    report.full_clean()
    report.save()


# --- Exports carry both languages ----------------------------------------------------------------


def rows(response):
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_exports_carry_the_arabic_title_summary_and_the_quote_s_language(editor_client, db):
    incident = make_incident("Strike", title_ar="غارة", summary_ar="=HYPERLINK(1)")
    make_report(
        incident,
        killed=3,
        quote="قتل ثلاثة",
        quote_language="ar",
        quote_translation="three killed",
        translation_is_machine=True,
    )
    make_report(incident, killed=4)
    (row,) = rows(editor_client.get("/export/incidents.csv"))
    assert row["title_ar"] == "غارة"
    assert row["summary_ar"] == "'=HYPERLINK(1)"  # neutralised like every cell
    reports = sorted(rows(editor_client.get("/export/reports.csv")), key=lambda r: r["killed"])
    assert [(r["quote_language"], r["quote_translation"], r["translation_is_machine"]) for r in reports] == [
        ("ar", "three killed", "true"),
        ("", "", "false"),
    ]


# --- The admin -----------------------------------------------------------------------------------


def test_the_admin_asks_for_the_arabic_texts_and_the_quote_s_language(analyst_client, db):
    incident = make_homs()
    form = page(analyst_client, f"/admin/incidents/incident/{incident.pk}/change/")
    for name in ("title_ar", "summary_ar", "reports-0-quote_language", "reports-0-quote_translation",
                 "reports-0-translation_is_machine"):  # fmt: skip
        assert f'name="{name}"' in form
    source = incident.reports.first().source
    assert 'name="name_ar"' in page(analyst_client, f"/admin/incidents/source/{source.pk}/change/")
    actor = make_actor("Some forces")
    assert 'name="name_ar"' in page(analyst_client, f"/admin/incidents/actor/{actor.pk}/change/")


# --- Arabic search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, folded",
    [
        ("إدلب", "ادلب"),
        ("أريحا", "اريحا"),
        ("آل", "ال"),
        ("مدرسة", "مدرسه"),
        ("مستشفى", "مستشفي"),
        ("إِدْلِب", "ادلب"),  # kasra, sukun
        ("حمـــص", "حمص"),  # tatweel
        ("شُهَدَاءُ", "شهداء"),  # damma, fatha
        ("Homs", "Homs"),
    ],
)
def test_arabic_is_folded_without_marks_and_spelling_variants(written, folded):
    assert fold_arabic(written) == folded


ARABIC_LETTERS = st.text(alphabet=st.characters(min_codepoint=0x0621, max_codepoint=0x064A), max_size=20)


@given(text=ARABIC_LETTERS, marks=st.lists(st.sampled_from(sorted(MARKS)), max_size=5), data=st.data())
def test_folding_ignores_any_marks_added_and_is_idempotent(text, marks, data):
    marked = text
    for mark in marks:
        at = data.draw(st.integers(0, len(marked)))
        marked = marked[:at] + mark + marked[at:]
    assert fold_arabic(marked) == fold_arabic(text)
    assert fold_arabic(fold_arabic(text)) == fold_arabic(text)


@pytest.mark.parametrize("text, arabic", [("ادلب", True), ("Idlib", False), ("", False), ("٣", False)])
def test_a_query_needs_the_arabic_search_only_with_arabic_letters(text, arabic):
    assert has_arabic(text) is arabic


@pytest.mark.parametrize("name_ar", ["إدلب", "إِدْلِب", "ادلب", "أَدلب", "إدلـــب"])
def test_the_database_folds_names_as_python_does(db, name_ar):
    from incidents.search import ArabicFolded

    make_location("Idlib", kind="country", name_ar=name_ar)
    assert Location.objects.annotate(folded=ArabicFolded("name_ar")).get().folded == fold_arabic(name_ar)


def titles(client, query, prefix=""):
    response = client.get(f"{prefix}/incidents/", {"q": query})
    assert response.status_code == 200
    return sorted(incident.title for incident in response.context["page"])


@pytest.fixture
def idlib(db):
    tree = make_tree()
    tree["idlib"].name_ar = "إدلب"
    tree["idlib"].save()
    village = make_location("Jaftallak", parent=tree["district"])
    make_incident("Shelling of the city", location=tree["city"])
    make_incident("Shelling of a village", location=village)
    make_incident("Strike elsewhere", location=tree["homs"])
    make_incident("Draft in Idlib", location=tree["city"], status="draft")
    return tree


def test_q_idlib_without_hamza_finds_the_incidents_in_idlib_and_beneath_it(client, idlib):
    assert titles(client, "ادلب") == ["Shelling of a village", "Shelling of the city"]
    assert titles(client, "إدلب") == ["Shelling of a village", "Shelling of the city"]
    assert titles(client, "ادلب", prefix="/ar") == ["Shelling of a village", "Shelling of the city"]


def test_q_homs_finds_the_homs_strike_of_the_demo(client, db):
    call_command("load_demo", verbosity=0)
    assert "Drone strike on the Homs military academy graduation ceremony" in titles(client, "حمص")
    assert "Drone strike on the Homs military academy graduation ceremony" in titles(client, "حُمُص")


@pytest.mark.parametrize(
    "query",
    ["مدرسه", "مدرسة", "مَدْرَسَة", "قصف", "مستشفى", "مستشفي"],
)
def test_q_finds_arabic_titles_and_summaries_whatever_the_spelling(client, db, query):
    make_incident("A school", title_ar="قصف على مدرسة", summary_ar="بالقرب من المستشفى")
    make_incident("Something else", title_ar="غارة")
    assert titles(client, query) == ["A school"]


def test_q_finds_incidents_by_the_arabic_name_of_a_source_or_an_actor(client, db):
    reported = make_incident("Reported by SOHR")
    make_report(reported, make_source("SOHR", name_ar="المرصد السوري لحقوق الإنسان"))
    blamed = make_incident("Blamed on Russia")
    make_attribution(blamed, make_actor("Russian forces", name_ar="القوات الروسية"))
    make_incident("Neither")
    assert titles(client, "لحقوق الانسان") == ["Reported by SOHR"]
    assert titles(client, "القوات الروسيه") == ["Blamed on Russia"]


def test_an_arabic_search_costs_the_same_queries_for_few_or_many_incidents(client, idlib):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/incidents/", {"q": "ادلب"}).status_code == 200
        return len(queries)

    few = count()
    for n in range(30):
        make_incident(f"More shelling {n}", location=idlib["city"], title_ar="قصف")
    assert count() == few


# --- search_ar has one writer ----------------------------------------------------------------------


def search_text(incident):
    return Incident.objects.values_list("search_ar", flat=True).get(pk=incident.pk)


def test_the_folded_arabic_follows_every_way_of_writing_an_incident(db):
    incident = make_incident("Strike", title_ar="غارة على إدلب")
    assert search_text(incident) == "غاره علي ادلب"
    incident.summary_ar = "مدرسة"
    incident.save()
    assert search_text(incident) == "غاره علي ادلب\nمدرسه"
    Incident.objects.filter(pk=incident.pk).update(title_ar="قصف")
    assert search_text(incident) == "قصف\nمدرسه"
    (created,) = Incident.objects.bulk_create(
        [Incident(title="Bulk", title_ar="أريحا", kind="other", start_date=datetime.date(2023, 1, 1),
                  location=incident.location, slug="bulk")]
    )  # fmt: skip
    assert search_text(created) == "اريحا"
    created.title_ar = "حمص"
    Incident.objects.bulk_update([created], ["title_ar"])
    assert search_text(created) == "حمص"


def test_nobody_writes_the_folded_arabic_by_hand(db):
    incident = make_incident("Strike")
    with pytest.raises(ValueError, match="search_ar"):
        Incident.objects.filter(pk=incident.pk).update(search_ar="anything")


def test_an_attribution_s_quote_has_its_language_and_translation_too(client, db):
    incident = make_incident("Strike")
    make_attribution(
        incident,
        make_actor("An armed group"),
        stance="denied",
        quote="ننفي أي علاقة لنا بالهجوم",
        quote_language="ar",
        quote_translation="We deny any link to the attack",
    )
    english = page(client, incident.get_absolute_url())
    assert '<blockquote dir="auto" lang="ar">“ننفي أي علاقة لنا بالهجوم”</blockquote>' in english
    assert '<span lang="en" dir="ltr">“We deny any link to the attack”</span>' in english


def test_an_attribution_s_quote_follows_the_same_rules(db):
    from incidents.models import Attribution

    incident = make_incident("Strike")
    attribution = Attribution(
        incident=incident,
        actor=make_actor(),
        source=make_source(),
        published_on=incident.start_date,
        quote="ننفي",
        quote_language="arabic",
    )
    with pytest.raises(ValidationError) as error:
        attribution.full_clean()
    assert "two-letter ISO 639-1 code" in " ".join(error.value.message_dict["quote_language"])
    with pytest.raises(IntegrityError), transaction.atomic():
        make_attribution(incident, quote="", quote_translation="we deny")


def test_q_finds_arabic_written_in_the_english_fields_and_sources_known_only_by_an_arabic_name(client, db):
    make_incident("Strike near the hospital", place="قرب مستشفى الشفاء")
    telegram = make_incident("Reported on Telegram")
    make_report(telegram, make_source("شبكة أخبار إدلب"))
    make_incident("Neither")
    assert titles(client, "مستشفي الشفاء") == ["Strike near the hospital"]
    assert titles(client, "اخبار ادلب") == ["Reported on Telegram"]
