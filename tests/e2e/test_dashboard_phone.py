"""The doctor's dashboard on a phone (390x844): a typical week fits in about three screens
(issue 14: it was 7,400 px tall with 28 slots, "My patients" at the very bottom)."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from bookings.models import BookingStatus
from scheduling import schedules, timefmt
from scheduling.models import Slot
from tests.e2e.helpers import sign_in
from tests.factories import BookingFactory, DoctorFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE_HEIGHT = 844


def test_a_typical_week_fits_in_about_three_phone_screens(new_page, shot):
    service = ServiceFactory(name="General Practice")
    doctor = DoctorFactory(name="Dr. Nadia Islam", profile__specialty=service)
    # 28 slots this week: seven a day (20 minutes, 09:00-11:20) on the next four days.
    today = timefmt.clinic_today(timezone.now())
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    schedules.schedule_create(
        doctor=doctor,
        by=doctor,
        service=service,
        weekdays=[names[(today + timedelta(days=n)).weekday()] for n in range(1, 5)],
        start_time=time(9),
        end_time=time(11, 20),
        slot_minutes=20,
        valid_from=today + timedelta(days=1),
    )
    week_end = timefmt.day_bounds(timefmt.clinic_today(timezone.now()) + timedelta(days=6))[1]
    week = list(Slot.objects.filter(doctor=doctor, start__lt=week_end).order_by("start"))
    assert len(week) == 28
    for slot in week[:6]:  # a few booked patients
        BookingFactory(
            slot=slot, patient=PatientFactory(), status=BookingStatus.CONFIRMED, expires_at=None
        )
        Slot.objects.filter(pk=slot.pk).update(seats_taken=1)

    page = new_page(phone=True)
    sign_in(page, doctor.email)
    page.goto("/doctor/")
    assert page.locator("#my-patients [data-booking-id]").count() == 6
    assert page.locator("#my-slots [data-slot-id]").count() == len(week)
    height = page.evaluate("document.documentElement.scrollHeight")
    shot(page, "dashboard-phone")
    print(f"dashboard height at 390x844 with {len(week)} slots and 6 patients: {height}px")
    assert height < 3 * PHONE_HEIGHT * 1.2, height
    # "My patients" comes first, above the fold.
    top = page.locator("#patients-heading").bounding_box()["y"]
    assert top < PHONE_HEIGHT / 2
    # A folded day opens to its one-line slots.
    page.locator("#my-slots details.day summary").first.click()
    row = page.locator("#my-slots [data-slot-id]").first
    assert row.is_visible()
    assert row.bounding_box()["height"] < 60
    # The weekly-hours form opens from its fold.
    page.get_by_text("Add weekly hours").first.click()
    assert page.get_by_label("Start time").is_visible()
    assert page.errors == []
