"""The availability cache's memory in one process (bench/NOTES.md, issue 16's fourth
session): the window and a date read in a loop on a benchmark dataset, one day's version
replaced every fifth read and MAX_AGE shortened so entries renew all the time; RSS after
a warm-up and every N/2 reads of 4 N after it. No tracemalloc: its own bookkeeping shows
up in RSS.

    BENCH_DB_PREFIX=dp_bench BENCH_REDIS_URL=redis://127.0.0.1:6379/<n> \\
      .venv/bin/python bench/availability_rss.py 1000 [LOCAL_DAYS]
"""

import gc
import os
import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import bench

db = f"{os.environ.get('BENCH_DB_PREFIX', 'dp_bench')}_10k"
os.environ.update(bench.server_env(f"{bench.PG_URL}/{db}"))

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from scheduling import availability_cache, timefmt  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    if len(sys.argv) > 2:
        availability_cache.LOCAL_DAYS = int(sys.argv[2])
    availability_cache.MAX_AGE = timedelta(seconds=2)
    rnd = random.Random(1)
    today = timefmt.clinic_today(timezone.now())

    def step(i: int) -> None:
        now = timezone.now()
        if i % 5 == 0:
            day = today + timedelta(days=rnd.randrange(15))
            availability_cache._new_versions([availability_cache._day_key(day)])
        availability_cache.availability_answer(day=None, now=now)
        availability_cache.availability_answer(day=today + timedelta(days=2), now=now)

    for i in range(n):
        step(i)
    gc.collect()
    series = [round(rss_mib(), 1)]
    for i in range(n, 5 * n):
        step(i)
        if i % (n // 2) == 0:
            gc.collect()
            series.append(round(rss_mib(), 1))
    print(f"LOCAL_DAYS={availability_cache.LOCAL_DAYS} RSS MiB after the warm-up, then: {series}")


if __name__ == "__main__":
    main()
