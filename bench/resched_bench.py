"""Reschedule and waitlist-offer latency, against the floor, in one run (issue 14; not
part of `make test`). Run by `make bench` (bench/bench.py run, on a fresh database of its
own; results in bench/out/resched.json and a section of RESULTS.md), or alone:

    (on a fresh, empty database; Redis db for the outbox hand-over)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dp_resched_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/resched_bench.py

- floor: one indexed read (a Service by pk, `.values()`), the floor view's query;
- hold: `booking_create`, the existing seat write, for comparison;
- reschedule: `booking_reschedule` of a confirmed booking between two slots (patient,
  both slots in id order and the booking locked; seat taken and given back; two outbox
  rows; reminders retired), and the same through `POST bookings/:id/reschedule` in-process
  (DRF, auth, the answer's row);
- cancel without and with a waiting patient: the difference is the waitlist offer (the
  freed seat re-taken for the first in line, the entry marked, the offer's outbox row).
Each round's set-up is outside the timing; medians and p99 in milliseconds.
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Its own name: bench.py's BENCH_ROUNDS counts that benchmark's rounds (5), not these.
ROUNDS = int(os.environ.get("BENCH_RESCHED_ROUNDS", "200"))
OUT = ROOT / "bench" / "out"


def timed(rounds: int, setup, fn) -> dict:
    times = []
    for i in range(rounds):
        state = setup(i)
        began = time.perf_counter()
        fn(state)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {
        "p50": statistics.median(times),
        "p99": times[min(len(times) - 1, int(len(times) * 0.99))],
    }


def main() -> None:
    # Set up here, not on import: bench.py imports this module for `table` alone.
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("EMAIL_URL", "dummymail://")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from bookings import services
    from scheduling.models import Service, Slot
    from tests.factories import DoctorFactory, PatientFactory, ServiceFactory

    service = ServiceFactory(name="Bench Consultation")
    doctor = DoctorFactory()
    base = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    counter = {"n": 0}

    def new_slot(capacity: int = 1) -> Slot:
        counter["n"] += 1
        start = base + timedelta(minutes=30 * counter["n"])
        return Slot.objects.create(
            doctor=doctor,
            service=service,
            start=start,
            end=start + timedelta(minutes=30),
            capacity=capacity,
        )

    def confirmed(slot):
        booking = services.booking_create(patient=PatientFactory(), slot_id=slot.pk)
        return services.booking_confirm_paid(booking_id=booking.pk)

    results = {}
    results["floor"] = timed(
        ROUNDS * 5, lambda i: None, lambda s: Service.objects.filter(pk=service.pk).values().first()
    )
    results["hold (booking_create)"] = timed(
        ROUNDS,
        lambda i: (PatientFactory(), new_slot()),
        lambda s: services.booking_create(patient=s[0], slot_id=s[1].pk),
    )
    a, b = new_slot(), new_slot()
    moving = confirmed(a)
    results["reschedule (service)"] = timed(
        ROUNDS,
        lambda i: b if i % 2 == 0 else a,
        lambda to: services.booking_reschedule(booking_id=moving.pk, slot_id=to.pk, by=doctor),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(doctor).access_token}")
    c, d = new_slot(), new_slot()
    moving_api = confirmed(c)

    def move_api(to):
        response = client.post(
            f"/api/v1/bookings/{moving_api.pk}/reschedule", {"slotId": to.pk}, format="json"
        )
        assert response.status_code == 200, response.content

    results["reschedule (POST bookings/:id/reschedule)"] = timed(
        ROUNDS, lambda i: d if i % 2 == 0 else c, move_api
    )

    def cancel_setup(with_waiter: bool):
        def setup(i):
            slot = new_slot()
            booking = confirmed(slot)
            if with_waiter:
                services.waitlist_join(patient=PatientFactory(), slot_id=slot.pk)
            return booking

        return setup

    results["cancel, nobody waiting"] = timed(
        ROUNDS,
        cancel_setup(False),
        lambda bk: services.booking_cancel(booking_id=bk.pk, by=doctor),
    )
    results["cancel + waitlist offer"] = timed(
        ROUNDS,
        cancel_setup(True),
        lambda bk: services.booking_cancel(booking_id=bk.pk, by=doctor),
    )
    floor = results["floor"]["p50"]
    offer = results["cancel + waitlist offer"]["p50"] - results["cancel, nobody waiting"]["p50"]
    summary = {
        "rounds": ROUNDS,
        "database": django.db.connection.vendor,
        "operations": {
            name: {
                "p50_ms": round(r["p50"], 3),
                "p99_ms": round(r["p99"], 3),
                "x_floor_p50": round(r["p50"] / floor, 1),
            }
            for name, r in results.items()
        },
        "offer_ms": round(offer, 3),
    }
    print("\n".join(table(summary)))
    OUT.mkdir(exist_ok=True)
    (OUT / "resched.json").write_text(json.dumps(summary, indent=1))


def table(summary: dict) -> list[str]:
    """The results as Markdown lines (printed here, and RESULTS.md's section)."""
    lines = [
        f"rounds: {summary['rounds']} (floor {summary['rounds'] * 5}); "
        f"database {summary['database']}",
        "",
        "| operation | p50 ms | p99 ms | p50 / floor p50 |",
        "|---|---:|---:|---:|",
    ]
    for name, r in summary["operations"].items():
        lines.append(f"| {name} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['x_floor_p50']} |")
    lines += ["", f"waitlist offer's own cost (p50 difference): {summary['offer_ms']:.2f} ms"]
    return lines


if __name__ == "__main__":
    main()
