"""The import benchmark behind `make bench-import`: UCDP GED rows imported at bulk speed.

1. Writes synthetic GED files in the real layout of tests/data/ucdp_ged.csv (its valid rows
   repeated with new ids, days moving on through the years, places and coordinates varied so
   that districts and localities are found or created as in a real file): 300,000 rows and
   3,000 rows.
2. For each database (SQLite, a file in a temporary directory; PostgreSQL when
   BENCH_DATABASE_URL or DATABASE_URL points to one, as a fresh database beside it, dropped
   when done), in a fresh process after migrate: times `import_ucdp` of the 300,000 rows (target: under
   5 minutes, peak memory of the process under 300 MB).
3. In another fresh process, after Django has started: times loading the 3,000 raw rows into a
   bare SQLite table with executemany (five times, each into a new file: the middle time
   counts), then `import_ucdp` of the same file, and prints the ratio (target: at most 50).
   Three such processes, each on a fresh database: the middle ratio is printed.

Usage: .venv/bin/python benchmarks/imports.py [--rows 300000] [--small 3000] [--skip-postgres]
"""

import argparse
import csv
import datetime
import json
import os
import random
import resource
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "ucdp_ged.csv"
TARGET_ROWS, TARGET_SECONDS, TARGET_MB, TARGET_RATIO = 300_000, 300, 300, 50
# Bare loads timed for the ratio (the middle one counts), and imports of the small file, each into
# a fresh database (the middle ratio counts).
RAW_LOADS, SMALL_IMPORTS = 5, 3
FIRST_DAY = datetime.date(1989, 1, 1)


def synthetic_ged(path, rows, seed=18):
    """``rows`` GED rows in the sample's layout, the sample's valid rows repeated and varied."""
    rng = random.Random(seed)
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        sample = list(csv.reader(handle))
    header = sample[0]
    templates = [row for row in sample[1:] if row[header.index("best")].isdigit()]
    column = {name: index for index, name in enumerate(header)}
    days = (datetime.date(2023, 12, 31) - FIRST_DAY).days
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            row = list(templates[n % len(templates)])
            day = FIRST_DAY + datetime.timedelta(days=n * days // rows)  # the file is in date order
            row[column["id"]] = str(1_000_000 + n)
            row[column["date_start"]] = row[column["date_end"]] = day.isoformat()
            row[column["year"]] = str(day.year)
            if row[column["where_coordinates"]]:
                # About 2,000 localities in 200 districts; coordinates within a few hundred metres.
                locality = rng.randrange(2000)
                row[column["where_coordinates"]] = f"Village {locality}"
                row[column["adm_2"]] = f"District {locality // 10}"
                row[column["latitude"]] = f"{33 + locality % 40 * 0.1 + rng.uniform(0, 0.003):.4f}"
                row[column["longitude"]] = f"{36 + locality // 40 * 0.05 + rng.uniform(0, 0.003):.4f}"
            low = rng.randrange(0, 50)
            high = low + rng.randrange(0, 20)
            row[column["low"]], row[column["high"]] = str(low), str(high)
            row[column["best"]] = str(rng.randint(low, high))
            row[column["deaths_civilians"]] = str(rng.randint(0, low))
            writer.writerow(row)


def environment(database_url):
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(40),
        DJANGO_LOG_LEVEL="WARNING",
    )
    return env


def child(mode, path, raw_table_dir=None):
    """Runs in a fresh process: Django started, then the timed work; prints one JSON line."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casualty_tracker.settings")
    django.setup()
    from django.core.management import call_command, load_command_class

    # The command's code is loaded before the clock starts, as Django loads its apps at start:
    # what is timed is the work on the file.
    command = load_command_class("incidents", "import_ucdp")
    result = {}
    if mode == "ratio":
        # Each load into its own new file; the middle time of RAW_LOADS: one load takes 40 to
        # 70 ms on the same machine from one minute to the next, which would swing the ratio more
        # than anything the import does.
        loads = []
        for n in range(RAW_LOADS):
            started = time.perf_counter()
            with open(path, newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                rows = list(reader)
            bare = sqlite3.connect(Path(raw_table_dir) / f"raw{n}.sqlite3")
            columns = ", ".join(f'"{name}" TEXT' for name in header)
            bare.execute(f"CREATE TABLE ged ({columns})")
            placeholders = ", ".join("?" for _ in header)
            bare.executemany(f"INSERT INTO ged VALUES ({placeholders})", rows)  # noqa: S608 (the file's header)
            bare.commit()
            bare.close()
            loads.append(time.perf_counter() - started)
        result["raw_seconds"] = statistics.median(loads)
    started, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as quiet:
        call_command(command, path, "--no-progress", "--allow-skips", stdout=quiet)
    result["import_seconds"] = time.perf_counter() - started
    # On a shared machine the wall clock counts other processes' turns too: CPU time says how
    # much of it was this import's own work.
    result["import_cpu_seconds"] = time.process_time() - cpu
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from incidents.models import Incident, TollReport

    result["incidents"], result["reports"] = Incident.objects.count(), TollReport.objects.count()
    print(json.dumps(result))


def run_child(env, mode, path, raw_table_dir=""):
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v0"], env=env, check=True
    )
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), raw_table_dir],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def postgres_urls():
    """(admin URL, fresh database URL) beside the configured PostgreSQL database, or None."""
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith("postgres"):
        return None
    base, _, name = url.rpartition("/")
    return url, f"{base}/{name.split('?')[0]}_import_bench"


def fresh_postgres(admin_url, url, *, create=True):
    """Drop the database of ``url`` if it is there, then (``create``) create it empty."""
    import psycopg2

    name = url.rsplit("/", 1)[1]
    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--small", type=int, default=3_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "FILE", "DIR"))
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big, small = tmp / "ged_big.csv", tmp / "ged_small.csv"
        synthetic_ged(big, args.rows)
        synthetic_ged(small, args.small)
        databases = [("SQLite", lambda name: f"sqlite:///{tmp / name}.sqlite3")]
        urls = None if args.skip_postgres else postgres_urls()
        if urls:
            databases.append(("PostgreSQL", lambda name, urls=urls: urls[1] + "_" + name))
        table = []
        for label, url_for in databases:
            full_url = url_for("full")
            if label == "PostgreSQL":
                fresh_postgres(urls[0], full_url)
            full = run_child(environment(full_url), "full", big, str(tmp))
            ratios = []
            for n in range(SMALL_IMPORTS):
                url = url_for(f"ratio{n}")
                if label == "PostgreSQL":
                    fresh_postgres(urls[0], url)
                ratio = run_child(environment(url), "ratio", small, str(tmp))
                ratios.append((ratio["import_seconds"] / ratio["raw_seconds"], ratio))
                for raw in tmp.glob("raw*.sqlite3"):
                    raw.unlink()
                if label == "PostgreSQL":
                    fresh_postgres(urls[0], url, create=False)  # nothing left behind
            if label == "PostgreSQL":
                fresh_postgres(urls[0], full_url, create=False)
            _, ratio = sorted(ratios, key=lambda pair: pair[0])[len(ratios) // 2]
            small_s, raw_s = ratio["import_seconds"], ratio["raw_seconds"]
            table.append(
                (label, full["import_seconds"], full["import_cpu_seconds"], full["peak_mb"],
                 full["incidents"], full["reports"], small_s, raw_s, small_s / raw_s)
            )  # fmt: skip
    print(
        f"\nUCDP GED import: {args.rows:,} synthetic rows (targets: < {TARGET_SECONDS} s, < {TARGET_MB} MB),"
    )
    print(
        f"and {args.small:,} rows against a bare SQLite executemany of the same rows (target: ratio <= 50)\n"
    )
    columns = ["database", "rows", "time", "CPU time", "rows/s", "peak memory", "incidents", "reports"]
    print("| " + " | ".join([*columns, f"{args.small:,} rows", "raw load", "ratio"]) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    failed = False
    for label, seconds, cpu, mb, incidents, reports, small_s, raw_s, ratio in table:
        print(
            f"| {label} | {args.rows:,} | {seconds:.0f} s | {cpu:.0f} s | {args.rows / seconds:,.0f} | "
            f"{mb:.0f} MB | {incidents:,} | {reports:,} | {small_s:.2f} s | {raw_s * 1000:.0f} ms | "
            f"{ratio:.0f}× |"
        )
        scaled = seconds * TARGET_ROWS / args.rows  # a smaller run is held to the target pro rata
        failed |= scaled > TARGET_SECONDS or mb > TARGET_MB or ratio > TARGET_RATIO
    print("\nAll targets met." if not failed else "\nA target was missed (see above).")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
