"""The load test's editor: revises a figure every second and publishes an incident every few.

Run by benchmarks/loadtest.py with the servers' environment. It creates a tracer incident with
one exact figure, then raises that figure by one each second (through the ORM, so through the
one writer of derived figures and the data version, as an analyst's save would), and publishes
a new incident every fifth second. After each commit it prints ``committed <figure>``: from
that moment no reader may be shown a smaller figure. At the end it removes what it added.
"""

import datetime
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casualty_tracker.settings")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from incidents.models import Incident, Location, Source, TollReport  # noqa: E402
from incidents.workflow import publish_incident, unpublish_incident  # noqa: E402

FIRST_FIGURE = 1000


def main(seconds, token):
    place = Location.objects.filter(kind="locality").order_by("pk").first()
    source = Source.objects.order_by("pk").first()
    added = []

    def new_incident(title):
        with transaction.atomic():
            incident = Incident.objects.create(
                title=title, kind="shelling", start_date=datetime.date.today(), location=place
            )
            publish_incident(incident=incident, user=None, via="load test")
        added.append(incident)
        return incident

    tracer = new_incident(f"Load test tracer {token}")
    report = TollReport.objects.create(
        incident=tracer, source=source, published_on=tracer.start_date, killed=FIRST_FIGURE, url=""
    )
    print(f"tracer {token} {tracer.slug} committed {FIRST_FIGURE}", flush=True)
    started = time.monotonic()
    second = 0
    while time.monotonic() - started < seconds:
        second += 1
        figure = FIRST_FIGURE + second
        TollReport.objects.filter(pk=report.pk).update(killed=figure)
        print(f"committed {figure}", flush=True)
        if second % 5 == 0:
            new_incident(f"Load test incident {token} {second}")
        time.sleep(max(0.0, started + second - time.monotonic()))
    # From here on the tracer goes away: the checkers stop reading it first.
    print("cleaning up", flush=True)
    for incident in added:
        unpublish_incident(incident=incident, user=None, via="load test")
        with transaction.atomic():
            TollReport.objects.filter(incident=incident).delete()
            incident.delete()
    print("done", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else uuid.uuid4().hex[:8])
