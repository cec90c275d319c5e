"""Build a large, consistent dataset for the benchmarks (DATABASE_URL picks the database).

    python bench/make_dataset.py --slots 200000            # 1,000 doctors, 100,000 bookings
    python bench/make_dataset.py --slots 1000000 --doctors-per-day 20 --slots-per-doctor-day 15

Shape: six services, N verified doctors, patients, and slots laid out day by day (clinic
time): on every date `--doctors-per-day` doctors (rotating through all of them) each
publish `--slots-per-doctor-day` slots, so one date looks the same whatever the total.
`--history-share` of the days lie before today (the clinic's history of attended and
cancelled appointments), the rest from tomorrow on (the horizon), so both grow with
`--slots` (or are fixed by `--days`). Bookings go on randomly chosen slots (80% confirmed
and paid, 10% unpaid holds, 10% cancelled; on past slots the holds are confirmed too, as
the app never leaves a hold on a passed slot). The first doctor's slots are filled so one
doctor has about `--hot-doctor-bookings` bookings, and the first patient has exactly
`--hot-patient-bookings`, whatever the size.
`seats_taken` always equals the slot's pending and confirmed bookings.

On PostgreSQL rows are streamed with COPY (a million slots in a few minutes); elsewhere
bulk_create in batches. Ids are assigned here, so slots and bookings are generated in two
deterministic passes without holding a million objects in memory.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")

NONE, CONFIRMED, PENDING, CANCELLED, FULL = range(5)
BATCH = 10_000


def log(message: str) -> None:
    print(f"[make_dataset] {message}", flush=True)


class Writer:
    """COPY on PostgreSQL, bulk_create elsewhere; rows are dicts keyed by attname."""

    def __init__(self, model):
        from django.db import connection

        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.postgres = connection.vendor == "postgresql"
        self.buffer: list[dict] = []
        self.count = 0

    def add(self, row: dict) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= BATCH:
            self.flush()

    def _values(self, row: dict) -> tuple:
        out = []
        for field in self.fields:
            if field.attname in row:
                out.append(row[field.attname])
            elif field.has_default():
                out.append(field.get_default())
            else:
                out.append(None)
        return tuple(out)

    def flush(self) -> None:
        if not self.buffer:
            return
        from django.db import connection

        if self.postgres:
            table = connection.ops.quote_name(self.model._meta.db_table)
            columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
            sql = f"COPY {table} ({columns}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for row in self.buffer:
                    copy.write_row(self._values(row))
        else:
            self.model.objects.bulk_create(
                [self.model(**row) for row in self.buffer], batch_size=2_000
            )
        self.count += len(self.buffer)
        self.buffer = []


def next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def reset_sequences(*models) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cursor.execute(sql)


def build(args) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import DoctorProfile, Role, User
    from bookings.models import Booking, BookingStatus, PaymentStatus
    from doctors_portal.demo import REFERENCE_SERVICES
    from scheduling.models import Service, Slot, SlotStatus

    rng = random.Random(args.seed)
    now = timezone.now()
    tz = ZoneInfo(settings.CLINIC_TIME_ZONE)
    total = args.slots
    per_day = args.doctors_per_day * args.slots_per_doctor_day
    days = args.days or math.ceil(total / per_day)
    per_doctor_day = args.slots_per_doctor_day
    if args.days:
        per_doctor_day = math.ceil(total / (days * args.doctors_per_day))
    step = max(5, min(60, (14 * 60) // per_doctor_day))  # slots fit between 07:00 and 21:00
    length = max(5, step * 3 // 4)
    bookings_wanted = min(args.bookings if args.bookings is not None else total // 2, total)
    log(
        f"{connection.vendor}: {total:,} slots over {days:,} days, {args.doctors:,} doctors "
        f"({args.doctors_per_day}/day x {per_doctor_day} slots of {length} min), "
        f"{args.patients:,} patients, about {bookings_wanted:,} bookings"
    )
    if User.objects.filter(email__startswith="bench-doctor-").exists():
        sys.exit("make_dataset: this database already has a bench dataset; use a fresh one.")

    started = time.monotonic()
    with transaction.atomic():
        services = []
        for name, price in REFERENCE_SERVICES:
            service, _ = Service.objects.get_or_create(name=name, defaults={"price": price})
            services.append(service)
        unusable = make_password(None)
        if not User.objects.filter(role=Role.ADMIN).exists():
            User.objects.create_superuser("bench-admin@example.com", name="Bench Admin")
        doctors = User.objects.bulk_create(
            [
                User(
                    email=f"bench-doctor-{i}@example.com",
                    name=f"Dr. Bench {i}",
                    role=Role.DOCTOR,
                    password=unusable,
                )
                for i in range(args.doctors)
            ],
            batch_size=2_000,
        )
        DoctorProfile.objects.bulk_create(
            [
                DoctorProfile(
                    user=doctor,
                    specialty=services[i % len(services)],
                    license_number=f"BENCH-{i}",
                    is_verified=True,
                    verified_at=now,
                )
                for i, doctor in enumerate(doctors)
            ],
            batch_size=2_000,
        )
        patients = User.objects.bulk_create(
            [
                User(
                    email=f"bench-patient-{i}@example.com",
                    name=f"Patient Bench {i}",
                    role=Role.PATIENT,
                    phone=f"+8801{i:09d}",
                    password=unusable,
                )
                for i in range(args.patients)
            ],
            batch_size=5_000,
        )
    log(f"users: {len(doctors):,} doctors, {len(patients):,} patients")
    doctor_ids = [d.pk for d in doctors]
    patient_ids = [p.pk for p in patients]
    past_days = round(days * args.history_share)
    today = now.astimezone(tz).date()
    # History first (oldest day first), then the horizon from tomorrow; today stays empty.
    dates = [today - timedelta(days=past_days - d) for d in range(past_days)] + [
        today + timedelta(days=1 + d) for d in range(days - past_days)
    ]

    def layout():
        """(index, doctor index, service, start, end) of every slot, always the same."""
        index = 0
        for d, day in enumerate(dates):
            opening = datetime.combine(day, clock(7, 0), tzinfo=tz).astimezone(UTC)
            for j in range(args.doctors_per_day):
                doctor = (d * args.doctors_per_day + j) % args.doctors
                service = services[doctor % len(services)]
                for k in range(per_doctor_day):
                    if index >= total:
                        return
                    start = opening + timedelta(minutes=k * step)
                    yield index, doctor, service, start, start + timedelta(minutes=length)
                    index += 1

    # The plan: what bookings each slot gets (decided once, used by both passes).
    plan = bytearray(total)
    hot_slots = [i for i, doctor, *_ in layout() if doctor == 0]
    hot_capacity = max(1, math.ceil(args.hot_doctor_bookings / max(1, len(hot_slots))))
    hot_capacity = min(hot_capacity, 1_000, len(patient_ids))
    for i in hot_slots:
        plan[i] = FULL
    planned = len(hot_slots) * hot_capacity
    others = [i for i in range(total) if plan[i] == NONE]
    for i in rng.sample(others, max(0, min(len(others), bookings_wanted - planned))):
        roll = rng.random()
        plan[i] = CONFIRMED if roll < 0.8 else PENDING if roll < 0.9 else CANCELLED
    # The hot patient's bookings: a fixed number of booked slots, past and upcoming alike.
    booked = [i for i in range(total) if plan[i] not in (NONE, FULL)]
    hot_patient_slots = set(rng.sample(booked, min(len(booked), args.hot_patient_bookings)))
    log(f"plan ready ({time.monotonic() - started:.1f}s)")

    slot_base = next_id(Slot)
    writer = Writer(Slot)
    with transaction.atomic():
        for index, doctor, service, start, end in layout():
            code = plan[index]
            capacity = hot_capacity if code == FULL else 1
            held = capacity if code == FULL else int(code in (CONFIRMED, PENDING))
            writer.add(
                {
                    "id": slot_base + index,
                    "doctor_id": doctor_ids[doctor],
                    "service_id": service.pk,
                    "start": start,
                    "end": end,
                    "capacity": capacity,
                    "seats_taken": held,
                    "status": SlotStatus.PUBLISHED,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        writer.flush()
    log(f"slots: {writer.count:,} ({time.monotonic() - started:.1f}s)")

    booking_base = next_id(Booking)
    bookings = Writer(Booking)
    hold = timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    number = 0
    with transaction.atomic():
        for index, doctor, service, start, _end in layout():
            code = plan[index]
            if code == NONE:
                continue
            past = start < now
            if past and code == PENDING:
                code = CONFIRMED  # a hold is never left on a slot that has passed
            seats = [CONFIRMED] * hot_capacity if code == FULL else [code]
            for seat, status in enumerate(seats):
                created = min(start, now) - timedelta(minutes=rng.randint(20, 60 * 24 * 30))
                # Distinct patients within one slot: seat < capacity <= patients - 1. The
                # first patient is the hot patient and gets only their planned bookings.
                patient = patient_ids[1 + (index * 7919 + seat) % (len(patient_ids) - 1)]
                if index in hot_patient_slots:
                    patient = patient_ids[0]
                row = {
                    "id": booking_base + number,
                    "patient_id": patient,
                    "doctor_id": doctor_ids[doctor],
                    "slot_id": slot_base + index,
                    "service_id": service.pk,
                    "price": service.price,
                    "currency": service.currency,
                    "patient_phone": "",
                    "created_at": created,
                    "updated_at": created,
                }
                if status == CONFIRMED:
                    row.update(
                        status=BookingStatus.CONFIRMED,
                        payment_status=PaymentStatus.PAID,
                        confirmed_at=created + timedelta(minutes=5),
                    )
                elif status == PENDING:
                    row.update(
                        status=BookingStatus.PENDING_PAYMENT,
                        payment_status=PaymentStatus.UNPAID,
                        created_at=now,
                        updated_at=now,
                        expires_at=now + hold,
                    )
                else:
                    row.update(
                        status=BookingStatus.CANCELLED,
                        payment_status=PaymentStatus.UNPAID,
                        cancelled_at=created + timedelta(minutes=10),
                        cancelled_by_id=patient,
                    )
                bookings.add(row)
                number += 1
        bookings.flush()
        reset_sequences(Slot, Booking)
    log(f"bookings: {bookings.count:,} ({time.monotonic() - started:.1f}s)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # COPY and bulk_create send no signals: say that every cached availability is stale.
    from scheduling.availability_cache import availability_changed

    availability_changed()
    log(f"done in {time.monotonic() - started:.1f}s")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=200_000)
    parser.add_argument("--doctors", type=int, default=1_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--bookings", type=int, default=None, help="default: half the slots")
    parser.add_argument("--doctors-per-day", type=int, default=20)
    parser.add_argument("--slots-per-doctor-day", type=int, default=15)
    parser.add_argument("--days", type=int, default=None, help="fixed horizon (days)")
    parser.add_argument("--hot-doctor-bookings", type=int, default=1_000)
    parser.add_argument("--hot-patient-bookings", type=int, default=50)
    parser.add_argument(
        "--history-share", type=float, default=0.5, help="share of the days before today"
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    for name in ("slots", "doctors", "doctors_per_day", "slots_per_doctor_day"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.patients < 2:
        parser.error("--patients must be at least 2 (the first is the hot patient)")
    if not 0 <= args.history_share < 1:
        parser.error("--history-share must be at least 0 and below 1")
    args.doctors_per_day = min(args.doctors_per_day, args.doctors)
    build(args)


if __name__ == "__main__":
    main()
