import importlib.util
from collections import Counter
from pathlib import Path

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import SEAT_HOLDING_STATUSES, Booking, BookingStatus
from scheduling import timefmt
from scheduling.models import Service, Slot

pytestmark = pytest.mark.django_db

PATH = Path(__file__).resolve().parents[2] / "bench" / "make_dataset.py"


def load():
    spec = importlib.util.spec_from_file_location("make_dataset", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_dataset_is_consistent(client):
    load().main(
        [
            "--slots",
            "300",
            "--doctors",
            "10",
            "--patients",
            "60",
            "--doctors-per-day",
            "3",
            "--slots-per-doctor-day",
            "5",
            "--hot-doctor-bookings",
            "40",
            "--bookings",
            "150",
            "--hot-patient-bookings",
            "7",
        ]
    )
    assert Service.objects.count() == 6
    assert User.objects.filter(role=Role.DOCTOR).count() == 10
    assert Slot.objects.count() == 300
    slots = Slot.objects.annotate(
        active=Count("bookings", filter=Q(bookings__status__in=SEAT_HOLDING_STATUSES))
    )
    assert all(s.seats_taken == s.active <= s.capacity for s in slots)
    per_date = Counter()
    doctors_per_date: dict = {}
    for slot in Slot.objects.all():
        day = timefmt.clinic_today(slot.start)
        per_date[day] += 1
        doctors_per_date.setdefault(day, set()).add(slot.doctor_id)
    assert max(len(d) for d in doctors_per_date.values()) == 3
    busiest = Booking.objects.values("doctor").annotate(n=Count("id")).order_by("-n").first()
    assert busiest["n"] >= 40
    assert Booking.objects.count() >= 150
    # Ids were assigned by the script: the sequences still hand out fresh ones.
    from tests.factories import SlotFactory

    top = max(Slot.objects.values_list("pk", flat=True))
    assert SlotFactory().pk > top
    # History and horizon: 20 days in all, half of them before today, none today.
    today = timefmt.clinic_today()
    assert sorted(per_date)[0] < today < sorted(per_date)[-1]
    assert today not in per_date
    assert sum(1 for day in per_date if day < today) == 10
    past = Booking.objects.filter(slot__start__lt=timezone.now())
    assert past.exists()
    assert not past.filter(status=BookingStatus.PENDING_PAYMENT).exists()
    assert past.filter(status=BookingStatus.CONFIRMED).exists()
    hot_patient = User.objects.get(email="bench-patient-0@example.com")
    assert Booking.objects.filter(patient=hot_patient).count() == 7
    day = min(day for day in per_date if day > today)
    response = client.get(f"/api/v1/appointmentOptions?date={day.isoformat()}")
    assert response.status_code == 200
    assert sum(len(item["slots"]) for item in response.json()["data"]) > 0
