"""What readers see: published incidents only, conflicting figures side by side."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import views
from incidents.models import Incident
from incidents.workflow import publish_incidents
from tests.factories import (
    make_actor,
    make_attribution,
    make_homs,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_tree,
    make_user,
)

pytestmark = pytest.mark.django_db


def text(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def queries_for(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def add_incidents(n, location, sources, day=datetime.date(2023, 1, 1)):
    for i in range(n):
        incident = make_incident(
            f"Bulk {i}", location=location, start_date=day + datetime.timedelta(days=i % 300)
        )
        make_attribution(incident, make_actor())
        for j, source in enumerate(sources):
            make_report(incident, source, killed=5 + j + i % 7)


class TestIncidentList:
    def test_it_lists_published_incidents_with_range_and_source_count(self, client):
        homs = make_homs()
        make_incident("A secret draft", status="draft")
        html = text(client.get("/incidents/"))
        assert homs.title in html and "89–120+ killed" in html
        assert "A secret draft" not in html
        assert "1 incident matches." in html

    def test_it_links_the_atom_feed_in_the_head(self, client):
        html = text(client.get("/incidents/"))
        assert 'type="application/atom+xml"' in html[: html.index("</head>")]

    @pytest.mark.parametrize(
        "query, expected",
        [
            ("q=academy", {"homs"}),
            ("q=SOHR", {"homs"}),
            ("q=Idlib", {"idlib"}),
            ("date_after=2023-10-06", {"later"}),
            ("date_before=2023-10-05", {"homs", "idlib"}),
            ("date_after=2023-10-05&date_before=2023-10-05", {"homs", "idlib"}),
            ("location=idlib", {"idlib"}),
            ("location=syria", {"homs", "idlib", "later"}),
            ("kind=shelling", {"idlib"}),
            ("perpetrator=syrian-government-forces", {"idlib"}),
            ("source=sohr", {"homs"}),
            ("disputed=true", {"homs"}),
            ("disputed=false", {"idlib", "later"}),
            ("min_killed=100", {"homs"}),
            ("min_killed=17", {"homs", "idlib"}),
        ],
    )
    def test_each_filter_narrows_the_list(self, client, query, expected):
        incidents = self.make_three()
        shown = {i.title for i in client.get(f"/incidents/?{query}").context["page"].object_list}
        assert shown == {incidents[key].title for key in expected}

    def make_three(self):
        homs = make_homs()
        idlib_city = Incident.objects.get(pk=homs.pk).location.__class__.objects.get(
            kind="locality", name="Idlib"
        )
        idlib = make_incident("Shelling of Idlib", location=idlib_city, kind="shelling")
        make_attribution(idlib, make_actor("Syrian government forces"))
        make_report(idlib, make_source("News"), killed=17)
        later = make_incident("Later strike", location=homs.location, start_date=datetime.date(2023, 10, 9))
        make_report(later, killed=3)
        return {"homs": homs, "idlib": idlib, "later": later}

    @pytest.mark.parametrize(
        "query, field, message",
        [
            ("date_after=yesterday", "date_after", "Enter a date as YYYY-MM-DD"),
            ("min_killed=-3", "min_killed", "greater than or equal to 0"),
            ("min_killed=2.5", "min_killed", "Enter a whole number."),
            ("min_killed=99999999999999999999999", "min_killed", "less than or equal to 10000000"),
            ("location=atlantis", "location", "There is no such place"),
            ("perpetrator=nobody", "perpetrator", "There is no such actor"),
            ("source=rumour", "source", "There is no such source"),
            ("kind=picnic", "kind", "Select a valid choice"),
            ("disputed=maybe", "disputed", "Select a valid choice"),
            ("sort=random", "sort", "Select a valid choice"),
            ("date_after=2023-10-09&date_before=2023-10-01", "date_before", "before the “from” date"),
        ],
    )
    def test_a_malformed_filter_shows_a_message_and_no_unfiltered_data(self, client, query, field, message):
        make_homs()
        response = client.get(f"/incidents/?{query}")
        html = text(response)
        assert any(message in e for e in response.context["filterset"].form.errors[field])
        assert "Some filters could not be read" in html
        assert "89–120+" not in html
        assert 'aria-invalid="true"' in html

    @pytest.mark.parametrize("value", ["10/05/2023", "10/05/23", "2023-10-5", "2023-1-05"])
    @pytest.mark.parametrize("field", ["date_after", "date_before"])
    def test_dates_are_iso_only(self, client, field, value):
        # 10/05/2023 is 5 October in much of the world and 10 May elsewhere (issue 15).
        homs = make_homs()
        response = client.get("/incidents/", {field: value})
        html = text(response)
        assert "Enter a date as YYYY-MM-DD, e.g. 2023-10-" in html
        assert homs.title not in html
        assert homs.title in text(client.get("/incidents/", {field: "2023-10-05"}))
        # The value stays in the box to be corrected, which asks for the format the message names.
        assert f'value="{value}"' in html and 'placeholder="YYYY-MM-DD"' in html and 'type="date"' not in html

    @pytest.mark.parametrize(
        "sort, first",
        [("newest", "Later strike"), ("oldest", None), ("toll", "Drone strike on the Homs military academy")],
    )
    def test_sorting(self, client, sort, first):
        incidents = self.make_three()
        rows = list(client.get(f"/incidents/?sort={sort}").context["page"].object_list)
        if first:
            assert rows[0].title == first
        else:
            assert rows[-1].title == "Later strike"
        assert {r.title for r in rows} == {i.title for i in incidents.values()}

    def test_most_disputed_comes_first_when_asked(self, client):
        incidents = self.make_three()
        rows = list(client.get("/incidents/?sort=disputed").context["page"].object_list)
        assert rows[0] == incidents["homs"]

    def test_pagination_keeps_the_filters(self, client):
        place = make_location("Aleppo", kind="admin1")
        for i in range(30):
            make_incident(f"Clash {i}", location=place, kind="armed_clash")
        make_incident("Not a clash", location=place, kind="other")
        html = text(client.get("/incidents/?kind=armed_clash"))
        assert "30 incidents match; showing 1–25." in html
        assert 'href="?kind=armed_clash&amp;page=2"' in html
        second = client.get("/incidents/?kind=armed_clash&page=2")
        assert len(second.context["page"].object_list) == 5

    def test_a_page_number_past_the_end_shows_the_last_page(self, client):
        make_homs()
        assert client.get("/incidents/?page=999").context["page"].number == 1

    def test_the_download_links_show_only_to_editors_and_carry_the_filters(self, client, analyst, editor):
        make_homs()
        client.force_login(analyst)
        assert "Download CSV" not in text(client.get("/incidents/?kind=air_strike"))
        client.force_login(editor)
        html = text(client.get("/incidents/?kind=air_strike&page=1"))
        assert 'href="/export/incidents.csv?kind=air_strike"' in html
        assert 'href="/export/reports.csv?kind=air_strike"' in html

    def test_the_list_costs_the_same_queries_for_few_and_many_incidents(self, client):
        tree = make_tree()
        sources = [make_source() for _ in range(3)]
        add_incidents(3, tree["city"], sources)
        few = queries_for(client, "/incidents/?location=idlib&q=bulk&sort=toll")
        add_incidents(60, tree["city"], sources)
        assert queries_for(client, "/incidents/?location=idlib&q=bulk&sort=toll") == few
        # Six for the page, one for the data version (the public cache), three for the ids of the
        # places, sources and named people the search matches (so that indexes serve the rest).
        assert few <= 10

    def test_the_unfiltered_list_takes_its_count_from_the_month_totals_not_from_every_incident(self, client):
        tree = make_tree()
        sources = [make_source() for _ in range(2)]
        add_incidents(30, tree["city"], sources)
        make_incident("A draft", status="draft", location=tree["city"])
        published = Incident.objects.published().count()
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/incidents/?sort=toll")
        assert response.context["page"].paginator.count == published == 30
        counted = [
            q["sql"] for q in captured if "COUNT(" in q["sql"] and 'FROM "incidents_incident"' in q["sql"]
        ]
        assert counted == []
        # Filtered, the list counts what the filters choose.
        assert client.get("/incidents/?q=Bulk+1").context["page"].paginator.count == 11  # Bulk 1, Bulk 10…19

    def test_a_filter_matching_more_than_the_count_limit_says_more_than_and_pages_on(
        self, client, monkeypatch
    ):
        monkeypatch.setattr(views, "COUNT_LIMIT", 30)
        place = make_location("Aleppo", kind="admin1")
        for i in range(60):
            make_incident(f"Clash {i}", location=place, kind="armed_clash")
        html = text(client.get("/incidents/?kind=armed_clash"))
        assert "More than 30 incidents match; showing 1–25." in html
        assert "Page 1" in html and "Page 1 of" not in html
        assert 'href="?kind=armed_clash&amp;page=2"' in html
        # A page beyond the limit is counted as far as it: the last one says how many there are.
        third = client.get("/incidents/?kind=armed_clash&page=3")
        assert len(third.context["page"].object_list) == 10
        assert "Page 3 of 3" in text(third)
        second = client.get("/incidents/?kind=armed_clash&page=2")
        assert "More than 50 incidents match; showing 26–50." in text(second)
        # However far on the page asked for, the count stops at the furthest page counted.
        monkeypatch.setattr(views, "FURTHEST_PAGE_COUNTED", 2)
        far = client.get("/incidents/?kind=armed_clash&page=1000000")
        assert far.context["page"].paginator.count == 51 and far.context["page"].number == 3
        assert "More than 50 incidents match" in text(far)
        # Within the limit the count is exact.
        assert "30 incidents match" not in text(client.get("/incidents/?kind=armed_clash&q=Clash+1"))
        assert "11 incidents match" in text(client.get("/incidents/?kind=armed_clash&q=Clash+1"))

    def test_a_place_filter_alone_takes_its_count_from_the_place_totals(self, client):
        tree = make_tree()
        sources = [make_source() for _ in range(2)]
        add_incidents(12, tree["city"], sources)
        add_incidents(5, tree["homs"], sources)
        make_incident("A draft", status="draft", location=tree["city"])
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/incidents/?location=idlib")
        assert response.context["page"].paginator.count == 12
        counted = [
            q["sql"] for q in captured if "COUNT(" in q["sql"] and 'FROM "incidents_incident"' in q["sql"]
        ]
        assert counted == []
        assert client.get("/api/incidents/?location=idlib").json()["count"] == 12
        assert client.get("/api/incidents/").json()["count"] == 17


class TestIncidentPage:
    def test_figures_side_by_side_highest_first_with_the_range_in_words(self, client):
        homs = make_homs()
        response = client.get(homs.get_absolute_url())
        html = text(response)
        assert (
            "Between 89 and more than 120 people were reported killed, according to 2 sources that differ."
            in html
        )
        assert html.index("more than 120") < html.index("at least 89")
        assert "Syrian Observatory for Human Rights" in html and "Monitoring group / NGO" in html
        assert [r.source.short_name for r in response.context["current"]] == ["SOHR", "MoH"]

    def test_the_chart_shows_each_source_with_an_arrow_for_open_figures(self, client):
        homs = make_homs()
        html = text(client.get(homs.get_absolute_url()))
        svg = html[html.index("<svg") : html.index("</svg>")]
        assert "SOHR: more than 120." in svg and "MoH: at least 89." in svg
        assert svg.count('class="open-arrow"') == 2
        assert svg.count('class="dot"') == 0
        # One shared scale, labelled from 0 to a round number above 120.
        assert ">0</text>" in svg and ">150</text>" in svg

    def test_a_range_is_drawn_as_a_line_between_end_caps_and_an_exact_figure_as_a_dot(self, client):
        incident = make_incident()
        make_report(
            incident,
            make_source("French military intelligence"),
            killed=100,
            qualifier="between",
            killed_upper=300,
        )
        make_report(incident, make_source("Local council"), killed=471)
        html = text(client.get(incident.get_absolute_url()))
        svg = html[html.index("<svg") : html.index("</svg>")]
        assert svg.count('class="interval"') == 1 and svg.count('class="cap"') == 2
        assert svg.count('class="dot"') == 1 and 'class="open-arrow"' not in svg
        assert "French military intelligence: between 100 and 300." in svg and "Local council: 471." in svg
        assert 'role="img"' in svg and 'viewBox="0 0 340 ' in svg

    def test_a_long_source_name_is_shortened_in_the_chart_and_given_whole_in_its_title(self, client):
        incident = make_incident()
        name = "Syrian Network for Human Rights, field documentation network"
        make_report(incident, make_source(name), qualifier="dozens", killed=None)
        html = text(client.get(incident.get_absolute_url()))
        svg = html[html.index("<svg") : html.index("</svg>")]
        assert f"<title>{name}: dozens (counted as at least 24)</title>" in svg
        assert f'class="label" x="8" y="22">{name[:29]}…</text>' in svg

    def test_each_sources_earlier_figures_are_told(self, client):
        incident = make_incident()
        sohr = make_source("Syrian Observatory for Human Rights", short_name="SOHR")
        make_report(incident, sohr, killed=100, published_on=datetime.date(2023, 10, 5))
        make_report(
            incident, sohr, killed=120, qualifier="more_than", published_on=datetime.date(2023, 10, 6)
        )
        html = text(client.get(incident.get_absolute_url()))
        assert "SOHR first reported 100 on 5 October 2023, then more than 120 on 6 October 2023." in html

    def test_facts_perpetrators_claim_place_chain_related_and_updated(self, client):
        homs = make_homs()
        make_attribution(homs, make_actor("Unidentified drone operators", kind="unidentified"))
        shelling = make_incident("Shelling of Idlib that followed")
        draft = make_incident("Draft related", status="draft")
        homs.related.add(shelling, draft)
        html = text(client.get(homs.get_absolute_url()))
        assert "Unidentified drone operators" in html
        assert "No one claimed responsibility" in html
        assert 'href="/locations/syria/">Syria</a>' in html
        assert "Shelling of Idlib that followed" in html and "Draft related" not in html
        assert "Last updated" in html

    def test_of_whom_injured_links_and_quotes_are_shown(self, client):
        incident = make_incident()
        make_report(
            incident,
            killed=7,
            civilians=5,
            children=2,
            injured=20,
            injured_qualifier="about",
            url="https://example.org/statement",
            quote="سبعة قتلى",
        )
        html = text(client.get(incident.get_absolute_url()))
        assert "5 civilians" in html and "2 children" in html and "about 20" in html
        assert 'href="https://example.org/statement"' in html and "سبعة قتلى" in html

    def test_html_in_a_quote_is_shown_as_text(self, client):
        incident = make_incident(title="<b>bold</b> title")
        make_report(
            incident, killed=1, quote='<script>alert("x")</script>', note="<img src=x onerror=alert(1)>"
        )
        html = text(client.get(incident.get_absolute_url()))
        assert "<script>alert" not in html and "&lt;script&gt;alert" in html
        assert "<img src=x" not in html and "<b>bold</b>" not in html

    def test_a_draft_is_not_found_by_readers_but_staff_see_it(self, client, analyst):
        draft = make_incident("Unchecked", status="draft")
        response = client.get(draft.get_absolute_url())
        assert response.status_code == 404 and "Page not found" in response.content.decode()
        client.force_login(analyst)
        banner = "Draft: only analysts and editors can see this page"
        assert banner in text(client.get(draft.get_absolute_url()))

    def test_an_incident_without_reports_says_so(self, client):
        incident = make_incident()
        assert "No source has reported a figure yet." in text(client.get(incident.get_absolute_url()))

    def test_the_page_costs_the_same_queries_for_few_and_many_reports(self, client):
        incident = make_incident()
        make_report(incident, killed=1)
        few = queries_for(client, incident.get_absolute_url())
        for i in range(30):
            source = make_source()
            make_report(incident, source, killed=i, published_on=datetime.date(2023, 10, 5))
            make_report(incident, source, killed=i + 1, published_on=datetime.date(2023, 10, 6))
            incident.related.add(make_incident())
            make_attribution(incident, make_actor())
        assert queries_for(client, incident.get_absolute_url()) == few


class TestLocationPage:
    def test_it_shows_the_chain_sub_places_incidents_and_totals(self, client):
        homs = make_homs()
        idlib_city = homs.location.__class__.objects.get(kind="locality", name="Idlib")
        idlib = make_incident("Shelling of Idlib", location=idlib_city)
        make_report(idlib, killed=17)
        response = client.get("/locations/syria/")
        html = text(response)
        assert "Between <strong>106</strong> and <strong>137+</strong> people were reported killed" in html
        assert "in 2 incidents, according to 3 sources; 1 disputed." in html
        counts = {place.name: n for place, n in response.context["children"]}
        assert counts == {"Homs": 1, "Idlib": 1}
        idlib_page = text(client.get("/locations/idlib/"))
        assert "Shelling of Idlib" in idlib_page and homs.title not in idlib_page

    def test_its_incidents_are_paged_and_drafts_left_out(self, client):
        tree = make_tree()
        add_incidents(27, tree["city"], [make_source()])
        make_incident("A draft here", location=tree["city"], status=Incident.Status.DRAFT)
        page = client.get("/locations/syria/?page=2").context["page"]
        assert (page.number, page.paginator.num_pages, page.paginator.count) == (2, 2, 27)
        assert len(page.object_list) == 2

    def test_an_unknown_place_is_a_friendly_404(self, client):
        response = client.get("/locations/atlantis/")
        assert response.status_code == 404 and "Page not found" in response.content.decode()

    def test_the_page_costs_the_same_queries_for_few_and_many_incidents(self, client):
        tree = make_tree()
        add_incidents(2, tree["city"], [make_source()])
        few = queries_for(client, "/locations/syria/")
        add_incidents(40, tree["city"], [make_source(), make_source()])
        for i in range(10):
            make_location(f"Village {i}", parent=tree["district"])
        assert queries_for(client, "/locations/syria/") == few


class TestSourcePage:
    def test_it_lists_everything_and_compares_with_other_sources(self, client):
        homs = make_homs()
        moh = homs.reports.get(source__short_name="MoH").source
        other = make_incident("Another strike")
        make_report(other, moh, killed=30)
        make_report(other, make_source("Local council"), killed=30)
        response = client.get(moh.get_absolute_url())
        html = text(response)
        assert (
            "higher 0 times" in html and "lower 1 time" in html and "the same or overlapping 1 time" in html
        )
        assert homs.title in html and "Another strike" in html and "at least 89" in html

    def test_a_revised_figure_is_marked(self, client):
        incident = make_incident()
        source = make_source("SOHR")
        make_report(incident, source, killed=100, published_on=datetime.date(2023, 10, 5))
        make_report(incident, source, killed=120, published_on=datetime.date(2023, 10, 6))
        html = text(client.get(source.get_absolute_url()))
        assert "revised later" in html and "current" in html

    def test_figures_on_drafts_are_not_shown(self, client):
        source = make_source("SOHR")
        make_report(make_incident("Published one"), source, killed=5)
        make_report(make_incident("Hidden draft", status="draft"), source, killed=3)
        html = text(client.get(source.get_absolute_url()))
        assert "Published one" in html and "Hidden draft" not in html

    def test_the_page_costs_the_same_queries_for_few_and_many_reports(self, client):
        tree = make_tree()
        source, other = make_source(), make_source()
        add_incidents(2, tree["city"], [source, other])
        few = queries_for(client, source.get_absolute_url())
        add_incidents(40, tree["city"], [source, other])
        assert queries_for(client, source.get_absolute_url()) == few


class TestHomePage:
    def test_it_shows_headline_ranges_latest_and_most_disputed(self, client):
        homs = make_homs()
        calm = make_incident("Agreed toll", start_date=datetime.date(2023, 11, 2))
        make_report(calm, killed=4)
        make_report(calm, killed=4)
        response = client.get("/")
        html = text(response)
        assert "93–124+" in html  # all time
        assert "November 2023, the latest month with incidents" in html
        assert list(response.context["most_disputed"]) == [homs]
        assert list(response.context["latest"])[0] == calm
        assert "<svg" in html and "October 2023: 89–120+ killed in 1 incident." in html

    def test_one_headline_box_when_every_incident_is_in_the_latest_month(self, client):
        make_report(make_incident("First", start_date=datetime.date(2023, 11, 1)), killed=5)
        make_report(make_incident("Second", start_date=datetime.date(2023, 11, 20)), killed=3)
        html = text(client.get("/"))
        assert html.count('<span class="big">') == 1
        assert "All published incidents, all in November 2023" in html
        assert "the latest month with incidents" not in html
        make_report(make_incident("Earlier", start_date=datetime.date(2023, 10, 1)), killed=1)
        assert text(client.get("/")).count('<span class="big">') == 2

    def test_the_latest_month_counts_only_its_own_days(self, client):
        make_report(make_incident("End of October", start_date=datetime.date(2023, 10, 31)), killed=5)
        make_report(make_incident("First of November", start_date=datetime.date(2023, 11, 1)), killed=3)
        month, total = client.get("/").context["latest_month"]
        assert month == datetime.date(2023, 11, 1)
        assert (total.incidents, total.lowest, total.highest, total.sources) == (1, 3, 3, 1)

    def test_an_empty_site_says_nothing_is_published(self, client):
        html = text(client.get("/"))
        assert "No incident has been published yet." in html

    def test_the_home_page_costs_the_same_queries_for_few_and_many_incidents(self, client):
        tree = make_tree()
        add_incidents(2, tree["city"], [make_source(), make_source()])
        few = queries_for(client, "/")
        add_incidents(40, tree["city"], [make_source(), make_source()])
        assert queries_for(client, "/") == few


def test_the_feed_lists_newly_published_incidents(client):
    homs = make_homs()
    make_incident("Draft", status="draft")
    response = client.get("/incidents/feed/")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    titles = [e.text for e in root.iter("{http://www.w3.org/2005/Atom}title")]
    assert f"{homs.title} (89–120+ killed)" in titles
    assert not any("Draft" in (t or "") for t in titles)


def test_the_feed_lists_the_most_recently_published_first_at_a_fixed_cost(client):
    tree = make_tree()
    add_incidents(3, tree["city"], [make_source()])
    few = queries_for(client, "/incidents/feed/")
    add_incidents(60, tree["city"], [make_source()])
    make_incident("Published just now", location=tree["city"], start_date=datetime.date(2020, 1, 1))
    assert queries_for(client, "/incidents/feed/") == few
    root = ET.fromstring(client.get("/incidents/feed/").content)  # noqa: S314 (our own feed)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 50
    assert entries[0].find("{http://www.w3.org/2005/Atom}title").text.startswith("Published just now")


def test_the_methodology_explains_ranges_disputes_and_no_averaging(client):
    html = text(client.get("/methodology/"))
    for phrase in ["lowest", "highest", "open", "disputed", "We do not average figures"]:
        assert phrase in html


@pytest.mark.parametrize(
    "rule, example",
    [
        ("as stated", "We never write “about 105” (an average)"),
        ("plural words", "“dozens (counted as at least 24)”"),
        ("plural words", "“thousands (counted as at least 2,000)”"),
        ("more than", '<td data-label="Reads as">121 or more</td>'),
        ("zero", "No one was reported killed, according to 1 source."),
        ("current figure", "Its current figure\nstays “at least 50”"),
        ("populations", "never shows “31–89, disputed”"),
        ("floor", "At least 71 people were reported killed, counting the civilian and combatant"),
        ("contradictory populations", "50 civilians cannot fit inside 5 deaths"),
        ("range", "<strong>89–120+</strong>"),
        ("equal ends", "“120 or more than 120 people were reported killed”, not “120+”"),
        ("differ", '<td data-label="The sources">differ, but do not contradict</td>'),
        (
            "contradict",
            '<th scope="row">“471” and “between 100 and 300”</th>'
            '<td data-label="Why">471 is not between 100 and 300</td>'
            '<td data-label="The sources">contradict</td>',
        ),
        (
            "agree",
            '<th scope="row">“between 10 and 15” and “between 10 and 15”</th>'
            '<td data-label="Why">both allow 10 to 15</td><td data-label="The sources">agree</td>',
        ),
        ("parts", "the wave of 17 with a child recorded as a part still counts 17"),
        ("parts on the home page", "<strong>108–139+</strong>, not 109–140+"),
        ("totals", "the total is <strong>10–60</strong>"),
        ("per source", "the French never said 471"),
        ("corrections", "a figure was corrected from MoH: 98 to MoH: 89"),
    ],
)
def test_the_methodology_gives_a_worked_example_for_each_rule(client, rule, example):
    html = " ".join(text(client.get("/methodology/")).split())
    assert " ".join(example.split()) in html, rule


def test_the_methodology_examples_are_what_the_demo_pages_show(client):
    """The page quotes the demo's home page total and the Homs sentence: keep them true."""
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
    home = text(client.get("/"))
    assert "Between <strong>108</strong> and <strong>139+</strong>" in home
    homs = text(client.get("/incidents/homs-military-academy-drone-strike-2023-10-05/"))
    assert (
        "Between 89 and more than 120 people were reported killed, according to 2 sources that differ."
        in homs
    )
    methodology = " ".join(text(client.get("/methodology/")).split())
    assert (
        "“Between 89 and more than 120 people were reported killed, according to 2 sources that differ.”"
        in methodology
    )


def test_the_methodology_reads_in_order_with_labelled_tables(client):
    html = text(client.get("/methodology/"))
    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    assert html.count("<caption>") == 2 and html.count('<th scope="col">') == 6
    assert html.count('<th scope="row">') == 12 + 5  # every wording, every agreement example


@pytest.mark.parametrize("url", ["/", "/incidents/", "/methodology/", "/locations/syria/", "/sources/sohr/"])
def test_every_page_has_a_description_and_one_h1(client, url):
    make_homs()
    html = text(client.get(url))
    assert '<meta name="description" content="' in html
    assert html.count("<h1") == 1


# --- Names that only drafts use are never public (issue 15) ----------------------------------------


@pytest.fixture
def draft_only(db):
    """A published incident in Homs, and a draft whose place, source and actor nothing published uses."""
    tree = make_tree()
    public = make_incident("Published strike", location=make_location("Homs city", parent=tree["homs"]))
    make_attribution(public, make_actor("Public Forces"))
    make_report(public, make_source("Public Observatory"), killed=4)
    hidden_place = make_location("Secret Governorate", kind="admin1", parent=tree["syria"], name_ar="سري")
    hidden_village = make_location("Secret Village", parent=hidden_place)
    draft = make_incident("Unchecked draft", location=hidden_village, status="draft")
    make_attribution(draft, make_actor("Secret Brigade"))
    make_attribution(draft, make_actor("Secret Claimant"), stance="claimed")
    make_report(draft, make_source("Secret Monitor", website="https://secret.example"), killed=2)
    # An imported dataset whose events are all still drafts.
    make_report(draft, make_source("Imported Dataset GED", kind="dataset"), killed=3)
    return {"tree": tree, "public": public, "draft": draft, "place": hidden_place, "village": hidden_village}


SECRET_NAMES = ["Secret Governorate", "سري", "Secret Village", "Secret Brigade", "Secret Claimant",
                "Secret Monitor", "secret.example", "Imported Dataset GED"]  # fmt: skip


class TestDraftOnlyNames:
    def test_the_filter_menus_list_only_what_published_incidents_use(self, client, draft_only, analyst):
        html = text(client.get("/incidents/"))
        assert "Public Forces" in html and "Public Observatory" in html and "Homs" in html
        for name in SECRET_NAMES:
            assert name not in html, name
        client.force_login(analyst)  # those who edit incidents still find them
        menus = text(client.get("/incidents/"))
        assert "Secret Brigade" in menus and "Secret Monitor" in menus and "Secret Governorate" in menus

    def test_the_names_of_an_incident_are_in_the_menus_once_it_is_published(self, client, draft_only):
        """The menus' public names are read afresh for each page, from a query each process
        builds once (``filters._public_names``)."""
        assert "Secret Brigade" not in text(client.get("/incidents/"))
        publish_incidents(
            incidents=Incident.objects.filter(pk=draft_only["draft"].pk), user=None, via="tests"
        )
        html = text(client.get("/incidents/"))
        assert "Secret Brigade" in html and "Secret Monitor" in html and "Secret Governorate" in html

    @pytest.mark.parametrize(
        "param, slug, kind",
        [("location", "secret-governorate", "place"), ("location", "secret-village", "place"),
         ("perpetrator", "secret-brigade", "actor"), ("source", "secret-monitor", "source"),
         ("source", "imported-dataset-ged", "source")],
    )  # fmt: skip
    def test_a_draft_only_slug_in_a_filter_reads_like_an_unknown_one(
        self, client, draft_only, param, slug, kind
    ):
        unknown = text(client.get("/incidents/", {param: "no-such-thing"}))
        hidden = text(client.get("/incidents/", {param: slug}))
        message = f"There is no such {kind}: check the address or choose one from the list."
        assert message in unknown and message in hidden
        for name in SECRET_NAMES:
            assert name not in hidden, name
        # Public places, down to a town asked for by its slug, still filter.
        for place in ["syria", "homs", "homs-city"]:
            response = client.get("/incidents/", {"location": place})
            assert "Published strike" in text(response) and not response.context["filterset"].errors, place

    def test_a_place_page_leaves_out_sub_places_only_drafts_use(self, client, draft_only, analyst):
        response = client.get("/locations/syria/")
        assert [place.name for place, _ in response.context["children"]] == ["Homs"]
        assert "Secret Governorate" not in text(response)
        client.force_login(analyst)
        children = client.get("/locations/syria/").context["children"]
        assert {place.name for place, _ in children} == {"Homs", "Idlib", "Secret Governorate"}

    @pytest.mark.parametrize(
        "url, name",
        [("/locations/secret-governorate/", "Secret Governorate"),
         ("/locations/secret-village/", "Secret Village"),
         ("/sources/secret-monitor/", "Secret Monitor"),
         ("/sources/imported-dataset-ged/", "Imported Dataset GED")],
    )  # fmt: skip
    def test_draft_only_places_and_sources_are_not_found_by_readers(
        self, client, draft_only, analyst, url, name
    ):
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        for secret in SECRET_NAMES:
            assert secret not in html, secret
        client.force_login(analyst)  # those who edit incidents still see them
        assert name in text(client.get(url))

    def test_a_place_where_nothing_is_published_is_not_found_either(self, client, draft_only):
        make_location("Empty Governorate", kind="admin1", parent=draft_only["tree"]["syria"])
        assert client.get("/locations/empty-governorate/").status_code == 404


class TestStaffWithoutAGroup:
    """Only those who may edit incidents (Analyst, Editor, superusers) see drafts (issue 15)."""

    def test_they_see_what_the_public_sees_and_editing_staff_see_drafts(self, client, draft_only):
        client.force_login(make_user("clerk"))  # staff, but in no group
        draft_url = draft_only["draft"].get_absolute_url()
        for url in [draft_url, "/locations/secret-governorate/", "/sources/secret-monitor/"]:
            assert client.get(url).status_code == 404, url
        html = text(client.get("/incidents/"))
        for name in SECRET_NAMES:
            assert name not in html, name
        for user in [make_user("ana2", group="Analyst"), make_user("ed2", group="Editor"),
                     make_user("root", superuser=True)]:  # fmt: skip
            client.force_login(user)
            assert "Draft: only analysts and editors" in text(client.get(draft_url)), user


def test_the_feed_carries_titles_and_summaries_as_text_escaped_once(client):
    # An Atom reader renders type="html" content live, and our CSP does not reach it (issue 15).
    hostile = '<img src=x onerror=alert(1)><script>alert("x")</script> & &amp;'
    place = make_location(f"Town {hostile}", kind="admin1")
    make_report(make_incident(f"Strike {hostile}", location=place, summary=f"Summary {hostile}"), killed=3)
    response = client.get("/incidents/feed/")
    assert b"<script>" not in response.content and b"<img src" not in response.content
    atom = "{http://www.w3.org/2005/Atom}"
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    entry = root.find(f"{atom}entry")
    title, summary = entry.find(f"{atom}title"), entry.find(f"{atom}summary")
    assert title.get("type") == "text" and summary.get("type") == "text"
    assert title.text == f"Strike {hostile} (3 killed)"  # the parser unescapes once: the raw text
    assert summary.text.startswith(f"5 October 2023, Town {hostile}. ")
    assert summary.text.endswith(f"Summary {hostile}")
    for element in [root.find(f"{atom}title"), root.find(f"{atom}subtitle")]:
        assert element.get("type") == "text", element.tag


class TestPlacesInTheirCountrysWords:
    def test_pages_name_levels_as_the_country_does_and_a_site_is_a_place(self, client):
        palestine = make_location(
            "Palestine", kind="country", admin1_name="region", admin2_name="governorate"
        )
        strip = make_location("Gaza Strip", kind="admin1", parent=palestine)
        gaza = make_location("Gaza", kind="admin2", parent=strip)
        gaza_city = make_location("Gaza City", kind="locality", parent=gaza)
        hospital = make_location("Al-Ahli Arab Hospital", kind="site", parent=gaza_city)
        make_report(make_incident("Explosion at al-Ahli hospital", location=hospital), killed=471)
        make_incident("Strike somewhere in Gaza", location=gaza, location_precision="admin2")
        menu = text(client.get("/incidents/"))
        assert (
            "Gaza Strip, Palestine (region)" in menu and "Gaza, Gaza Strip, Palestine (governorate)" in menu
        )
        assert "(district)" not in menu
        strip_page = text(client.get(strip.get_absolute_url()))
        assert '<p class="muted">Region' in strip_page and "<td>Governorate</td>" in strip_page
        assert "Explosion at al-Ahli hospital" in text(client.get(gaza_city.get_absolute_url()))
        city_page = text(client.get(gaza_city.get_absolute_url()))
        assert "<td>Site</td>" in city_page
        detail = text(client.get("/incidents/" + Incident.objects.get(title__startswith="Strike").slug + "/"))
        assert "(somewhere in the governorate)" in detail


def test_the_filter_form_waits_behind_a_filter_button_that_says_how_many_are_set(client):
    make_homs()
    html = text(client.get("/incidents/"))
    assert '<details class="filter-box">' in html and ">Filter</summary>" in html
    assert "{#" not in html and "details element" not in html  # template comments stay in the template
    html = text(client.get("/incidents/", {"kind": "air_strike", "q": "academy", "sort": "oldest"}))
    assert ">Filter (2 set)</summary>" in html
    # A filter that could not be read is shown open, with its message.
    assert '<details class="filter-box" open>' in text(client.get("/incidents/", {"date_after": "yesterday"}))
