"""The booking journeys in a real browser (Debian's chromium) against the live server,
paying through localstripe's stand-in Stripe.js. Screenshots go to test-artifacts/e2e/."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus, PaymentStatus
from scheduling import timefmt
from scheduling.models import Slot
from tests.e2e.helpers import DECLINED, VISA, label_of, pay, show_day, sign_in, slot_link
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, SlotFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_pages")]


def future_slot(doctor, *, days: int, hour: int = 10, service=None, capacity: int = 1) -> Slot:
    """A slot `days` ahead at `hour` o'clock in the clinic's time zone."""
    day = timefmt.clinic_today() + timedelta(days=days)
    start = timefmt.local_to_utc(day, timezone.datetime.min.time().replace(hour=hour))
    return SlotFactory(
        doctor=doctor,
        service=service or ServiceFactory(name="Teeth Cleaning"),
        start=start,
        end=start + timedelta(hours=1),
        capacity=capacity,
    )


def assert_no_errors(page):
    assert page.errors == [], page.errors
    assert "Traceback" not in page.content()


def test_patient_signs_up_books_pays_and_the_doctor_sees_them_paid(new_page, shot):
    doctor = DoctorFactory(name="Dr. Nadia Karim")
    slot = future_slot(doctor, days=2)
    day = timefmt.clinic_today(slot.start)

    page = new_page(phone=True)
    page.goto("/signup/")
    page.get_by_label("Full name").fill("Amina Rahman")
    page.get_by_label("Email").fill("amina@example.com")
    page.get_by_label("Patient").check()
    page.get_by_label("Password", exact=True).fill("a-long-unusual-pass")
    page.get_by_label("Password again").fill("a-long-unusual-pass")
    shot(page, "signup")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(re.compile(r"/$"))

    show_day(page, day)
    card = page.locator('section.service[data-service="Teeth Cleaning"]')
    assert card.locator(".free-places").inner_text() == "1"
    assert "40.00 USD" in card.inner_text()
    shot(page, "home-free-places")

    slot_link(page, slot).click()
    page.wait_for_url(f"**/book/{slot.pk}/")
    assert label_of(slot) in page.inner_text("dl.facts")
    assert "Asia/Dhaka" in page.inner_text("dl.facts")
    shot(page, "booking-form")
    page.locator("#book-button").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/$"))
    assert page.inner_text("#amount") == "40.00 USD"
    assert page.inner_text("#minutes-left") == "15"
    pay_enter = page.locator("#card-element input").first
    pay_enter.wait_for()
    shot(page, "payment-page")

    pay(page, VISA)
    page.wait_for_url("**/appointments/")
    appointment = page.locator("li.appointment").first
    assert appointment.get_attribute("data-status") == "confirmed"
    assert "Confirmed" in appointment.inner_text()
    assert "Payment received: your appointment is confirmed." in page.inner_text(".messages")
    shot(page, "confirmed")
    assert_no_errors(page)

    booking = Booking.objects.get(patient__email="amina@example.com")
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PAID,
    )

    doctor_page = new_page()
    sign_in(doctor_page, doctor.email)
    doctor_page.goto("/doctor/")
    row = doctor_page.locator(f'#my-patients [data-booking-id="{booking.pk}"]')
    assert "Amina Rahman" in row.inner_text()
    assert row.locator(".badge.payment").inner_text() == "Paid"
    shot(doctor_page, "doctor-sees-paid")
    assert_no_errors(doctor_page)


def test_doctor_publishes_slots_for_two_dates_and_they_show_on_home(new_page, shot):
    service = ServiceFactory(name="Oral Surgery")
    doctor = DoctorFactory(name="Dr. Farhan Ahmed")
    doctor.doctor_profile.specialty = service
    doctor.doctor_profile.save()
    first = timefmt.clinic_today() + timedelta(days=3)
    second = first + timedelta(days=1)

    page = new_page()
    sign_in(page, doctor.email)
    page.goto("/doctor/")
    page.get_by_text("Publish one-off times").click()  # the form is folded on a phone
    for day, labels in (
        (first, "10.00 AM-11.00 AM"),
        (second, "10.00 AM-11.00 AM\n02.00 PM-03.00 PM"),
    ):
        page.get_by_label("Date", exact=True).fill(day.isoformat())
        page.get_by_label("Times", exact=True).fill(labels)
        page.get_by_role("button", name="Publish").click()
        page.wait_for_url("**/doctor/")
        assert f"on {timefmt.format_date(day)}" in page.inner_text(".messages")
        page.get_by_text("Publish one-off times").click()
    assert page.locator("#my-slots [data-slot-id]").count() == 3
    shot(page, "dashboard-published")

    # A clash is refused beside the field, naming the label.
    page.get_by_label("Date", exact=True).fill(first.isoformat())
    page.get_by_label("Times", exact=True).fill("10.30 AM-11.30 AM")
    page.get_by_role("button", name="Publish").click()
    assert "overlaps" in page.inner_text("#id_labels_error")
    shot(page, "dashboard-overlap-error")

    visitor = new_page(phone=True)
    show_day(visitor, first)
    section = visitor.locator('section.service[data-service="Oral Surgery"]')
    assert "10.00 AM-11.00 AM" in section.inner_text()
    assert section.locator(".free-places").inner_text() == "1"
    shot(visitor, "home-first-date")
    show_day(visitor, second)
    text = visitor.locator('section.service[data-service="Oral Surgery"]').inner_text()
    assert "10.00 AM-11.00 AM" in text and "02.00 PM-03.00 PM" in text
    shot(visitor, "home-second-date")
    assert_no_errors(page)
    assert_no_errors(visitor)


def test_two_patients_race_for_the_last_place(new_page, shot):
    slot = future_slot(DoctorFactory(), days=2, hour=15)
    racers = []
    for name in ("Rafi", "Sadia"):
        patient = PatientFactory(name=name)
        page = new_page()
        sign_in(page, patient.email)
        page.goto(f"/book/{slot.pk}/")
        racers.append(page)

    # Both press "Book" before either answer is back.
    for page in racers:
        page.locator("#book-button").click(no_wait_after=True)
    for page in racers:
        page.wait_for_selector("#payment-form, #unavailable")
    winners = [p for p in racers if p.locator("#payment-form").count()]
    losers = [p for p in racers if p.locator("#unavailable").count()]
    assert len(winners) == 1 and len(losers) == 1
    winner, loser = winners[0], losers[0]

    assert "no longer available" in loser.inner_text("#unavailable")
    shot(loser, "loser-no-longer-available")
    back = loser.get_by_role("link", name="See other free times that day")
    back.click()
    loser.wait_for_url(f"**/?date={timefmt.clinic_today(slot.start).isoformat()}")
    assert slot_link(loser, slot).count() == 0

    pay(winner, VISA)
    winner.wait_for_url("**/appointments/")
    assert winner.locator("li.appointment").first.get_attribute("data-status") == "confirmed"
    shot(winner, "winner-confirmed")
    assert Booking.objects.filter(slot=slot, status=BookingStatus.CONFIRMED).count() == 1
    assert Booking.objects.filter(slot=slot).count() == 1
    assert_no_errors(winner)
    assert_no_errors(loser)


def test_declined_card_stays_pending_and_cancelling_early_refunds(new_page, shot):
    doctor = DoctorFactory()
    service = ServiceFactory(name="Cavity Protection")
    declined_slot = future_slot(doctor, days=2, hour=9, service=service)
    refund_slot = future_slot(doctor, days=3, hour=11, service=service)
    patient = PatientFactory(name="Tanvir Hasan")

    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.goto(f"/book/{declined_slot.pk}/")
    page.locator("#book-button").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/$"))
    pay(page, DECLINED)
    page.wait_for_selector(".messages .message.error")
    assert re.search(r"/appointments/\d+/pay/$", page.url)
    error = page.inner_text(".messages")
    assert "declined" in error.lower() and "still pending" in error
    shot(page, "card-declined")
    declined = Booking.objects.get(slot=declined_slot)
    assert declined.status == BookingStatus.PENDING_PAYMENT
    assert declined.payment_status == PaymentStatus.FAILED

    page.goto("/appointments/")
    row = page.locator(f'li.appointment[data-booking-id="{declined.pk}"]')
    assert row.get_attribute("data-status") == "pending_payment"
    assert row.locator(".pay-now").count() == 1
    assert row.locator(".minutes-left").inner_text().isdigit()
    shot(page, "pending-after-decline")

    page.goto(f"/book/{refund_slot.pk}/")
    page.locator("#book-button").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/$"))
    pay(page, VISA)
    page.wait_for_url("**/appointments/")
    paid = Booking.objects.get(slot=refund_slot)
    row = page.locator(f'li.appointment[data-booking-id="{paid.pk}"]')
    assert row.get_attribute("data-status") == "confirmed"

    row.get_by_role("link", name="Cancel").click()
    page.wait_for_url(f"**/appointments/{paid.pk}/cancel/")
    assert "at least 24 hours" in page.inner_text("#refund-rule")
    assert "You will be refunded 40.00 USD." in page.inner_text("#refund-outcome")
    shot(page, "cancel-states-refund")
    page.locator("#confirm-cancel").click()
    page.wait_for_url("**/appointments/")
    assert "Refunded 40.00 USD" in page.inner_text(".messages")
    row = page.locator(f'li.appointment[data-booking-id="{paid.pk}"]')
    assert row.get_attribute("data-status") == "cancelled"
    assert "Refunded" in row.locator(".badge.payment").inner_text()
    shot(page, "cancelled-refunded")
    paid.refresh_from_db()
    assert (paid.status, paid.payment_status) == (BookingStatus.CANCELLED, PaymentStatus.REFUNDED)
    assert User.objects.filter(pk=patient.pk).exists()
    assert_no_errors(page)
