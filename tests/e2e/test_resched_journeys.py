"""Reschedule, waitlist (join → offer → claim) and attendance in a real browser at phone
width (390x844, Debian's chromium). Screenshots go to test-artifacts/e2e/."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from scheduling.models import Slot
from tests.e2e.helpers import sign_in
from tests.e2e.test_journeys import assert_no_errors, future_slot
from tests.factories import BookingFactory, DoctorFactory, PatientFactory, ServiceFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_pages")]


def fits_the_phone(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px phone"


def confirmed(patient, slot) -> Booking:
    booking = services.booking_create(patient=patient, slot_id=slot.pk)
    return services.booking_confirm_paid(booking_id=booking.pk)


def test_patient_reschedules_on_a_phone(new_page, shot):
    service = ServiceFactory(name="Teeth Cleaning")
    doctor = DoctorFactory(name="Tanvir Karim")
    old = future_slot(doctor, days=4, hour=10, service=service)
    new = future_slot(doctor, days=5, hour=11, service=service)
    patient = PatientFactory()
    booking = confirmed(patient, old)
    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.goto("/appointments/")
    card = page.locator(f'li.appointment[data-booking-id="{booking.pk}"]')
    card.get_by_role("link", name="Reschedule…").click()
    page.wait_for_url(f"**/appointments/{booking.pk}/reschedule/")
    fits_the_phone(page)
    shot(page, "reschedule-choices")
    page.locator(f'input[name="slot"][value="{new.pk}"]').check()
    page.get_by_role("button", name="Move appointment").click()
    page.wait_for_url("**/appointments/")
    assert "Moved to" in page.content()
    shot(page, "rescheduled")
    assert_no_errors(page)
    booking.refresh_from_db()
    assert booking.slot_id == new.pk and booking.status == BookingStatus.CONFIRMED
    assert [Slot.objects.get(pk=s.pk).seats_taken for s in (old, new)] == [0, 1]


def test_waitlist_join_offer_and_claim_on_a_phone(new_page, shot):
    service = ServiceFactory(name="Teeth Cleaning")
    doctor = DoctorFactory(name="Tanvir Karim")
    slot = future_slot(doctor, days=4, hour=10, service=service)
    holder = confirmed(PatientFactory(), slot)
    patient = PatientFactory()
    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.goto(f"/book/{slot.pk}/")
    fits_the_phone(page)
    shot(page, "full-slot")
    page.get_by_role("button", name="Join the waitlist").click()
    page.wait_for_url("**/waitlist/")
    assert page.locator(".waitlist-entry .place").inner_text() == "1"
    shot(page, "on-the-waitlist")
    # The seat comes free: it is held for the patient, who is told by mail.
    services.booking_cancel(booking_id=holder.pk, by=doctor)
    page.reload()
    entry = page.locator(".waitlist-entry")
    assert entry.get_attribute("data-status") == "offered"
    fits_the_phone(page)
    shot(page, "offer")
    entry.get_by_role("link", name="Book this place").click()
    page.wait_for_url(f"**/book/{slot.pk}/")
    assert page.locator("#offer-held").is_visible()
    page.get_by_role("button", name=re.compile("Book and pay")).click()
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/"))
    shot(page, "claimed-pay")
    assert_no_errors(page)
    claimed = WaitlistEntry.objects.get(patient=patient)
    assert claimed.status == WaitlistStatus.CLAIMED
    booking = Booking.objects.get(pk=claimed.booking_id)
    assert booking.slot_id == slot.pk and booking.status == BookingStatus.PENDING_PAYMENT
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1


def test_doctor_marks_attendance_on_a_phone(new_page, shot):
    service = ServiceFactory(name="Teeth Cleaning")
    doctor = DoctorFactory(name="Tanvir Karim")
    patient = PatientFactory(name="Farhan Ahmed")
    start = (timezone.now() - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    bookings = []
    for hours in (0, 2):
        slot = Slot.objects.create(
            doctor=doctor,
            service=service,
            start=start - timedelta(hours=hours),
            end=start - timedelta(hours=hours) + timedelta(minutes=30),
            capacity=1,
            seats_taken=1,
        )
        bookings.append(
            BookingFactory(
                patient=patient,
                slot=slot,
                status=BookingStatus.CONFIRMED,
                confirmed_at=timezone.now(),
            )
        )
    page = new_page(phone=True)
    sign_in(page, doctor.email)
    page.goto("/doctor/")
    row = page.locator(f'li.patient[data-booking-id="{bookings[0].pk}"]')
    fits_the_phone(page)
    shot(page, "dashboard-attendance")
    row.get_by_role("button", name="Farhan Ahmed did not come").click()
    page.wait_for_url("**/doctor/")
    assert "Attendance recorded." in page.content()
    other = page.locator(f'li.patient[data-booking-id="{bookings[1].pk}"]')
    assert "1 no-show" in other.inner_text()
    other.get_by_role("button", name="Farhan Ahmed attended").click()
    page.wait_for_url("**/doctor/")
    shot(page, "attendance-recorded")
    assert_no_errors(page)
    statuses = [Booking.objects.get(pk=b.pk).status for b in bookings]
    assert statuses == [BookingStatus.NO_SHOW, BookingStatus.COMPLETED]
