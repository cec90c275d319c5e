from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from doctors_portal.demo import DEMO_LABELS, demo_days, demo_schedule_create
from scheduling.models import Slot, SlotStatus
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def snapshot():
    return list(Slot.objects.order_by("pk").values()), list(Booking.objects.order_by("pk").values())


def test_demo_schedule_is_a_week_of_slots_and_idempotent():
    services = [ServiceFactory(name="Teeth Cleaning"), ServiceFactory(name="Oral Surgery")]
    doctors = [DoctorFactory(), DoctorFactory()]
    patients = [PatientFactory(), PatientFactory()]
    out = StringIO()
    result = demo_schedule_create(doctors=doctors, patients=patients, services=services, stdout=out)
    assert result == {"slots": 2 * demo_days() * len(DEMO_LABELS), "bookings": 2}
    assert Slot.objects.filter(status=SlotStatus.PUBLISHED).count() == result["slots"]
    # Weekly hours, not hand-made slots: the periodic task keeps them coming.
    from scheduling.models import WeeklyRule

    assert WeeklyRule.objects.count() == 2 * 3
    assert not Slot.objects.filter(rule__isnull=True).exists()
    statuses = sorted(Booking.objects.values_list("status", flat=True))
    assert statuses == [BookingStatus.PENDING_PAYMENT] * 2
    assert "Demo schedule" in out.getvalue()
    before = snapshot()
    assert demo_schedule_create(doctors=doctors, patients=patients, services=services) == {
        "slots": 0,
        "bookings": 0,
    }
    assert snapshot() == before


def test_seed_demo_gives_verified_doctors_slots():
    call_command("seed_demo", stdout=StringIO())
    verified = User.objects.filter(role=Role.DOCTOR, doctor_profile__is_verified=True)
    assert verified.exists()
    for doctor in verified:
        assert Slot.objects.filter(doctor=doctor).count() == demo_days() * len(DEMO_LABELS)
    unverified = User.objects.filter(role=Role.DOCTOR, doctor_profile__is_verified=False)
    assert not Slot.objects.filter(doctor__in=unverified).exists()
    assert Booking.objects.count() >= 1
    before = snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before
