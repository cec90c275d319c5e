"""The booking write in process: its statements and a pyinstrument profile (issue 16).

Posts `write_bench.make_writes` lines (a fresh patient on a fresh one-seat slot each)
through django.test.Client against the database of the environment, prints the
statements of one write and the p50, and writes the profile to bench/out/. Run it with
the server's environment of a dataset (`bench.server_env`), e.g.:

    .venv/bin/python bench/write_profile.py 200

Everything it made is removed afterwards (`write_bench.cleanup`).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import write_bench  # noqa: E402

import bench  # noqa: E402


class _Profiler:
    """pyinstrument's sampling profile when it is installed (a dev extra), else cProfile's
    deterministic one sorted by cumulative time (slower per call: its p50 is higher)."""

    def __init__(self) -> None:
        # WRITE_PROFILE_CPU=1: cProfile on this process's CPU time, where the write's own
        # work goes without its waits for PostgreSQL and Redis.
        cpu = bool(os.environ.get("WRITE_PROFILE_CPU"))
        if not cpu:
            try:
                from pyinstrument import Profiler
            except ImportError:
                pass
            else:
                self.sampling, self.profiler = True, Profiler(interval=0.0002)
                return
        import cProfile

        timer = time.process_time if cpu else time.perf_counter
        self.sampling, self.profiler = False, cProfile.Profile(timer)

    def start(self) -> None:
        (self.profiler.start if self.sampling else self.profiler.enable)()

    def stop(self) -> None:
        (self.profiler.stop if self.sampling else self.profiler.disable)()

    def text(self) -> str:
        if self.sampling:
            return self.profiler.output_text(unicode=False, color=False)
        import io
        import pstats

        stream = io.StringIO()
        pstats.Stats(self.profiler, stream=stream).sort_stats("cumulative").print_stats(80)
        return stream.getvalue()


def main() -> None:
    bench.setup_django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    write_bench.TAG = "write-profile-"
    write_bench.cleanup()
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    warm_up = 20
    # count writes timed, then count more profiled (a profiler's own cost stays out of the p50)
    lines, _slot_ids = write_bench.make_writes(2 * count + warm_up + 1)
    jobs = [line.rstrip("\n").split("\t") for line in lines]
    client = Client()

    def post(job: list[str]) -> None:
        path, auth, _method, body = job
        response = client.post(
            path,
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
            HTTP_HOST="127.0.0.1",  # an allowed host of the server's environment
        )
        assert response.status_code == 201, response.content[:300]

    try:
        for job in jobs[:warm_up]:
            post(job)
        with CaptureQueriesContext(connection) as queries:
            post(jobs[warm_up])
        print(f"statements: {len(queries.captured_queries)}")
        for query in queries.captured_queries:
            print(f"  {query['time']}  {query['sql'][:100]}")
        times = []
        cpu = time.process_time()
        for job in jobs[warm_up + 1 : warm_up + 1 + count]:
            started = time.perf_counter()
            post(job)
            times.append(time.perf_counter() - started)
        cpu = time.process_time() - cpu
        print(f"p50 {statistics.median(times) * 1000:.2f} ms over {len(times)} writes")
        # This process's CPU a write (Django's side, not PostgreSQL's or Redis'): on a
        # shared machine it moves far less with the load than the wall time does.
        print(f"cpu {cpu / len(times) * 1000:.2f} ms a write")
        profiler = _Profiler()
        profiler.start()
        for job in jobs[warm_up + 1 + count :]:
            post(job)
        profiler.stop()
        bench.OUT.mkdir(exist_ok=True)
        out = bench.OUT / "write_profile.txt"
        out.write_text(profiler.text())
        print(f"profile: {out}")
    finally:
        write_bench.cleanup()


if __name__ == "__main__":
    main()
