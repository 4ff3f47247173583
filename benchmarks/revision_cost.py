"""`make bench-revision`: what one revision of a figure costs the servers, page by page.

On a crisis day every page that shows the revised incident is rendered again after each
revision (casualty_tracker/public_cache.py), and that is what keeps `make loadtest`'s mix below
`/healthz/`'s rate. The load test's rates vary by a third from run to run on a shared machine;
this measures the renders themselves, in one process, steadily enough to compare two versions
of the code: on the benchmark database (built by `make bench` if missing), a tracer incident's
figure is revised and a new incident published every fifth revision (as benchmarks/writer.py
does), and after each revision every page of the load test's mix and the stale checker's are
asked once, through the whole middleware, as an anonymous reader (the page cache in this
process's memory, so a page that does not show the change is a hit). Prints each page's mean
time and their sum per revision. What it adds to the database it removes.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))
from loadtest import mix, tracer_readings  # noqa: E402
from run import ROOT, bench_database_url, environment, prepare  # noqa: E402

WARM_UP = 5  # revisions not counted: each process's parts (rows, menus, records) fill first


def measure(info, revisions):
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casualty_tracker.settings")
    import django

    django.setup()
    from django.test import Client
    from writer import PUBLISH_EVERY, Edits

    token = uuid.uuid4().hex[:8]
    edits = Edits(token)
    try:
        paths = mix(info) + tracer_readings(token, edits.tracer.slug)
        client = Client(HTTP_HOST="127.0.0.1")  # an allowed host of run.environment
        times = {path: [] for path in paths}
        for revision in range(revisions):
            edits.revise(revision + 1)
            if (revision + 1) % PUBLISH_EVERY == 0:
                edits.publish_another(revision + 1)
            for path in paths:
                started = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
                if revision >= WARM_UP:
                    times[path].append(elapsed * 1000)
    finally:
        edits.remove()
    means = {path: statistics.mean(measured) for path, measured in times.items()}
    width = max(map(len, paths))
    print(f"\nEach page once after each of {revisions - WARM_UP} revisions (mean, ms):")
    for path, mean in means.items():
        print(f"{path:{width}} {mean:7.1f}")
    print(f"{'every page, per revision':{width}} {sum(means.values()):7.1f}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revisions", type=int, default=30)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process, with the info
    args = parser.parse_args()
    if args.measure:
        measure(json.loads(args.measure), args.revisions)
        return
    env = environment(bench_database_url())
    env.pop("DJANGO_CACHE_URL")  # each process's own memory: the cache is what is measured
    info = prepare(env, args.incidents)
    command = [sys.executable, __file__, "--revisions", str(args.revisions + WARM_UP)]
    subprocess.run([*command, "--measure", json.dumps(info)], env=env, check=True)


if __name__ == "__main__":
    main()
