"""Same-moment saves, raced in threads against the real PostgreSQL.

Each thread has its own database connection and its own logged-in client; a barrier releases
them together, so their requests overlap inside the database (row locks, conditional writes),
not one after the other. On SQLite these tests are reported as NOT RUN (see conftest.py).
"""

import datetime
import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from incidents import tolls, workflow
from incidents.models import Incident, TollReport
from tests.admin_helpers import change_form_data
from tests.factories import (
    current_report_ids,
    fresh_range,
    make_incident,
    make_location,
    make_report,
    make_source,
    make_user,
    stored_range,
)
from tests.test_totals import assert_totals_kept

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACE_TIMEOUT = 120  # seconds; a deadlock or a hang fails the test instead of blocking the run


def race(count, action):
    """Run ``action(i)`` in ``count`` threads released together; their results, in order."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(i):
        try:
            barrier.wait(timeout=RACE_TIMEOUT)
            results[i] = action(i)
        except Exception as error:  # noqa: BLE001 - reported below with the thread's number
            errors.append((i, error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    assert not errors, errors
    return results


def logged_in_clients(count, group="Editor"):
    clients = []
    for i in range(count):
        client = Client()
        client.force_login(make_user(f"{group.lower()}-{i}", group=group))
        clients.append(client)
    return clients


def test_of_25_same_moment_saves_of_an_incident_exactly_one_wins_and_the_others_are_told():
    incident = make_incident(title="Drone strike", status="draft")
    url = f"/admin/incidents/incident/{incident.pk}/change/"
    clients = logged_in_clients(25)
    forms = [change_form_data(client.get(url)) for client in clients]  # all opened the same version

    def save(i):
        return clients[i].post(url, {**forms[i], "summary": f"Summary written by editor {i}"})

    responses = race(25, save)
    winners = [i for i, response in enumerate(responses) if response.status_code == 302]
    assert len(winners) == 1
    incident.refresh_from_db()
    assert incident.summary == f"Summary written by editor {winners[0]}"
    for i, response in enumerate(responses):
        if i in winners:
            continue
        html = response.content.decode()
        assert response.status_code == 200
        assert f"was changed by editor-{winners[0]} on" in html and "Your changes were not saved" in html
        assert f"Summary written by editor {i}" in html  # their input comes back to them
    changes = incident.history.filter(history_type="~")
    assert changes.count() == 1 and changes.get().summary == incident.summary


def test_of_10_same_moment_saves_of_a_report_exactly_one_wins():
    report = make_report(make_incident(status="draft"), killed=10)
    url = f"/admin/incidents/tollreport/{report.pk}/change/"
    clients = logged_in_clients(10, group="Analyst")
    forms = [change_form_data(client.get(url)) for client in clients]

    responses = race(10, lambda i: clients[i].post(url, {**forms[i], "killed": str(20 + i)}))
    winners = [i for i, response in enumerate(responses) if response.status_code == 302]
    assert len(winners) == 1
    report.refresh_from_db()
    assert report.killed == 20 + winners[0]
    assert all("Your changes were not saved" in r.content.decode() for r in responses if r.status_code == 200)


def test_10_reports_saved_at_the_same_moment_leave_a_true_range_and_one_current_report_per_source():
    incident = make_incident()
    sources = [make_source(f"Source {n}") for n in range(3)]
    day = incident.start_date

    def add_report(i):
        return make_report(
            incident,
            sources[i % 3],
            killed=10 * (i + 1),
            qualifier="at_least" if i % 2 else "exact",
            published_on=day + datetime.timedelta(days=i // 3),
        ).pk

    race(10, add_report)
    assert TollReport.objects.filter(incident=incident).count() == 10
    assert stored_range(incident) == fresh_range(incident)
    assert all(len(ids) == 1 for ids in current_report_ids(incident).values())
    assert len(current_report_ids(incident)) == 3


def test_reports_moved_between_two_incidents_at_the_same_moment_leave_both_ranges_true():
    first, second = make_incident(), make_incident()
    reports = [make_report(first if i % 2 else second, make_source(), killed=i + 1) for i in range(8)]

    def move(i):
        report = TollReport.objects.get(pk=reports[i].pk)
        report.incident = second if report.incident_id == first.pk else first
        report.save()

    race(8, move)
    for incident in (first, second):
        assert stored_range(incident) == fresh_range(incident)


def test_8_analysts_adding_incidents_with_the_same_title_at_the_same_moment_all_succeed():
    place = make_location()
    clients = logged_in_clients(8, group="Analyst")
    data = {
        "title": "Shelling of the market",
        "kind": "shelling",
        "start_date": "2023-10-05",
        "date_precision": "day",
        "location": place.pk,
        "location_precision": "exact",
        "reports-TOTAL_FORMS": "0",
        "reports-INITIAL_FORMS": "0",
        "attributions-TOTAL_FORMS": "0",
        "attributions-INITIAL_FORMS": "0",
        "victims-TOTAL_FORMS": "0",
        "victims-INITIAL_FORMS": "0",
    }

    responses = race(8, lambda i: clients[i].post("/admin/incidents/incident/add/", data))
    assert [r.status_code for r in responses] == [302] * 8
    slugs = list(Incident.objects.filter(title="Shelling of the market").values_list("slug", flat=True))
    assert len(slugs) == len(set(slugs)) == 8


def test_two_editors_publishing_the_same_draft_at_once_publish_it_once():
    incident = make_incident(status="draft")
    clients = logged_in_clients(2)
    action = {"action": "publish_selected", "_selected_action": [incident.pk]}

    race(2, lambda i: clients[i].post("/admin/incidents/incident/", action))
    incident.refresh_from_db()
    assert incident.is_published
    assert incident.history.filter(history_change_reason="Published").count() == 1


def waiting_on_locks(count):
    """Until ``count`` other sessions wait for a row lock (bounded: a poll of pg_stat_activity,
    not a sleep; the threads are known to be on their way to the lock)."""
    with connection.cursor() as cursor:
        for _ in range(100_000):
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one snapshot per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
    pytest.fail("the saves never reached the lock")


def test_an_incident_page_and_a_report_page_saving_one_report_at_once_never_deadlock():
    """The incident page claims the incident, then its inline report; the report page must not
    hold the report while it waits for the incident (PostgreSQL would kill one: a 500). The test
    holds the incident until both saves wait on it, then lets them go together."""
    incident = make_incident(status="draft")
    report = make_report(incident, make_source("SOHR"), killed=10)
    incident_url = f"/admin/incidents/incident/{incident.pk}/change/"
    report_url = f"/admin/incidents/tollreport/{report.pk}/change/"
    clients = logged_in_clients(2)
    for round_number in range(6):  # without the lock order, half the rounds deadlock
        forms = [change_form_data(clients[0].get(incident_url)), change_form_data(clients[1].get(report_url))]
        forms[0]["reports-0-killed"], forms[1]["killed"] = "20", "30"
        urls, responses, errors = [incident_url, report_url], [None, None], []

        def save(i, urls=urls, forms=forms, responses=responses, errors=errors):
            try:
                responses[i] = clients[i].post(urls[i], forms[i])
            except Exception as error:  # noqa: BLE001 - a deadlock surfaces here
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
        with transaction.atomic():
            Incident.objects.select_for_update().filter(pk=incident.pk).get()
            for thread in threads:
                thread.start()
            waiting_on_locks(2)
        for thread in threads:
            thread.join(RACE_TIMEOUT)
        assert not errors, (round_number, errors)
        assert [r.status_code for r in responses].count(302) >= 1
        report.refresh_from_db()
        assert report.killed in (20, 30)


def test_two_reports_of_one_source_edited_at_once_leave_one_current_report():
    incident = make_incident()
    source = make_source("SOHR")
    first = make_report(incident, source, killed=10, published_on=incident.start_date)
    second = make_report(
        incident, source, killed=12, published_on=incident.start_date + datetime.timedelta(1)
    )
    clients = logged_in_clients(2, group="Analyst")
    urls = [f"/admin/incidents/tollreport/{r.pk}/change/" for r in (first, second)]
    for round_number in range(5):
        forms = [change_form_data(client.get(url)) for client, url in zip(clients, urls, strict=True)]
        # Swap their dates each round, so that which report is current changes under both saves.
        days = [
            incident.start_date + datetime.timedelta(d) for d in ((1, 0) if round_number % 2 == 0 else (0, 1))
        ]
        for form, day in zip(forms, days, strict=True):
            form["published_on"] = day.isoformat()
        responses = race(2, lambda i, forms=forms: clients[i].post(urls[i], forms[i]))
        assert [r.status_code for r in responses] == [302, 302]
        assert stored_range(incident) == fresh_range(incident)
        assert list(map(len, current_report_ids(incident).values())) == [1]


# --- The public cache under concurrent writers and readers ----------------------------------------

TOLL_CELL = re.compile(r'data-label="Reported killed" class="num">\D*(\d+)')


def test_writers_never_wait_on_each_other_for_the_data_version():
    """Writers in separate sessions bump separate rows: every bump counts and none blocks."""
    from incidents import dataversion

    incidents = [make_incident(f"Strike {i}") for i in range(6)]
    before = dataversion.current().changes

    def rename(i):
        with transaction.atomic():
            Incident.objects.filter(pk=incidents[i].pk).update(summary=f"Revised {i}")
            # Hold the transaction open until every writer has bumped: a shared row would block here.
            barrier.wait(timeout=RACE_TIMEOUT)

    barrier = threading.Barrier(6)
    race(6, rename)
    # Every writer's bumps count (an update may write more than one statement: at least one each).
    assert dataversion.current().changes >= before + 6


def test_no_reader_ever_sees_a_figure_older_than_the_last_commit():
    """Readers race a writer who revises a figure: each page shows at least the last committed one."""
    incident = make_incident("Strike on the academy")
    report = make_report(incident, killed=100)
    committed = {"killed": 100}
    revisions = 15
    stop = threading.Event()

    def act(i):
        if i == 0:
            for killed in range(101, 101 + revisions):
                with transaction.atomic():
                    TollReport.objects.filter(pk=report.pk).update(killed=killed)
                committed["killed"] = killed  # after the commit: readers from now on must see it
            stop.set()
            return revisions
        client, seen = Client(), []
        while not stop.is_set() or not seen:
            floor = committed["killed"]
            text = client.get("/incidents/").content.decode()
            shown = int(TOLL_CELL.search(text).group(1))
            assert shown >= floor, f"a reader saw {shown} after {floor} was committed"
            seen.append(shown)
        return seen

    results = race(4, act)
    readers = results[1:]
    assert all(readers), "every reader read at least once"
    # The cache served some of these (the writer is slower than three readers), never a stale one.
    assert max(max(seen) for seen in readers) >= 100 + revisions - 1


# --- Month totals: writers queued at the totals' lock -------------------------------------------


def queued_at_the_totals_lock(actions):
    """Run each of ``actions`` in its own thread while this test holds the month totals' lock,
    release it once every thread waits for a lock, and return when all are done. Every writer
    has then read what it read (its incidents' old figures) before any of them wrote the totals:
    the case where a read-then-write would lose an update."""
    errors = []

    def run(action):
        try:
            action()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [tolls.TOTALS_LOCK])
        for thread in threads:
            thread.start()
        waiting_on_locks(len(actions))
    for thread in threads:
        thread.join(RACE_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    assert not errors, errors


def test_figures_changed_at_once_on_incidents_of_one_month_leave_true_month_totals(client):
    october = datetime.date(2023, 10, 5)
    incidents = [make_incident(f"Strike {n}", start_date=october) for n in range(8)]
    queued_at_the_totals_lock(
        [
            lambda incident=incident, n=n: make_report(incident, killed=10 + n, qualifier="at_least")
            for n, incident in enumerate(incidents)
        ]
    )
    assert_totals_kept()
    assert client.get("/").context["all_time"].short() == f"{sum(range(10, 18))}+"


def test_changes_at_once_to_one_part_tree_in_several_months_leave_true_totals(client):
    wave = make_incident("Wave", start_date=datetime.date(2023, 9, 1))
    make_report(wave, killed=20)
    day = make_incident("Day", start_date=datetime.date(2023, 10, 2), part_of=wave)
    make_report(day, killed=15)
    child = make_incident("Child", start_date=datetime.date(2023, 8, 30), part_of=day, status="draft")
    make_report(child, killed=1)
    strike = make_incident("Strike", start_date=datetime.date(2023, 10, 3))

    def move_day():
        day.start_date = datetime.date(2023, 9, 2)
        day.save()

    queued_at_the_totals_lock(
        [
            lambda: make_report(wave, killed=25, qualifier="at_least"),
            lambda: workflow.publish_incident(incident=child, user=None, via="tests"),
            move_day,
            lambda: make_report(strike, killed=4),
        ]
    )
    assert_totals_kept()
    # The wave (20 and at least 25) holds its day (15, the child's 1 within it), plus the strike's 4.
    assert client.get("/").context["all_time"].short() == "24–29+"


def test_deleting_a_part_while_its_whole_is_revised_never_deadlocks(client):
    """A delete refreshes the whole after the totals' lock: it must hold the whole's row before
    it, or a revision of the whole waiting for the totals would wait on it in a circle."""
    wave = make_incident("Wave", start_date=datetime.date(2023, 9, 1))
    make_report(wave, killed=20)
    for round_number in range(4):  # without the lock order, about half the rounds deadlock
        part = make_incident(f"Part {round_number}", start_date=datetime.date(2023, 10, 2), part_of=wave)
        make_report(part, killed=30)
        queued_at_the_totals_lock(
            [part.delete, lambda n=round_number: make_report(wave, killed=40 + n, qualifier="at_least")]
        )
        assert_totals_kept()
    assert client.get("/").context["all_time"].short() == "20–43+"
