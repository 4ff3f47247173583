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
PUBLISH_EVERY = 5  # revisions


class Edits:
    """What the editor writes: a published tracer incident with one exact figure
    (``FIRST_FIGURE``), revisions of that figure, new incidents; ``remove`` takes them away."""

    def __init__(self, token):
        self.token = token
        self.place = Location.objects.filter(kind="locality").order_by("pk").first()
        self.source = Source.objects.order_by("pk").first()
        self.added = []
        self.tracer = self._new_incident(f"Load test tracer {token}")
        self.report = TollReport.objects.create(
            incident=self.tracer,
            source=self.source,
            published_on=self.tracer.start_date,
            killed=FIRST_FIGURE,
            url="",
        )

    def _new_incident(self, title):
        with transaction.atomic():
            incident = Incident.objects.create(
                title=title, kind="shelling", start_date=datetime.date.today(), location=self.place
            )
            publish_incident(incident=incident, user=None, via="load test")
        self.added.append(incident)
        return incident

    def revise(self, number):
        """Revision ``number`` (from 1): the tracer's figure becomes FIRST_FIGURE + ``number``."""
        figure = FIRST_FIGURE + number
        TollReport.objects.filter(pk=self.report.pk).update(killed=figure)
        return figure

    def publish_another(self, number):
        self._new_incident(f"Load test incident {self.token} {number}")

    def remove(self):
        for incident in self.added:
            unpublish_incident(incident=incident, user=None, via="load test")
            with transaction.atomic():
                TollReport.objects.filter(incident=incident).delete()
                incident.delete()


def main(seconds, token):
    edits = Edits(token)
    print(f"tracer {token} {edits.tracer.slug} committed {FIRST_FIGURE}", flush=True)
    started = time.monotonic()
    second = 0
    while time.monotonic() - started < seconds:
        second += 1
        print(f"committed {edits.revise(second)}", flush=True)
        if second % PUBLISH_EVERY == 0:
            edits.publish_another(second)
        time.sleep(max(0.0, started + second - time.monotonic()))
    # From here on the tracer goes away: the checkers stop reading it first.
    print("cleaning up", flush=True)
    edits.remove()
    print("done", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else uuid.uuid4().hex[:8])
