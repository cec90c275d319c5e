"""In process: the p50 and CPU time per request of some routes and the floor, on a bench
dataset (bench/NOTES.md, "Weekly hours, time off, the waitlist and the filtered
directory"). Run it in two trees one after the other, alternating, to compare them:

    DATABASE_URL=... DJANGO_SETTINGS_MODULE=doctors_portal.settings_bench (bench.server_env)
    .venv/bin/python bench/routes_ab.py out.json [key,key,...]

Prints and writes {key: {p50_ms, cpu_ms, statements}}; the keys are bench.py's ENDPOINTS.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

# The tree measured is the current directory's (its bench.py sets up its Django), so this
# one script measures an old copy too: `cd /tmp/old && python <this tree>/bench/routes_ab.py`.
sys.path.insert(0, str(Path.cwd() / "bench"))
import bench

KEYS = "floor,bookings_email,doctors_filtered,schedules,time_off,waitlist"


def main() -> None:
    bench.setup_django()
    from django.db import connection
    from django.test import Client

    reqs = bench.requests_for(bench.discover())
    keys = (sys.argv[2] if len(sys.argv) > 2 else KEYS).split(",")
    requests = int(os.environ.get("N", "300"))
    # A host the server's settings allow (the test client's "testserver" is a 400 there).
    client = Client(HTTP_HOST="127.0.0.1")
    out = {}
    for key in keys:
        path, auth = reqs[key]
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        for _ in range(30):
            client.get(path, **headers)
        statements: list[str] = []

        def count(run, sql, *rest, seen=statements):
            seen.append(sql)
            return run(sql, *rest)

        with connection.execute_wrapper(count):
            client.get(path, **headers)
        times = []
        cpu = time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            client.get(path, **headers)
            times.append(time.perf_counter() - started)
        out[key] = {
            "p50_ms": round(statistics.median(times) * 1000, 3),
            "cpu_ms": round((time.process_time() - cpu) / requests * 1000, 3),
            "statements": len(statements),
        }
        print(key, out[key], flush=True)
    Path(sys.argv[1]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
