"""Demo schedule for `seed_demo` (project level: it spans accounts, scheduling and bookings):
a week of published slots for the verified demo doctors
and a few bookings, written through the same services as the API. Idempotent: a slot
or booking that already exists is left alone, so running it twice changes nothing."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking
from bookings.services import booking_create
from scheduling import timefmt
from scheduling.models import Service, Slot
from scheduling.services import slot_create_many

# The reference's six appointment options and their prices, for the demo and the benchmarks.
REFERENCE_SERVICES = [
    ("Teeth Orthodontics", Decimal("120.00")),
    ("Cosmetic Dentistry", Decimal("150.00")),
    ("Teeth Cleaning", Decimal("40.00")),
    ("Cavity Protection", Decimal("60.00")),
    ("Pediatric Dental", Decimal("55.00")),
    ("Oral Surgery", Decimal("200.00")),
]

DEMO_DAYS = 7
DEMO_LABELS = ["09.00 AM-10.00 AM", "10.00 AM-11.00 AM", "02.00 PM-03.00 PM", "04.00 PM-05.00 PM"]


def _missing_labels(*, doctor: User, days: list) -> list[dict]:
    doc_slot = []
    for day in days:
        labels = []
        for label in DEMO_LABELS:
            interval = timefmt.label_to_interval(day, label)
            if not Slot.objects.filter(
                doctor=doctor, start__lt=interval.end, end__gt=interval.start
            ).exists():
                labels.append(label)
        if labels:
            doc_slot.append({"date": day.isoformat(), "slot": labels})
    return doc_slot


@transaction.atomic
def demo_schedule_create(
    *,
    doctors: list[User],
    patients: list[User],
    services: list[Service] | None = None,
    stdout=None,
    now: datetime | None = None,
) -> dict:
    """Slots for the next DEMO_DAYS days (from tomorrow, clinic time) and a few bookings."""
    now = now or timezone.now()
    services = list(services or Service.objects.filter(is_active=True))
    first_day = timefmt.clinic_today(now) + timedelta(days=1)
    days = [first_day + timedelta(days=n) for n in range(DEMO_DAYS)]
    slots_created = 0
    for index, doctor in enumerate(doctors):
        profile = getattr(doctor, "doctor_profile", None)
        specialty = profile.specialty if profile and profile.specialty_id else None
        service = specialty or (services[index % len(services)] if services else None)
        doc_slot = _missing_labels(doctor=doctor, days=days)
        if doc_slot and service is not None:
            slots_created += len(
                slot_create_many(
                    doctor=doctor, by=doctor, doc_slot=doc_slot, service=service, now=now
                )
            )

    bookings_created = 0
    # Each patient holds the first slot tomorrow of one doctor. The holds stay unpaid:
    # a paid booking needs a real Stripe payment, or cancelling it could not refund.
    for index, patient in enumerate(patients[: len(doctors)]):
        doctor = doctors[index]
        slot = (
            Slot.objects.filter(doctor=doctor, start__gte=timefmt.day_bounds(first_day)[0])
            .order_by("start")
            .first()
        )
        if slot is None or Booking.objects.filter(slot=slot, patient=patient).exists():
            continue
        booking_create(patient=patient, slot_id=slot.pk, now=now)
        bookings_created += 1

    if stdout is not None:
        stdout.write(
            f"Demo schedule: {slots_created} slot(s) and {bookings_created} booking(s) created "
            f"for {len(doctors)} verified doctor(s) over {DEMO_DAYS} days."
        )
    return {"slots": slots_created, "bookings": bookings_created}
