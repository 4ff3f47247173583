"""Realistic synthetic data for benchmarks: a place tree, sources, actors, incidents and reports.

Bulk inserts (no history rows, no per-row validation); the stored ranges are written by the one
writer of figures (incidents.tolls, called by the reports' bulk insert) and the status by the
workflow. Reproducible: the same --seed gives the same data.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from incidents import workflow
from incidents.figures import ABOUT, AT_LEAST, BETWEEN, EXACT, MORE_THAN, UNKNOWN, UP_TO
from incidents.models import Actor, Attribution, Incident, Location, Source, TollReport

PREFIX = "synthetic-"
BATCH = 5000
KINDS = [k for k, _ in Incident.Kind.choices]
# How sources qualify their figures, roughly as often as in real reporting.
QUALIFIERS = [EXACT] * 6 + [AT_LEAST] * 3 + [MORE_THAN] * 2 + [ABOUT, UP_TO, BETWEEN, BETWEEN, UNKNOWN]
# Two of these make an incident's summary: search reads summaries too, so they must not be empty.
SUMMARY_SENTENCES = [
    "Residents said several houses were destroyed.",
    "The wounded were taken to the nearest hospital.",
    "Local activists and the health directorate gave different tolls.",
    "Rescue teams searched the rubble through the night.",
    "The area had seen fighting for several days.",
    "Tolls were revised as more bodies were recovered.",
    "No group claimed responsibility.",
    "A market and a school nearby were damaged.",
]
SOURCE_KINDS = [k for k, _ in Source.Kind.choices]
ACTOR_KINDS = [k for k, _ in Actor.Kind.choices]


class Command(BaseCommand):
    help = "Generate synthetic incidents for benchmarks (e.g. --incidents 100000 --seed 1)."

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--governorates", type=int, default=14)
        parser.add_argument("--districts", type=int, default=8, help="per governorate")
        parser.add_argument("--subdistricts", type=int, default=4, help="per district")
        parser.add_argument("--localities", type=int, default=7, help="per sub-district")

    def handle(self, *args, incidents, seed, **options):
        if incidents < 1:
            raise CommandError("--incidents must be at least 1.")
        if Incident.objects.filter(slug__startswith=PREFIX).exists():
            raise CommandError("Synthetic data is already in this database: use a fresh database.")
        self.random = random.Random(seed)
        self.to_publish = set()
        started = time.monotonic()
        with transaction.atomic():
            places = self.make_places(**options)
            sources = self.make_sources(40)
            actors = self.make_actors(30)
        self.stdout.write(f"{len(places) + 1:,} places, {len(sources)} sources, {len(actors)} actors")
        # Most incidents are placed in a village; some only at district or governorate level.
        places = [p for p in places if p.kind == "locality"] * 8 + [p for p in places if p.kind != "locality"]
        reports = 0
        for first in range(0, incidents, BATCH):
            with transaction.atomic():
                reports += self.make_incidents(first, min(BATCH, incidents - first), places, sources, actors)
            self.stdout.write(f"{min(first + BATCH, incidents):,} incidents")
        with connection.cursor() as cursor:
            # Fresh planner statistics: without them PostgreSQL picks nested loops over 100,000 rows.
            # VACUUM also marks the new rows visible to all, so that PostgreSQL answers the totals
            # from the index alone (index-only scans) rather than visiting every row. It cannot
            # run inside a transaction (as in tests); autovacuum does it later there.
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        took = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{incidents:,} incidents and {reports:,} reports in {took:.0f} s (seed {seed})."
            )
        )

    # --- places -------------------------------------------------------------------------------

    def make_places(self, governorates, districts, subdistricts, localities, **options):
        country = Location.objects.create(
            name="Synthetica",
            kind="country",
            slug=f"{PREFIX}country",
            admin1_name="governorate",
            admin2_name="district",
            admin3_name="sub-district",
        )
        levels = [
            ("admin1", governorates, "Governorate"),
            ("admin2", districts, "District"),
            ("admin3", subdistricts, "Sub-district"),
            ("locality", localities, "Village"),
        ]
        parents, everything = [country], []
        for kind, per_parent, word in levels:
            children = [
                Location(
                    name=f"{word} {parent.pk}-{n}",
                    kind=kind,
                    parent=parent,
                    slug=f"{PREFIX}{kind}-{parent.pk}-{n}",
                    latitude=round(self.random.uniform(32.5, 37), 6) if kind == "locality" else None,
                    longitude=round(self.random.uniform(35.7, 42), 6) if kind == "locality" else None,
                )
                for parent in parents
                for n in range(1, per_parent + 1)
            ]
            children = Location.objects.bulk_create(children, batch_size=BATCH)
            for child in children:
                # What Location.save() keeps, computed here because bulk_create skips save().
                parent = child.parent
                child.path = f"{parent.path}{child.pk}/"
                child.chain = f"{child.name}, {parent.chain}"
                child.country_id = parent.country_id
                child.admin1_id = child.pk if kind == "admin1" else parent.admin1_id
                child.admin2_id = child.pk if kind == "admin2" else parent.admin2_id
            Location.objects.bulk_update(
                children, ["path", "chain", "country", "admin1", "admin2"], batch_size=BATCH
            )
            everything += children
            parents = children
        return everything

    def make_sources(self, count):
        return Source.objects.bulk_create(
            [
                Source(
                    name=f"Synthetic source {n}",
                    short_name=f"SRC{n}",
                    slug=f"{PREFIX}source-{n}",
                    kind=self.random.choice(SOURCE_KINDS),
                )
                for n in range(1, count + 1)
            ]
        )

    def make_actors(self, count):
        return Actor.objects.bulk_create(
            [
                Actor(
                    name=f"Synthetic actor {n}",
                    slug=f"{PREFIX}actor-{n}",
                    kind=self.random.choice(ACTOR_KINDS),
                )
                for n in range(1, count + 1)
            ]
        )

    # --- incidents and reports ---------------------------------------------------------------

    def make_incidents(self, first, count, places, sources, actors):
        rng = self.random
        start = datetime.date(2012, 1, 1)
        incidents = Incident.objects.bulk_create(
            [
                self.incident(n, start + datetime.timedelta(days=rng.randrange(4700)), places)
                for n in range(first, first + count)
            ],
            batch_size=BATCH,
        )
        # About one incident in fifty is recorded as part of a larger one (a day within a wave):
        # totals must count it within its whole.
        wholes = incidents[: len(incidents) // 2]
        parts = [i for i in incidents[len(incidents) // 2 :] if rng.random() < 0.04]
        for part in parts:
            part.part_of = rng.choice(wholes)
        if parts:
            Incident.objects.bulk_update(parts, ["part_of"], batch_size=BATCH)
        reports, attributions = [], []
        for incident in incidents:
            base = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 35, 60, 150])
            reporting = rng.sample(sources, rng.choice([1, 1, 2, 2, 3, 4, 5]))
            for source in reporting:
                revisions = [
                    self.report(incident, source, base, n) for n in range(2 if rng.random() < 0.15 else 1)
                ]
                reports += revisions
            # Most sources name no one; some allege an actor; a few name different actors.
            for actor in rng.sample(actors, rng.choice([0, 1, 1, 1, 2])):
                attributions.append(
                    Attribution(
                        incident=incident,
                        actor=actor,
                        source=rng.choice(reporting),
                        stance="alleged",
                        published_on=incident.start_date,
                    )
                )
        # Marks the current reports, stores every incident's range and its alleged perpetrators
        # (incidents.tolls, called by each bulk insert).
        TollReport.objects.bulk_create(reports, batch_size=BATCH)
        Attribution.objects.bulk_create(attributions, batch_size=BATCH)
        workflow.publish_incidents(
            incidents=Incident.objects.filter(pk__in=[i.pk for i in incidents if i.slug in self.to_publish]),
            user=None,
            via="generate_data",
            keep_history=False,
        )
        return len(reports)

    def incident(self, n, start_date, places):
        rng = self.random
        if rng.random() < 0.95:  # the rest stay drafts
            self.to_publish.add(f"{PREFIX}{n}")
        return Incident(
            title=f"{rng.choice(['Strike', 'Shelling', 'Clash', 'Explosion', 'Attack'])} "
            f"near {rng.choice(['market', 'school', 'checkpoint', 'hospital', 'village'])} #{n}",
            slug=f"{PREFIX}{n}",
            summary=" ".join(rng.sample(SUMMARY_SENTENCES, 2)),
            kind=rng.choice(KINDS),
            start_date=start_date,
            location=rng.choice(places),
            place=rng.choice(["", "market", "main road", "residential area"]),
        )

    def report(self, incident, source, base, revision):
        rng = self.random
        qualifier = rng.choice(QUALIFIERS)
        killed = None if qualifier == UNKNOWN else max(0, base + rng.randint(-base // 3 - 1, base // 2 + 1))
        upper = killed + rng.randint(1, 10) if qualifier == BETWEEN else None
        published = incident.start_date + datetime.timedelta(
            days=revision * rng.randint(1, 5) + rng.randint(0, 2)
        )
        return TollReport(
            incident=incident,
            source=source,
            published_on=min(published, datetime.date.today()),
            killed=killed,
            killed_qualifier=qualifier,
            killed_upper=upper,
            injured_qualifier=UNKNOWN,
            civilians=killed // 2 if killed and rng.random() < 0.3 else None,
            url=f"https://example.org/{source.slug}/{incident.slug}",
            quote=f"{killed} people were killed" if killed is not None else "people were killed",
        )
