"""The outbox's cost, against the floor, in one run (issue 13; not part of `make test`).

    (on a fresh, empty database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dp_outbox_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/outbox_bench.py

- floor: one indexed read (a Service by pk, `.values()`), the floor view's query;
- booking write: one transaction confirming a booking (status update), without and with
  `notify_booking_confirmed` (two outbox rows, and after commit the hand-over to Redis);
- delivery: N rows delivered by one real `celery worker --pool solo` process (the dummy
  email backend, so the outbox's own machinery is measured, not an SMTP server).
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "1000"))


def median_ms(fn, rounds=ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    call_command("migrate", verbosity=0)
    from datetime import timedelta

    from django.utils import timezone

    from bookings.models import Booking, BookingStatus
    from bookings.notifications import notify_booking_confirmed
    from doctors_portal.models import OutboxKind, OutboxMessage, OutboxStatus
    from scheduling.models import Service, Slot
    from tests.factories import (
        BookingFactory,
        DoctorFactory,
        PatientFactory,
        ServiceFactory,
        SlotFactory,
    )

    OutboxMessage.objects.all().delete()
    Booking.objects.all().delete()
    Slot.objects.all().delete()
    patient, doctor = PatientFactory(), DoctorFactory()
    service = ServiceFactory()
    first_start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    bookings = iter(
        [
            BookingFactory(
                patient=patient,
                slot=SlotFactory(
                    doctor=doctor,
                    service=service,
                    start=first_start + timedelta(hours=i),
                    end=first_start + timedelta(hours=i, minutes=30),
                ),
            )
            for i in range(2 * ROUNDS + 20)
        ]
    )
    service_id = Service.objects.values_list("pk", flat=True).first()

    def floor():
        Service.objects.filter(pk=service_id).values("id", "name", "price").first()

    def confirm(*, notify: bool):
        booking = next(bookings)
        with transaction.atomic():
            type(booking).objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)
            if notify:
                notify_booking_confirmed(booking=booking)

    floor_ms = median_ms(floor)
    plain_ms = median_ms(lambda: confirm(notify=False))
    outbox_ms = median_ms(lambda: confirm(notify=True))

    # Delivery throughput: rows already due, one worker, its beat's sweep hands them over.
    OutboxMessage.objects.all().delete()

    OutboxMessage.objects.bulk_create(
        OutboxMessage(key=f"bench:{i}", kind=OutboxKind.ACCOUNT_TAKEOVER_NOTICE, user=patient,
                      params={"site": "http://127.0.0.1", "how": "bench"},
                      next_attempt_at=timezone.now())
        for i in range(DELIVERIES)
    )  # fmt: skip
    env = {**os.environ, "OUTBOX_SWEEP_SECONDS": "0.5"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "doctors_portal", "worker", "--beat",
         "--pool", "solo", "--loglevel", "WARNING", "--schedule", "/tmp/outbox-bench-beat"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        sent = OutboxMessage.objects.filter(status=OutboxStatus.SENT)
        while not sent.exists():
            time.sleep(0.05)
        began, first = time.perf_counter(), sent.count()
        while sent.count() < DELIVERIES:
            time.sleep(0.2)
        elapsed = time.perf_counter() - began
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    rate = (DELIVERIES - first) / elapsed

    rows = [
        ("floor (one indexed read)", floor_ms, "ms"),
        ("booking write, no notification", plain_ms, "ms"),
        ("booking write, with outbox rows", outbox_ms, "ms"),
        ("added per booking write", outbox_ms - plain_ms, "ms"),
        ("one delivery (one solo worker)", 1000 / rate, "ms"),
    ]
    for name, value, unit in rows:
        print(f"{name:34} {value:8.3f} {unit}  ({value / floor_ms:5.1f} x floor)")
    print(f"{'delivery throughput':34} {rate:8.0f} rows/s")


if __name__ == "__main__":
    main()
