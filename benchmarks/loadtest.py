"""`make loadtest`: 50 concurrent users for 60 seconds against gunicorn on 127.0.0.1 (wrk).

Uses the benchmark database of `make bench` (built here if missing), serves it as `make serve`
does (debug off, 2 × cores + 1 workers), mixes the public pages, and fails on any error.
Needs wrk (Debian: apt-get install wrk). Only ever targets 127.0.0.1.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from run import PORT, ROOT, bench_database_url, environment, prepare, start_server  # noqa: E402


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    wrk = shutil.which("wrk")
    if not wrk:
        raise SystemExit("wrk is not installed: sudo apt-get install wrk")

    env = environment(bench_database_url())
    info = prepare(env, args.incidents)
    paths = [
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
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths))
    server = start_server(env, workers=(os.cpu_count() or 1) * 2 + 1)
    try:
        result = subprocess.run(
            [
                wrk,
                f"--threads={min(args.users, 4)}",
                f"--connections={args.users}",
                f"--duration={args.seconds}s",
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
        server.terminate()
        server.wait()
        os.unlink(listing.name)
    summary = json.loads(next(line[5:] for line in result.stdout.splitlines() if line.startswith("JSON ")))
    errors = summary["socket_errors"] + summary["status_errors"]
    print(
        f"{args.users} users for {args.seconds} s: {summary['requests']:,} requests, "
        f"{summary['rps']} requests/s; "
        f"latency p50 {summary['p50_ms']} ms, p90 {summary['p90_ms']} ms, p99 {summary['p99_ms']} ms, "
        f"max {summary['max_ms']} ms; errors: {errors}"
    )
    if errors:
        raise SystemExit(f"{errors} errors under load (target: 0)")


if __name__ == "__main__":
    main()
