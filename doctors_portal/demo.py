"""Demo schedule for `seed_demo` (project level: it spans accounts, scheduling and bookings):
weekly hours for the verified demo doctors (generated into slots up to
BOOKING_HORIZON_DAYS ahead, and kept so by the periodic task) and a few bookings,
written through the same services as the API. Idempotent: weekly hours, a slot or a
booking that already exists is left alone, so running it twice changes nothing."""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking
from bookings.services import booking_create
from doctors_portal.errors import INVALID, DomainError
from scheduling import timefmt
from scheduling.models import WEEKDAYS, Service, Slot, WeeklyRule
from scheduling.schedules import schedule_create

# The reference's six appointment options and their prices, for the demo and the benchmarks.
REFERENCE_SERVICES = [
    ("Teeth Orthodontics", Decimal("120.00")),
    ("Cosmetic Dentistry", Decimal("150.00")),
    ("Teeth Cleaning", Decimal("40.00")),
    ("Cavity Protection", Decimal("60.00")),
    ("Pediatric Dental", Decimal("55.00")),
    ("Oral Surgery", Decimal("200.00")),
]

# Every day of the week, one-hour slots: 09-10, 10-11, 14-15 and 16-17 (clinic time).
DEMO_HOURS = [(time(9), time(11)), (time(14), time(15)), (time(16), time(17))]
DEMO_LABELS = ["09.00 AM-10.00 AM", "10.00 AM-11.00 AM", "02.00 PM-03.00 PM", "04.00 PM-05.00 PM"]


def demo_days() -> int:
    """Days with demo slots: from tomorrow to the booking horizon."""
    return settings.BOOKING_HORIZON_DAYS


def _weekly_hours(*, doctor: User, service: Service, first_day, now) -> int:
    """The demo's weekly hours for one doctor (those it lacks); the slots generated."""
    created = 0
    have = {(r.start_time, r.end_time) for r in WeeklyRule.objects.filter(doctor=doctor)}
    for start, end in DEMO_HOURS:
        if (start, end) in have:
            continue
        try:
            with transaction.atomic():
                result = schedule_create(
                    doctor=doctor,
                    by=doctor,
                    service=service,
                    weekdays=list(WEEKDAYS),
                    start_time=start,
                    end_time=end,
                    slot_minutes=60,
                    valid_from=first_day,
                    now=now,
                )
        except DomainError as exc:
            if exc.kind != INVALID:
                raise
            continue  # slots published by hand (an older demo) already fill these hours
        created += result.created
    return created


@transaction.atomic
def demo_schedule_create(
    *,
    doctors: list[User],
    patients: list[User],
    services: list[Service] | None = None,
    stdout=None,
    now: datetime | None = None,
) -> dict:
    """Weekly hours from tomorrow (clinic time), their slots, and a few bookings."""
    now = now or timezone.now()
    services = list(services or Service.objects.filter(is_active=True))
    first_day = timefmt.clinic_today(now) + timedelta(days=1)
    slots_created = 0
    for index, doctor in enumerate(doctors):
        profile = getattr(doctor, "doctor_profile", None)
        specialty = profile.specialty if profile and profile.specialty_id else None
        service = specialty or (services[index % len(services)] if services else None)
        if service is not None:
            slots_created += _weekly_hours(
                doctor=doctor, service=service, first_day=first_day, now=now
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
            f"for {len(doctors)} verified doctor(s): weekly hours, {demo_days()} days ahead."
        )
    return {"slots": slots_created, "bookings": bookings_created}
