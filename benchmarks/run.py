"""The benchmark behind `make bench`: real HTTP requests to gunicorn over a large database.

1. Builds (once) a database of synthetic data: SQLite file benchmarks/bench.sqlite3, or
   BENCH_DATABASE_URL / DATABASE_URL for PostgreSQL.
2. Starts gunicorn with debug off on 127.0.0.1, as `make serve` does.
3. Times each page (median and 95th percentile over sequential requests) and the full
   reports.csv export (rows per second: the median of three downloads; growth of the server's
   memory: the largest of the three, which is the first).
4. Prints a table and writes benchmarks/results.json.

Usage: .venv/bin/python benchmarks/run.py [--incidents 100000] [--requests 40]
"""

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# Another port with BENCH_PORT, for two benchmarks on one machine.
PORT = int(os.environ.get("BENCH_PORT", "8765"))
# The API answers in JSON what a page shows in HTML, for up to 100 incidents (1,000 features).
TARGETS_MS = {"median": 50, "slow_median": 150, "api": 100}
EXPORT_RUNS = 3  # one download varies by a tenth from run to run on a shared machine


def bench_database_url():
    """BENCH_DATABASE_URL or DATABASE_URL, else a SQLite file beside this script."""
    default = f"sqlite:///{ROOT / 'benchmarks' / 'bench.sqlite3'}"
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or default


def environment(database_url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(40),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_LOG_LEVEL="WARNING",
        # The pages' own time: nothing is served from the cache (the load test measures that).
        DJANGO_CACHE_URL="dummy://",
        # The benchmark is one client asking many times: not throttled.
        DJANGO_API_THROTTLE_RATE="1000000/second",
    )
    return env


def manage(env, *args, capture=False):
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    if capture:
        return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    subprocess.run(command, env=env, check=True)
    return None


DJANGO_SNIPPET = """
import json
from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from incidents.models import Incident, Location, Source
user, _ = get_user_model().objects.get_or_create(username="bench-editor", defaults={"is_staff": True})
user.groups.add(Group.objects.get(name="Editor"))
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
five = Incident.objects.published().filter(source_count=5).order_by("pk").first()
governorate = Location.objects.filter(kind="admin1").order_by("pk").first()
source = Source.objects.order_by("pk").first()
print(json.dumps({
    "session": session.session_key,
    "incident": five.slug,
    "governorate": governorate.slug,
    "source": source.slug,
}))
"""


def prepare(env, incidents):
    manage(env, "migrate", "--noinput", "-v0")
    existing = manage(
        env,
        "shell",
        "-c",
        "from incidents.models import Incident; print(Incident.objects.count())",
        capture=True,
    )
    count = int(existing.strip().splitlines()[-1])
    if count < incidents:
        if count:
            raise SystemExit(
                f"The benchmark database holds {count} incidents, not {incidents}: delete it first."
            )
        manage(env, "generate_data", "--incidents", str(incidents), "--seed", "1")
    manage(env, "collectstatic", "--noinput", "-v0")
    return json.loads(manage(env, "shell", "-c", DJANGO_SNIPPET, capture=True).strip().splitlines()[-1])


def start_server(env, workers, threads=1):
    """gunicorn on 127.0.0.1: ``threads`` above 1 gives each worker that many threads (gthread)."""
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "casualty_tracker.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "300",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            get("/healthz/")
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def get(path, session=None, stream=False):
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=300)
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    if stream:
        return connection, response
    body = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return body


def measure_page(path, requests, session=None):
    for _ in range(3):  # warm up caches and connections
        get(path, session)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        get(path, session)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(timings[max(int(len(timings) * 0.95) - 1, 0)], 1),
    }


def worker_pids(server):
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure_export(server, session):
    pids = worker_pids(server)
    before = {pid: rss_kb(pid) for pid in pids}
    peak = dict(before)
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid in pids:
                peak[pid] = max(peak[pid], rss_kb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    connection, response = get("/export/reports.csv", session, stream=True)
    lines = 0
    while chunk := response.read(1 << 16):
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    connection.close()
    done.set()
    sampler.join()
    growth_mb = max(peak[pid] - before[pid] for pid in pids) / 1024
    rows = lines - 1
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "memory_growth_mb": round(growth_mb, 1),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    database_url = bench_database_url()
    env = environment(database_url)
    info = prepare(env, args.incidents)
    server = start_server(env, args.workers)
    try:
        governorate = info["governorate"]
        pages = [
            ("home page", "/", "median"),
            ("/incidents/ page 1", "/incidents/", "median"),
            (
                "/incidents/ governorate + dates + kind",
                f"/incidents/?location={governorate}&date_after=2015-01-01&date_before=2018-12-31&kind=shelling",
                "median",
            ),
            ("text search", "/incidents/?q=hospital", "slow_median"),
            # Arabic folded search (incidents/search.py), on the Arabic page.
            ("Arabic text search", f"/ar/incidents/?q={quote('ادلب')}", "slow_median"),
            ("incident page, 5 reports", f"/incidents/{info['incident']}/", "median"),
            ("governorate page with totals", f"/locations/{governorate}/", "slow_median"),
            ("source page", f"/sources/{info['source']}/", "slow_median"),
            ("API /api/incidents/ (100 incidents)", "/api/incidents/", "api"),
            (
                "API /api/incidents/ governorate + kind",
                f"/api/incidents/?location={governorate}&kind=shelling",
                "api",
            ),
            ("API /api/incidents.geojson (1,000)", "/api/incidents.geojson", "api"),
        ]
        results = {"database": database_url.split("://")[0], "incidents": args.incidents, "pages": {}}
        for label, path, target in pages:
            result = measure_page(path, args.requests)
            result["target_median_ms"] = TARGETS_MS[target]
            results["pages"][label] = result
        runs = [measure_export(server, info["session"]) for _ in range(EXPORT_RUNS)]
        results["export"] = {
            **sorted(runs, key=lambda run: run["rows_per_s"])[len(runs) // 2],
            "memory_growth_mb": max(run["memory_growth_mb"] for run in runs),
            "rows_per_s_each_run": [run["rows_per_s"] for run in runs],
        }
    finally:
        server.terminate()
        server.wait()

    print(f"\nDatabase: {results['database']}, {args.incidents:,} incidents\n")
    print(f"{'page':42} {'median ms':>10} {'p95 ms':>8} {'target':>8}")
    for label, result in results["pages"].items():
        ok = "ok" if result["median_ms"] <= result["target_median_ms"] else "SLOW"
        print(
            f"{label:42} {result['median_ms']:>10} {result['p95_ms']:>8} {result['target_median_ms']:>6} {ok}"
        )
    export = results["export"]
    print(
        f"\nreports.csv: {export['rows']:,} rows in {export['seconds']} s = {export['rows_per_s']:,} rows/s "
        f"(median of {export['rows_per_s_each_run']}; target 100,000); "
        f"server memory grew {export['memory_growth_mb']} MB at most (target < 50)"
    )
    out = ROOT / "benchmarks" / "results.json"
    everything = json.loads(out.read_text()) if out.exists() else {}
    everything[results["database"]] = results
    out.write_text(json.dumps(everything, indent=2))
    print(f"Written to {out}")


if __name__ == "__main__":
    main()
