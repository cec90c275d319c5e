"""Generating a year of weekly hours for 100 doctors, against the floor (issue 14).

Run by `make bench` (bench/bench.py run, on its own fresh database), or alone:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dp_bench_schedules \
      .venv/bin/python bench/schedule_bench.py            # the database is made afresh

BOOKING_HORIZON_DAYS is 365 here, so one run of the periodic task (`schedules_extend`)
generates a year: 100 doctors x one rule (Mon-Fri 09:00-13:00, 30-minute slots, 8 a day)
= about 100 x 2,088 slots. Measured: wall time and SQL statements of

- the first run (everything generated), and a second run (nothing left to do: idempotent);
- floor: one indexed read (a Service by pk, `.values()`), the HTTP floor view's query;
- bare insert: the same slot rows written by a plain `bulk_create`, one transaction per
  doctor, with no rule, no checks and no date arithmetic: the floor of the write itself.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["BOOKING_HORIZON_DAYS"] = os.environ.get("BENCH_HORIZON_DAYS", "365")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dp_bench_schedules")
DOCTORS = int(os.environ.get("BENCH_DOCTORS", "100"))
# The bare insert is measured on this many doctors' rows (it costs as much as the real
# run, so all 100 would double the benchmark's time) and compared per doctor.
BARE_DOCTORS = int(os.environ.get("BENCH_BARE_DOCTORS", "10"))
OUT = ROOT / "bench" / "out"


def fresh_database(url: str) -> None:
    """Drop and create the database the URL names (PostgreSQL), so every run starts empty."""
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Counter:
    """Counts every statement sent to the database (savepoints and commits too)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


def timed(fn):
    from django.db import connection

    counter = Counter()
    with connection.execute_wrapper(counter):
        began = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - began
    return value, seconds, counter.n


def main() -> dict:
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        fresh_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from scheduling import timefmt
    from scheduling.models import Service, Slot, WeeklyRule
    from scheduling.schedules import schedules_extend

    call_command("migrate", verbosity=0)
    service = Service.objects.create(name="Bench Weekly", price="40.00")
    doctors = User.objects.bulk_create(
        User(email=f"bench-doctor-{i}@example.com", name=f"Doctor {i}", role=Role.DOCTOR)
        for i in range(DOCTORS)
    )
    DoctorProfile.objects.bulk_create(
        DoctorProfile(user=d, specialty=service, license_number=f"B-{d.pk}", is_verified=True)
        for d in doctors
    )
    today = timefmt.clinic_today(timezone.now())
    WeeklyRule.objects.bulk_create(
        WeeklyRule(
            doctor=d,
            service=service,
            weekdays="mon,tue,wed,thu,fri",
            start_time=clock(9),
            end_time=clock(13),
            slot_minutes=30,
            valid_from=today + timedelta(days=1),
        )
        for d in doctors
    )
    now = timezone.now()
    created, first_s, first_n = timed(lambda: schedules_extend(now=now))
    assert created == Slot.objects.count() > 0, created
    again, second_s, second_n = timed(lambda: schedules_extend(now=now))
    assert again == 0 and Slot.objects.count() == created

    service_id = service.pk

    def floor():
        Service.objects.filter(pk=service_id).values("id", "name", "price").first()

    for _ in range(50):
        floor()
    floor_ms = []
    for _ in range(500):
        began = time.perf_counter()
        floor()
        floor_ms.append((time.perf_counter() - began) * 1000)
    floor_ms = statistics.median(floor_ms)

    # The bare write: the same rows, inserted by a plain bulk_create per doctor.
    rows = list(Slot.objects.values_list("doctor_id", "start", "end"))
    by_doctor: dict[int, list] = {}
    for doctor_id, start, end in rows:
        by_doctor.setdefault(doctor_id, []).append((start, end))
    by_doctor = dict(list(by_doctor.items())[:BARE_DOCTORS])
    Slot.objects.all()._raw_delete(Slot.objects.db)  # no bookings: a plain DELETE

    def bare():
        for doctor_id, spans in by_doctor.items():
            with transaction.atomic():
                Slot.objects.bulk_create(
                    Slot(doctor_id=doctor_id, service_id=service_id, start=s, end=e, created_at=now)
                    for s, e in spans
                )

    _none, bare_s, bare_n = timed(bare)

    per_doctor_ms = first_s * 1000 / DOCTORS
    bare_per_doctor_ms = bare_s * 1000 / len(by_doctor)
    result = {
        "doctors": DOCTORS,
        "horizon_days": int(os.environ["BOOKING_HORIZON_DAYS"]),
        "slots": created,
        "first_run_s": round(first_s, 3),
        "first_run_statements": first_n,
        "second_run_s": round(second_s, 4),
        "second_run_statements": second_n,
        "bare_insert_doctors": len(by_doctor),
        "bare_insert_s": round(bare_s, 3),
        "bare_insert_statements": bare_n,
        "bare_per_doctor_ms": round(bare_per_doctor_ms, 2),
        "floor_ms": round(floor_ms, 4),
        "per_doctor_ms": round(per_doctor_ms, 2),
        "x_floor_per_doctor": round(per_doctor_ms / floor_ms, 1),
        "x_bare_insert": round(per_doctor_ms / bare_per_doctor_ms, 2),
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
    }
    lines = [
        f"weekly hours: {DOCTORS} doctors x 1 rule, a year ({result['horizon_days']} days): "
        f"{created:,} slots",
        f"{'first run (all generated)':34} {first_s:8.3f} s  {first_n:6d} statements "
        f"({first_n / DOCTORS:.1f} per doctor)",
        f"{'  per doctor-year':34} {per_doctor_ms:8.2f} ms  "
        f"({per_doctor_ms / floor_ms:7.1f} x floor, "
        f"{per_doctor_ms / bare_per_doctor_ms:4.2f} x bare insert)",
        f"{'second run (nothing to do)':34} {second_s:8.3f} s  {second_n:6d} statements",
        f"{'bare insert, per doctor-year':34} {bare_per_doctor_ms:8.2f} ms  "
        f"({bare_n / len(by_doctor):.1f} statements per doctor; {len(by_doctor)} doctors)",
        f"{'floor (one indexed read)':34} {floor_ms:8.3f} ms",
    ]
    print("\n".join(lines))
    OUT.mkdir(exist_ok=True)
    (OUT / "schedules.json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
