"""`make loadtest`: a crisis day on this machine, measured honestly.

Serves the benchmark database (built by `make bench` if missing) as in production: gunicorn
with debug off, 2 × cores + 1 workers, the page cache in Redis (DJANGO_CACHE_URL, default
redis://127.0.0.1:6379/14, emptied first). Then, with wrk and 200 connections:

1. /healthz/ alone, for the reference rate of these servers in this run;
2. while benchmarks/writer.py revises a figure every second and publishes an incident every
   five, and checker threads read the revised (tracer) incident's figure over and over, about a
   hundred times a second in all (a figure smaller than the last one committed before the
   request was sent is a stale response):
   a. the page everyone reads on a crisis day: the revised incident's own page;
   b. a mix of public pages, the API and the map's GeoJSON, most of which show the revised
      figure (lists, totals, the incident's place and source), so each is rendered again after
      every revision.

Readers ask as browsers do, taking gzip (benchmarks/paths.lua); the checker asks without. Fails
on any error or stale response; prints each public rate against /healthz/'s (target: at least
0.8 times). Needs wrk (apt-get install wrk) and Redis. Only targets 127.0.0.1.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from run import PORT, ROOT, bench_database_url, environment, prepare, start_server  # noqa: E402

RATE_TARGET = 0.8
# Each checker thread reads the tracer's figure at most this often.
READ_EVERY_SECONDS = 0.04
TOLL_CELL = re.compile(r'data-label="Reported killed" class="num">\D*([\d,]+)')
# The incident page's range sentence for the tracer's one exact figure (figures.range_sentence).
RANGE_SENTENCE = re.compile(r"([\d,]+) people were reported killed")


def mix(info):
    """The public pages, API answers and map the load test reads (``info``: ``run.prepare``'s)."""
    return [
        "/",
        "/incidents/",
        "/incidents/?page=7&sort=toll",
        f"/incidents/?location={info['governorate']}&kind=shelling",
        "/incidents/?disputed=true&sort=disputed",
        f"/incidents/{info['incident']}/",
        f"/locations/{info['governorate']}/",
        f"/sources/{info['source']}/",
        "/methodology/",
        "/incidents/feed/",
        "/ar/",
        "/map/",
        "/api/incidents/",
        f"/api/incidents/?location={info['governorate']}&kind=shelling",
        "/api/incidents.geojson",
    ]


def tracer_readings(token, slug):
    """The tracer incident seen three ways (the stale checker reads them in turn): in the list
    (its title ends with "tracer <token>", benchmarks/writer.py; the search reads the words as
    one phrase, which no other incident's title holds), on its own page and in the API."""
    return [f"/incidents/?q=tracer+{token}", f"/incidents/{slug}/", f"/api/incidents/{slug}/"]


def wrk(paths, users, seconds):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths))
    try:
        result = subprocess.run(
            [
                shutil.which("wrk"),
                f"--threads={min(users, 2)}",
                f"--connections={users}",
                f"--duration={seconds}s",
                "--timeout=30s",
                "--latency",
                f"--script={ROOT / 'benchmarks' / 'paths.lua'}",
                f"http://127.0.0.1:{PORT}",
            ],  # fmt: skip
            env={**os.environ, "LOADTEST_PATHS": listing.name},
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(listing.name)
    return json.loads(next(line[5:] for line in result.stdout.splitlines() if line.startswith("JSON ")))


class StaleChecker:
    """Reads the tracer's figure while the writer revises it; counts figures older than committed."""

    def __init__(self, writer, threads=4):
        self.committed = 0
        self.token = self.slug = None
        self.checks = self.stale = self.errors = 0
        self.examples = []
        self.ready = threading.Event()
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.listener = threading.Thread(target=self._listen, args=(writer,))
        self.listener.start()
        self.ready.wait(timeout=120)
        if not self.token:
            raise SystemExit("the writer did not start")
        self.readers = [threading.Thread(target=self._read) for _ in range(threads)]
        for reader in self.readers:
            reader.start()

    def _listen(self, writer):
        for line in writer.stdout:
            words = line.split()
            if words[:1] == ["tracer"]:
                self.token, self.slug = words[1], words[2]
            if "committed" in words:
                with self.lock:
                    self.committed = int(words[words.index("committed") + 1])
                self.ready.set()
            if words[:2] == ["cleaning", "up"]:  # the tracer is about to be removed
                break
        self.done.set()
        for _ in writer.stdout:  # the rest, so that the writer never blocks on a full pipe
            pass

    def _read(self):
        readings = [
            (f"http://127.0.0.1:{PORT}{path}", figure_in)
            for path, figure_in in zip(
                tracer_readings(self.token, self.slug),
                (self._figure_in_list, self._figure_on_its_page, self._figure_in_api),
                strict=True,
            )
        ]
        turn = 0
        next_read = time.monotonic()
        while not self.done.is_set():
            # Paced: the checker looks for stale figures, it is not load. Unpaced, its four
            # threads asked about 460 times a second, a third of the mix's own rate, all of it
            # on three pages rendered again after every revision; this still makes about three
            # thousand reads a run, a hundred after each revision.
            if self.done.wait(max(0.0, next_read - time.monotonic())):
                break
            next_read = time.monotonic() + READ_EVERY_SECONDS
            url, figure_in = readings[turn % len(readings)]
            turn += 1
            with self.lock:
                floor = self.committed
            try:
                with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (127.0.0.1)
                    text = response.read().decode()
            except OSError:
                if self.done.is_set():
                    break  # the tracer was being removed: not a reading
                with self.lock:
                    self.errors += 1
                continue
            shown = figure_in(text)
            if shown is None and self.done.is_set():
                break  # asked as the writer was removing the tracer: not a reading
            shown = -1 if shown is None else shown
            with self.lock:
                self.checks += 1
                if shown < floor:
                    self.stale += 1
                    if len(self.examples) < 5:
                        self.examples.append(f"{url} showed {shown} after {floor} was committed")

    @staticmethod
    def _figure_in_list(text):
        found = TOLL_CELL.search(text)
        return int(found.group(1).replace(",", "")) if found else None

    @staticmethod
    def _figure_on_its_page(text):
        found = RANGE_SENTENCE.search(text)
        return int(found.group(1).replace(",", "")) if found else None

    @staticmethod
    def _figure_in_api(text):
        return json.loads(text)["killed"]["lowest"]

    def finish(self):
        self.listener.join()
        for reader in self.readers:
            reader.join()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--incidents", type=int, default=100_000)
    # Threads per worker: a reader waiting for another's render of the same page
    # (casualty_tracker/public_cache.py) holds a thread, not a whole worker.
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: sudo apt-get install wrk")

    env = environment(bench_database_url())
    env["DJANGO_CACHE_URL"] = os.environ.get("LOADTEST_CACHE_URL", "redis://127.0.0.1:6379/14")
    import redis  # in the virtual environment: Django's RedisCache needs it

    redis.Redis.from_url(env["DJANGO_CACHE_URL"]).flushdb()
    info = prepare(env, args.incidents)
    paths = mix(info)
    server = start_server(env, workers=(os.cpu_count() or 1) * 2 + 1, threads=args.threads)
    try:
        healthz = wrk(["/healthz/"], args.users, args.seconds)
        writer = subprocess.Popen(
            [sys.executable, str(ROOT / "benchmarks" / "writer.py"), str(2 * args.seconds + 5)],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        checker = StaleChecker(writer)
        one_page = wrk([f"/incidents/{checker.slug}/"], args.users, args.seconds)
        public = wrk(paths, args.users, args.seconds)
        writer.wait()
        checker.finish()
    finally:
        server.terminate()
        server.wait()

    def line(label, summary):
        errors = summary["socket_errors"] + summary["status_errors"]
        return (
            f"{label:14} {summary['rps']:>9.1f} req/s  p50 {summary['p50_ms']:>7.1f} ms  "
            f"p99 {summary['p99_ms']:>7.1f} ms  errors {errors}"
        )

    def ratio(summary):
        return summary["rps"] / healthz["rps"] if healthz["rps"] else 0

    print(f"\n{args.users} connections, {args.seconds} s each, {args.incidents:,} incidents")
    print(line("/healthz/", healthz))
    print(line("revised page", one_page))
    print(line("public mix", public))
    for label, summary in (("the revised incident's page", one_page), ("the public mix", public)):
        print(f"{label} at {ratio(summary):.2f} × the rate of /healthz/ (target ≥ {RATE_TARGET})")
    print(
        f"stale check: {checker.checks} reads of the tracer while it was revised every second, "
        f"{checker.stale} stale, {checker.errors} errors"
    )
    failures = []
    errors = (
        sum(s["socket_errors"] + s["status_errors"] for s in (healthz, one_page, public)) + checker.errors
    )
    if errors:
        failures.append(f"{errors} errors")
    if checker.stale:
        failures.append(f"{checker.stale} stale figures: {checker.examples}")
    if min(ratio(one_page), ratio(public)) < RATE_TARGET:
        print(f"A public rate is below {RATE_TARGET} × /healthz/ (a target, not a failure).")
    if failures:
        raise SystemExit("Load test failed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
