"""The booking write against the floor (issue 16): `POST api/v1/bookings` under 3
concurrent clients, in interleaved rounds with `GET api/v1/bench/floor`, both driven by
the same wrk script (bench/wrk_mix.lua) over the same connections.

A companion of bench/bench.py (COMPANIONS): `run` calls `measure --size S` with the
server's environment (DATABASE_URL of that size's dataset), which writes
bench/out/write_bench-<size>.json; `section(OUT)` turns those into RESULTS.md lines.

Outside the timing it makes a few verified doctors, one fresh one-seat slot per write and
one fresh patient (with an access token) per write, so every write is a first hold of a
free seat by a patient with no other hold: the patient's throttle bucket is empty, the
seat is free, nothing queues on a lock that the write itself does not take. Afterwards it
checks that every write was answered 201 and that each slot's ledger holds, and removes
what it made (bookings, their audit entries, slots, patients, doctors), so the dataset
stays as the builder made it.

Stripe: the server's STRIPE_API_BASE is pointed at a listener on loopback that counts
connections; a hold must never reach Stripe, and the count is reported.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import threading
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench  # noqa: E402

OUT = bench.OUT
CLIENTS = 3
ROUNDS = bench.ROUNDS
WRITES_PER_ROUND = int(os.environ.get("BENCH_WRITES_PER_ROUND", "200"))
FLOORS_PER_ROUND = int(os.environ.get("BENCH_FLOORS_PER_ROUND", "600"))
WARM_UP_WRITES = 100
DOCTORS = 10
TARGET_RATIO = 0.25  # write p50 at least a quarter of the floor's speed: floor p50 / write p50
TAG = "write-bench-"


def log(message: str) -> None:
    bench.log(f"write_bench: {message}")


class StripeListener:
    """A TCP listener standing in for Stripe: counts whoever connects, answers nothing."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def make_writes(count: int) -> tuple[list[str], list[int]]:
    """`count` wrk lines, each a first hold of a fresh patient on a fresh one-seat slot."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from scheduling.models import Service, Slot

    service = Service.objects.filter(is_active=True).order_by("id").first()
    doctors = User.objects.bulk_create(
        User(email=f"{TAG}doctor-{i}@example.com", name=f"Write Doctor {i}", role=Role.DOCTOR)
        for i in range(DOCTORS)
    )
    now = timezone.now()
    DoctorProfile.objects.bulk_create(
        DoctorProfile(user=d, specialty=service, is_verified=True, verified_at=now) for d in doctors
    )
    # Within BOOKING_HORIZON_DAYS, one doctor's slots an hour apart.
    start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    slots = Slot.objects.bulk_create(
        Slot(
            doctor=doctors[i % DOCTORS],
            service=service,
            start=start + timedelta(hours=i // DOCTORS),
            end=start + timedelta(hours=i // DOCTORS, minutes=45),
            capacity=1,
        )
        for i in range(count)
    )
    patients = User.objects.bulk_create(
        User(email=f"{TAG}patient-{i}@example.com", name=f"Write Patient {i}", role=Role.PATIENT)
        for i in range(count)
    )
    lines = [
        f"/api/v1/bookings\t{bench.token_for(p)}\tPOST\t{json.dumps({'slotId': s.pk})}\n"
        for p, s in zip(patients, slots, strict=True)
    ]
    return lines, [s.pk for s in slots]


def cleanup() -> int:
    """Remove what a run made (also what an interrupted run left)."""
    return bench.users_remove(email_prefix=TAG, email_domain="example.com")


def ledger_check(slot_ids: list[int]) -> dict:
    from django.db.models import Count, Q

    from bookings.models import SEAT_HOLDING_STATUSES, Booking
    from scheduling.models import Slot

    rows = Slot.objects.filter(pk__in=slot_ids).annotate(
        active=Count("bookings", filter=Q(bookings__status__in=SEAT_HOLDING_STATUSES))
    )
    inconsistent = [s.pk for s in rows if s.active > s.capacity or s.seats_taken != s.active]
    return {
        "bookings": Booking.objects.filter(slot_id__in=slot_ids).count(),
        "inconsistent_slots": inconsistent,
    }


def measure(size: str) -> dict:
    bench.setup_django()
    from django.db import connection

    if removed := cleanup():
        log(f"{size}: removed {removed} users a previous run left")
    d = bench.discover()
    floor_path = bench.requests_for(d)["floor"][0]
    per_round = WRITES_PER_ROUND + CLIENTS  # the spare lines: see bench/wrk_mix.lua
    count = WARM_UP_WRITES + CLIENTS + ROUNDS * per_round
    lines, slot_ids = make_writes(count)
    files = []
    for i, chunk in enumerate(
        [lines[: WARM_UP_WRITES + CLIENTS]]
        + [lines[WARM_UP_WRITES + CLIENTS + r * per_round :][:per_round] for r in range(ROUNDS)]
    ):
        path = OUT / f"write-{size}-{i}.txt"
        path.write_text("".join(chunk))
        files.append(path)
    floor_file = OUT / f"write-floor-{size}.txt"
    floor_file.write_text(f"{floor_path}\t\n")
    connection.close()
    stripe = StripeListener()
    workers = (os.cpu_count() or 1) + 1
    server = bench.Server({**os.environ, "STRIPE_API_BASE": stripe.base}, workers)
    rounds = []
    try:
        bench.wrk_mix(server.base, floor_file, requests=1000, connections=CLIENTS)
        warm = bench.wrk_mix(server.base, files[0], requests=WARM_UP_WRITES, connections=CLIENTS)
        for r in range(ROUNDS):
            floor = bench.wrk_mix(
                server.base, floor_file, requests=FLOORS_PER_ROUND, connections=CLIENTS
            )
            write = bench.wrk_mix(
                server.base, files[r + 1], requests=WRITES_PER_ROUND, connections=CLIENTS
            )
            rounds.append(
                {
                    "floor": floor,
                    "write": write,
                    "ratio_p50": round(floor["p50_us"] / max(write["p50_us"], 1), 3),
                    "ratio_rps": round(write["rps"] / floor["rps"], 3),
                }
            )
            log(
                f"{size} round {r + 1}: floor p50 {floor['p50_us'] / 1000:.2f} ms, write p50 "
                f"{write['p50_us'] / 1000:.2f} ms p99 {write['p99_us'] / 1000:.2f} ms, "
                f"{write['rps']} writes/s, x floor {rounds[-1]['ratio_p50']}, "
                f"errors {write['status_errors']}"
            )
    finally:
        server.stop()
        stripe.close()
    check = ledger_check(slot_ids)
    sent = warm["requests"] + sum(r["write"]["requests"] for r in rounds)
    errors = warm["status_errors"] + sum(r["write"]["status_errors"] for r in rounds)
    result = {
        "size": size,
        "clients": CLIENTS,
        "workers": workers,
        "rounds": rounds,
        "writes_timed": sum(r["write"]["requests"] for r in rounds),
        "writes_answered": sent,
        "write_errors": errors,
        "bookings_made": check["bookings"],
        "inconsistent_slots": check["inconsistent_slots"],
        "stripe_connections": stripe.connections,
        "median": {
            "floor_p50_us": statistics.median(r["floor"]["p50_us"] for r in rounds),
            "write_p50_us": statistics.median(r["write"]["p50_us"] for r in rounds),
            "write_p99_us": statistics.median(r["write"]["p99_us"] for r in rounds),
            "write_rps": statistics.median(r["write"]["rps"] for r in rounds),
            "ratio_p50": statistics.median(r["ratio_p50"] for r in rounds),
            "ratio_rps": statistics.median(r["ratio_rps"] for r in rounds),
        },
    }
    removed = cleanup()
    log(f"{size}: {result['median']}; {check}; stripe {stripe.connections}; removed {removed}")
    return result


def section(out: Path) -> tuple[list[str], list[str]]:
    runs = bench.companion_runs("write_bench", out)
    if not runs:
        return [], []
    lines = [
        "",
        "## The booking write (bench/write_bench.py)",
        "",
        f"`POST api/v1/bookings` from {CLIENTS} concurrent clients (wrk, bench/wrk_mix.lua), "
        "each a first hold of a fresh patient on a fresh one-seat slot, in rounds "
        "interleaved with the floor asked by the same script over the same connections; "
        "'x floor' is floor p50 / write p50 per round, the median of the rounds.",
        "",
        "| size | writes timed | write p50 ms | write p99 ms | writes/s | floor p50 ms | "
        "x floor (p50) | x floor (req/s) | non-2xx | ledger | Stripe calls |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    misses = []
    notes = [""]
    for run in runs:
        m = run["median"]
        ok = (
            run["write_errors"] == 0
            and not run["inconsistent_slots"]
            # wrk's other connections each send one more as the last round ends
            and run["bookings_made"] >= run["writes_answered"]
        )
        lines.append(
            f"| {run['size']} | {run['writes_timed']} | {bench.ms(m['write_p50_us'])} | "
            f"{bench.ms(m['write_p99_us'])} | {m['write_rps']:.0f} | "
            f"{m['floor_p50_us'] / 1000:.2f} | {m['ratio_p50']:.2f} | {m['ratio_rps']:.2f} | "
            f"{run['write_errors']} | {'OK' if ok else 'FAILED'} | {run['stripe_connections']} |"
        )
        per_round = ", ".join(f"{r['ratio_p50']:.2f}" for r in run["rounds"])
        notes.append(f"- {run['size']}: x floor (p50) per round: {per_round}")
        if m["ratio_p50"] < TARGET_RATIO:
            misses.append(f"{run['size']} POST bookings: {m['ratio_p50']:.2f} x floor < 0.25")
        if not ok:
            misses.append(f"{run['size']} POST bookings: errors or an inconsistent ledger")
        if run["stripe_connections"]:
            misses.append(f"{run['size']} POST bookings: a hold called Stripe")
    return lines + notes, misses


def main() -> None:
    bench.companion_main("write_bench", measure)


if __name__ == "__main__":
    main()
