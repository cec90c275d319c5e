"""Reads under writes (issue 16): a companion of bench/bench.py (see COMPANIONS there).

    python bench/mix_bench.py measure --size 10k   # same environment as bench.py's server

Serves the size's dataset with its own gunicorn (3 sync workers, the bench settings) and
drives it with wrk (bench/wrk_mixed.lua): 8 clients at once, each one connection running
the same cycle of 20 requests, each pass in its own random order (a booking before its
cancel), 90% reads and 10% writes:

- reads, twice each per cycle: the floor (GET api/v1/bench/floor, the same route
  bench.py compares with, here inside the same mix), appointmentOptions?date=,
  appointmentOptions (no date), appointmentOptions?date=&service=, the doctors directory,
  doctors/:id, slot/<email>, the hot patient's bookings?email= and booking/:id;
- writes, once each per cycle: POST bookings by a fresh patient, then POST
  bookings/:id/cancel of that booking. Patients and slots are made before the timing: one
  slot (capacity 50, never full) on each clinic day of the booking window and on the date
  asked, so writes land all over the window and, one in
  fifteen, on the date the dated read asks for.

Each response is timed against its own request in the lua script, per route; a route's
p50 is the median of its samples in one round, its 'x floor' that round's floor p50 over
its p50, and the figures are medians over MIX_ROUNDS rounds (default 3, each
MIX_REQUESTS requests per client, default 400), after a warm-up round.

The availability cache's hit rate during the rounds: the bench server counts every
computed (missed) answer by kind (doctors_portal/bench_urls.py, api/v1/bench/availability-
cache); hits are the route's 2xx answers less those. Everything made here is removed
after the run (and before it, if an earlier run left anything), so datasets stay as
bench/make_dataset.py built them.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench  # noqa: E402

WORKERS = 3
CLIENTS = 8
ROUNDS = int(os.environ.get("MIX_ROUNDS", "3"))
REQUESTS = int(os.environ.get("MIX_REQUESTS", "400"))  # per client per round
WARM_UP = 100  # per client
TARGET_OPTIONS_RATIO = 0.60
PREFIX = "mix-"

# route -> label; the cycle runs each read twice and one booking and its cancel.
READS = {
    "floor": "floor: bare Django view, one indexed read",
    "options": "appointmentOptions?date=",
    "upcoming": "appointmentOptions (no date: the next 14 days)",
    "options_service": "appointmentOptions?date=&service=",
    "doctors": "doctors (directory, first page)",
    "doctor_id": "doctors/:id",
    "slot_email": "slot/<email>",
    "bookings_email": "bookings?email= (the patient's)",
    "booking_id": "booking/:id",
}
WRITES = {"book": "POST bookings (fresh patient)", "cancel": "POST bookings/:id/cancel"}
CYCLE = [*READS, "book", *READS, "cancel"]
# Which counted kind of answer (bench_urls) each cached route asks for.
CACHED = {"options": "dated", "upcoming": "upcoming", "options_service": "dated_service"}
COUNTER = "/api/v1/bench/availability-cache"


def log(message: str) -> None:
    print(f"[mix_bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def mix_cleanup() -> int:
    """Remove what a mix run made (its doctor, slots, bookings and their outbox rows,
    patients, tokens)."""
    from scheduling.availability_cache import availability_changed

    removed = bench.users_remove(email_prefix=PREFIX, email_domain="bench.example.com")
    if removed:
        availability_changed()  # their slots were listed
    return removed


def make_writers(*, d: dict, bookings: int) -> tuple[list[tuple[str, int]], list[str]]:
    """A doctor with one slot on each day of the booking window and on the date asked
    (capacity 50: the 8 clients, and the holds a run interrupted between a booking and its
    cancel, never fill it), and `bookings` fresh patients: [(authorization, slot id)],
    days."""
    from datetime import date, timedelta

    from django.conf import settings
    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from scheduling import timefmt
    from scheduling.availability_cache import availability_changed
    from scheduling.models import Service, Slot

    tag = secrets.token_hex(4)
    service = Service.objects.get(pk=d["specialty_id"])
    doctor = User.objects.create_user(
        f"{PREFIX}doctor-{tag}@bench.example.com", name="Mix Doctor", role=Role.DOCTOR
    )
    DoctorProfile.objects.create(
        user=doctor, specialty=service, is_verified=True, verified_at=timezone.now()
    )
    today = timefmt.clinic_today(timezone.now())
    days = {today + timedelta(days=n) for n in range(1, settings.BOOKING_HORIZON_DAYS)}
    days.add(date.fromisoformat(d["date"]))
    days = sorted(days)
    slots = []
    for day in days:
        # 03:10 clinic time: before any dataset slot of the day, so it overlaps nothing.
        start = timefmt.day_bounds(day)[0] + timedelta(hours=3, minutes=10)
        slots.append(
            Slot(
                doctor=doctor,
                service=service,
                start=start,
                end=start + timedelta(minutes=20),
                capacity=50,
            )
        )
    slots = Slot.objects.bulk_create(slots)
    availability_changed()  # written outside the services: announce it
    patients = User.objects.bulk_create(
        User(email=f"{PREFIX}{tag}-{i}@bench.example.com", name=f"Mix {i}", role=Role.PATIENT)
        for i in range(bookings)
    )
    # Booking k goes on the k-th day of the window: every client writes all over it.
    items = [(bench.token_for(p), slots[i % len(slots)].pk) for i, p in enumerate(patients)]
    return items, [day.isoformat() for day in days]


def wrk_mixed(base: str, lines: Path, *, requests: int) -> dict:
    cmd = ["wrk", f"-t{CLIENTS}", f"-c{CLIENTS}", "-d600s", "--timeout", "30s"]
    cmd += ["-s", str(BENCH / "wrk_mixed.lua"), base, "--", str(lines), str(requests)]
    began = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, done, seconds = [], 0, 0.0
    for line in proc.stdout:
        out.append(line)
        if line.startswith("WRKDONE"):
            done += 1
            if done == CLIENTS:
                seconds = time.monotonic() - began
                proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    routes: dict[str, dict] = {}
    for line in out:
        if line.startswith("WRKROUTES "):
            for part in filter(None, line[len("WRKROUTES ") :].strip().split(";")):
                name, errors, values = part.split(":", 2)
                route = routes.setdefault(name, {"samples": [], "errors": 0})
                route["errors"] += int(errors)
                route["samples"] += [int(v) for v in values.split(",") if v]
        elif line.startswith("WRKERR "):
            log(line.strip())
    if not routes or not seconds:
        raise RuntimeError(f"wrk printed no samples:\n{''.join(out)}\n{proc.stderr.read()}")
    timed = sum(len(r["samples"]) for r in routes.values())
    return {"rps": round(timed / seconds, 1), "routes": routes}


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def counter(base: str, method: str = "GET") -> dict[str, int]:
    status, body = bench.fetch(base, COUNTER, "", method=method)
    if status != 200:
        raise RuntimeError(f"{COUNTER} answered {status}: {body[:200]!r}")
    return json.loads(body)["data"]["misses"]


def seats_consistent(items: list[tuple[str, int]]) -> list[int]:
    """Slots of the mix whose seats_taken is not their seat-holding bookings."""
    from django.db.models import Count, Q

    from bookings.models import SEAT_HOLDING_STATUSES
    from scheduling.models import Slot

    rows = Slot.objects.filter(pk__in={pk for _a, pk in items}).annotate(
        active=Count("bookings", filter=Q(bookings__status__in=SEAT_HOLDING_STATUSES))
    )
    return [s.pk for s in rows if s.seats_taken != s.active]


def measure(size: str) -> dict:
    bench.setup_django()
    from django.core.cache import caches
    from django.db import connection

    if removed := mix_cleanup():
        log(f"{size}: removed {removed} rows a previous mix left")
    caches["availability"].clear()
    d = bench.discover()
    reqs = bench.requests_for(d)
    reqs["slot_email"] = (f"/api/v1/slot/{quote(d['doctor'].email)}", "")
    # Each wrk run (the warm-up, each round) has its own patients: a client that is done
    # goes on untimed until every client is, and books as long as its share lasts.
    runs = [WARM_UP, *[REQUESTS] * ROUNDS]
    shares = [CLIENTS * (2 * n // len(CYCLE) + 2) for n in runs]
    items, days = make_writers(d=d, bookings=sum(shares))
    reads = [f"R\t{name}\t{reqs[name][0]}\t{reqs[name][1]}\n" for name in READS]
    files, first = [], 0
    for n, share in enumerate(shares):
        mine, first = items[first : first + share], first + share
        text = [*reads, f"C\t{','.join(CYCLE)}\n"]
        text += [f"B\t{i % CLIENTS + 1}\t{auth}\t{slot}\n" for i, (auth, slot) in enumerate(mine)]
        files.append(bench.OUT / f"mix-bench-{size}-{n}.txt")
        files[-1].write_text("".join(text))
    connection.close()
    server = bench.Server(dict(os.environ), WORKERS)
    results: dict = {
        "size": size,
        "workers": WORKERS,
        "clients": CLIENTS,
        "rounds": ROUNDS,
        "requests_per_client": REQUESTS,
        "date": d["date"],
        "write_days": len(days),
        "routes": {},
    }
    try:
        for name in READS:
            status, body = bench.fetch(server.base, *reqs[name])
            if status != 200:
                raise RuntimeError(f"{reqs[name][0]} answered {status}: {body[:300]!r}")
        counter(server.base, "DELETE")
        wrk_mixed(server.base, files[0], requests=WARM_UP)
        if sum(counter(server.base).values()) == 0:
            raise RuntimeError("the bench server counted no availability miss: is it counting?")
        rounds: list[dict] = []
        misses = {kind: 0 for kind in CACHED.values()}
        for round_no in range(ROUNDS):
            counter(server.base, "DELETE")
            run = wrk_mixed(server.base, files[round_no + 1], requests=REQUESTS)
            for kind, n in counter(server.base).items():
                if kind in misses:
                    misses[kind] += n
            rounds.append(run)
            floor = statistics.median(run["routes"]["floor"]["samples"])
            log(
                f"{size} round {round_no + 1}: {run['rps']} req/s; "
                + ", ".join(
                    f"{name} {floor / statistics.median(r['samples']):.2f}"
                    for name, r in run["routes"].items()
                    if name != "floor"
                )
            )
        for name in [*READS, *WRITES]:
            runs = [r["routes"].get(name) for r in rounds]
            runs = [r for r in runs if r and r["samples"]]
            if not runs:
                continue
            pooled = [v for r in runs for v in r["samples"]]
            ratios = [
                statistics.median(rounds[i]["routes"]["floor"]["samples"])
                / statistics.median(r["samples"])
                for i, r in enumerate(runs)
            ]
            row = {
                "requests": len(pooled),
                "non_2xx": sum(r["errors"] for r in runs),
                "p50_us": statistics.median(statistics.median(r["samples"]) for r in runs),
                "p99_us": percentile(pooled, 0.99),
                "floor_ratio": round(statistics.median(ratios), 3),
                "floor_ratio_per_round": [round(x, 3) for x in ratios],
            }
            if name in CACHED:
                answered = row["requests"] - row["non_2xx"]
                row["misses"] = misses[CACHED[name]]
                row["hit_rate"] = round(1 - row["misses"] / max(answered, 1), 3)
            results["routes"][name] = row
        results["rps"] = statistics.median(r["rps"] for r in rounds)
        results["inconsistent_slots"] = seats_consistent(items)
    finally:
        server.stop()
        mix_cleanup()
    return results


def section(out: Path) -> tuple[list[str], list[str]]:
    """RESULTS.md lines and missed targets, from bench/out/mix_bench-<size>.json."""
    lines: list[str] = []
    misses: list[str] = []
    runs = bench.companion_runs("mix_bench", out)
    if not runs:
        return lines, misses
    first = runs[0]
    lines += [
        "",
        "## Reads under writes (bench/mix_bench.py)",
        "",
        f"{first['clients']} clients at once against gunicorn with {first['workers']} sync "
        "workers, each running the same cycle of 20 requests in its own random order: 90% reads "
        "(the floor and eight public and patient routes, twice each) and 10% writes (a "
        "booking by a fresh patient, then its cancel, on slots all over the booking window "
        "and the date asked). The floor is part of the same mix; 'x floor' is a round's "
        "floor p50 over the route's p50, the median of "
        f"{first['rounds']} rounds of {first['requests_per_client']} requests per client. "
        "Cache hits: the route's 2xx answers less the answers the server computed.",
    ]
    for run in runs:
        lines += [
            "",
            f"### {run['size']} (date asked {run['date']}; {run['rps']:.0f} req/s in all)",
            "",
            "| route | requests | p50 ms | p99 ms | x floor | non-2xx | cache hits |",
            "|---|---|---|---|---|---|---|",
        ]
        labels = {**READS, **WRITES}
        for name, row in run["routes"].items():
            hits = f"{row['hit_rate']:.0%}" if "hit_rate" in row else ""
            lines.append(
                f"| {labels[name]} | {row['requests']} | {row['p50_us'] / 1000:.1f} | "
                f"{row['p99_us'] / 1000:.1f} | {row['floor_ratio']:.2f} | {row['non_2xx']} | "
                f"{hits} |"
            )
            if row["non_2xx"]:
                misses.append(f"{run['size']} mix: {labels[name]} had {row['non_2xx']} non-2xx")
        ratio = run["routes"]["options"]["floor_ratio"]
        if ratio < TARGET_OPTIONS_RATIO:
            misses.append(
                f"{run['size']} mix: appointmentOptions?date= {ratio:.2f} x floor < "
                f"{TARGET_OPTIONS_RATIO}"
            )
        if run["inconsistent_slots"]:
            misses.append(f"{run['size']} mix: inconsistent slots {run['inconsistent_slots']}")
    return lines, misses


def main() -> None:
    bench.companion_main("mix_bench", measure)
    print("\n".join(section(bench.OUT)[0]))


if __name__ == "__main__":
    main()
