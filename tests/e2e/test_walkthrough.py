"""Issue 17: a newcomer's walk-through of the pages and the admin, at phone width (390x844)
and laptop width (1366x900), asserting what the screen shows.

Screenshots go to test-artifacts/e2e/; with E2E_DOC_SCREENSHOTS=1 the named ones are also
written to docs/screenshots/17-*.png (the README's table).
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import DoctorProfile
from bookings.models import Booking, BookingStatus, PaymentStatus
from bookings.services import booking_create
from payments.services import payment_intent_for_booking, payment_sync
from scheduling import timefmt
from tests.e2e.conftest import LAPTOP, PHONE
from tests.e2e.helpers import DECLINED, VISA, enter_card, label_of, show_day, sign_in, slot_link
from tests.e2e.test_journeys import assert_no_errors, future_slot
from tests.factories import (
    TEST_PASSWORD,
    AdminFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
)
from tests.payments.conftest import pay_at_stripe

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_pages")]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTHS = {"phone": PHONE, "laptop": LAPTOP}


@pytest.fixture(params=list(WIDTHS))
def width(request) -> str:
    return request.param


@pytest.fixture
def screen(new_page, width):
    """A fresh browser page at the test's width."""

    def make():
        return new_page(viewport=WIDTHS[width])

    return make


@pytest.fixture
def doc_shot(shot, width):
    """A screenshot for the journey; with E2E_DOC_SCREENSHOTS=1 also docs/screenshots/17-*."""

    def take(page, name: str, *, full_page: bool = False, docs_at: tuple = ("phone",)):
        path = shot(page, f"{name}-{width}")
        if os.environ.get("E2E_DOC_SCREENSHOTS") == "1" and width in docs_at:
            DOCS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS / f"17-{name}-{width}.png"), full_page=full_page)
        return path

    return take


def no_horizontal_overflow(page, selector: str = "html") -> bool:
    return page.evaluate(
        "(s) => { const e = document.querySelector(s); return e.scrollWidth <= e.clientWidth; }",
        selector,
    )


def pay_button_enabled(page) -> bool:
    return page.locator("#pay-button").is_enabled()


# ---------------------------------------------------------------- paying


def test_every_error_on_the_pay_page_says_what_to_do_and_gives_the_button_back(screen, doc_shot):
    slot = future_slot(DoctorFactory(name="Dr. Nadia Karim"), days=2)
    patient = PatientFactory(name="Amina Rahman")
    page = screen()
    sign_in(page, patient.email)
    page.goto(f"/book/{slot.pk}/")
    page.locator("#book-button").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/$"))
    booking = Booking.objects.get(slot=slot)

    # The hints name cards that do what they say in the demo, typed as shown.
    hints = page.inner_text("#test-cards")
    assert "4242424242424242" in hints and "4000000000000341" in hints
    assert "4000000000000002" not in page.content()
    # The hold is stated once: the countdown box, no second message.
    assert page.locator(".messages").count() == 0
    assert page.get_by_text(re.compile("hold this time", re.I)).count() == 1

    # An empty card.
    page.locator("#card-element input").first.wait_for()
    page.locator("#pay-button").click()
    assert "Enter the card number" in page.inner_text("#card-errors")
    assert pay_button_enabled(page)
    doc_shot(page, "pay-empty-card")

    # No network to the payment service.
    page.route(re.compile(r"/v1/tokens"), lambda route: route.abort())
    enter_card(page, VISA)
    page.locator("#pay-button").click()
    page.wait_for_function(
        "document.getElementById('card-errors').textContent.includes('could not reach')"
    )
    assert pay_button_enabled(page)
    page.unroute(re.compile(r"/v1/tokens"))

    # The test card typed in groups, as people type it, pays.
    page.locator("#card-element input").first.wait_for()
    number = page.get_by_label("Card number", exact=True)
    number.fill("")
    number.press_sequentially("4242 4242 4242 4242")
    assert number.input_value() == "4242424242424242"
    for label, value in (("exp month", "12"), ("exp year", "34"), ("cvc", "123")):
        page.get_by_label(f"Card {label}", exact=True).fill(value)
    page.locator("#pay-button").click()
    page.wait_for_url("**/appointments/")
    notices = page.inner_text(".messages")
    assert "your appointment is confirmed" in notices
    assert f"We emailed you a confirmation at {patient.email}" in notices
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PAID,
    )
    doc_shot(page, "paid-confirmation-emailed")

    # A card the bank declines: back on the page, pending, the button usable. (Another
    # booking: localstripe cannot confirm an intent again after a declined charge.)
    other = booking_create(patient=patient, slot_id=future_slot(slot.doctor, days=3).pk)
    page.goto(f"/appointments/{other.pk}/pay/")
    enter_card(page, DECLINED)
    page.locator("#pay-button").click()
    page.wait_for_selector(".messages .message.error")
    assert "did not go through" in page.inner_text(".messages")
    assert pay_button_enabled(page)
    other.refresh_from_db()
    assert other.status == BookingStatus.PENDING_PAYMENT
    doc_shot(page, "pay-declined")
    assert_no_errors(page)


def test_a_lapsed_hold_is_said_in_the_page_and_by_the_server(screen, doc_shot):
    slot = future_slot(DoctorFactory(), days=2)
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=slot.pk)
    page = screen()
    sign_in(page, patient.email)
    page.clock.install()
    page.goto(f"/appointments/{booking.pk}/pay/")
    enter_card(page, VISA)
    page.clock.fast_forward("16:00")  # past the 15 minutes while the page is open
    page.locator("#pay-button").click()
    assert "Your hold on this time has run out" in page.inner_text("#card-errors")
    assert pay_button_enabled(page)
    doc_shot(page, "pay-hold-lapsed")

    # Reloaded after the hold really lapsed: the server says so, and charges nothing.
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    page.goto(f"/appointments/{booking.pk}/pay/")
    assert page.inner_text("h1") == "Your hold has expired"
    assert "Nothing was charged" in page.inner_text("#hold-expired")
    assert_no_errors(page)


# ---------------------------------------------------------------- booking


def test_a_signed_out_visitor_is_told_which_time_they_are_signing_up_for(screen, doc_shot):
    doctor = DoctorFactory(name="Dr. Nadia Karim")
    slot = future_slot(doctor, days=2)
    day = timefmt.clinic_today(slot.start)
    page = screen()
    show_day(page, day)
    slot_link(page, slot).click()
    page.wait_for_url(re.compile(r"/login/"))
    intent = page.inner_text("#booking-intent")
    assert f"Sign in to book {label_of(slot)}" in intent and "Dr. Nadia Karim" in intent
    doc_shot(page, "sign-in-to-book")

    page.locator("main").get_by_role("link", name="Sign up").click()
    page.wait_for_url(re.compile(r"/signup/"))
    assert "Dr. Nadia Karim" in page.inner_text("#booking-intent")
    licence = page.get_by_label("Licence number (doctors)")
    specialty = page.get_by_label("Specialty (doctors)")
    assert page.get_by_label("Patient").is_checked()
    assert licence.is_hidden() and specialty.is_hidden()
    page.get_by_label("Doctor", exact=True).check()
    assert licence.is_visible() and specialty.is_visible()
    page.get_by_label("Patient").check()
    assert licence.is_hidden()
    page.get_by_label("Full name").fill("Amina Rahman")
    page.get_by_label("Email").fill("amina@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-unusual-pass")
    page.get_by_label("Password again").fill("a-long-unusual-pass")
    doc_shot(page, "sign-up-patient-fields", full_page=True)
    page.get_by_role("button", name="Create account").click()

    page.wait_for_url(f"**/book/{slot.pk}/")
    notices = page.inner_text(".messages")
    assert "Welcome, Amina Rahman." in notices and "Pick a date" not in notices
    assert page.locator("#book-button").is_enabled()
    doc_shot(page, "booking-after-sign-up")
    assert_no_errors(page)


def test_my_appointments_upcoming_first_by_appointment_time_cancelled_apart(screen, doc_shot):
    doctor = DoctorFactory(name="Dr. Farhan Ahmed")
    service = ServiceFactory(name="Teeth Cleaning")
    patient = PatientFactory()
    # Closed first: a patient holds at most MAX_ACTIVE_HOLDS_PER_PATIENT unpaid seats.
    cancelled = booking_create(
        patient=patient, slot_id=future_slot(doctor, days=4, service=service).pk
    )
    Booking.objects.filter(pk=cancelled.pk).update(status=BookingStatus.CANCELLED)
    later = booking_create(patient=patient, slot_id=future_slot(doctor, days=6, service=service).pk)
    sooner = booking_create(
        patient=patient, slot_id=future_slot(doctor, days=2, service=service).pk
    )

    page = screen()
    sign_in(page, patient.email)
    page.goto("/appointments/")
    headings = page.locator("section.appointment-group > h2").all_inner_texts()
    assert headings == ["Upcoming", "Cancelled and expired"]
    upcoming = page.locator("#appointments-upcoming li.appointment")
    assert [upcoming.nth(i).get_attribute("data-booking-id") for i in range(2)] == [
        str(sooner.pk),
        str(later.pk),
    ]
    closed = page.locator("#appointments-closed li.appointment")
    assert closed.get_attribute("data-booking-id") == str(cancelled.pk)
    assert no_horizontal_overflow(page)
    doc_shot(page, "my-appointments-order", full_page=True)
    assert_no_errors(page)


# ---------------------------------------------------------------- everywhere


def test_an_unknown_page_shows_the_products_404_in_debug(screen, settings, doc_shot):
    settings.DEBUG = True  # as `make run`
    patient = PatientFactory()
    page = screen()
    sign_in(page, patient.email)
    for path in ("/doctor/", "/no-such-page/"):
        response = page.goto(path)
        assert response.status == 404
        assert page.inner_text("h1") == "Page not found"
        assert "URLconf" not in page.content()
        assert page.get_by_role("link", name="Back to the free times").is_visible()
    doc_shot(page, "not-found")
    icon = page.request.get("/favicon.ico")
    assert icon.status == 200 and icon.body()[:4] == b"\x00\x00\x01\x00"


# ---------------------------------------------------------------- the admin


def confirmed_booking(stripe_client, *, patient, slot) -> Booking:
    """Booked and paid at localstripe, confirmed by the same sync the API and pages use."""
    booking = booking_create(patient=patient, slot_id=slot.pk)
    payment = payment_intent_for_booking(patient=patient, booking_id=booking.pk)
    pay_at_stripe(stripe_client, payment.intent_id)
    payment_sync(intent_id=payment.intent_id, booking_id=booking.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    return booking


def admin_sign_in(page, admin) -> None:
    page.goto("/admin/login/")
    page.locator("#id_username").fill(admin.email)
    page.locator("#id_password").fill(TEST_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/")


def test_the_admin_walkthrough(screen, width, stripe_client, doc_shot):
    doctor = DoctorFactory(name="Dr. Nadia Karim")
    newcomer = DoctorFactory(
        name="Dr. Imran Hossain", profile__verified=False, profile__license_number="BMDC-4711"
    )
    patient = PatientFactory(name="Amina Rahman", email="amina.rahman@example.com")
    service = ServiceFactory(name="Teeth Cleaning")
    booking = confirmed_booking(
        stripe_client, patient=patient, slot=future_slot(doctor, days=3, service=service)
    )
    for days in (4, 5):
        booking_create(patient=PatientFactory(), slot_id=future_slot(doctor, days=days).pk)
    admin = AdminFactory(name="Admin")

    page = screen()
    admin_sign_in(page, admin)
    assert page.inner_text("#site-name") == "Doctors Portal administration"
    assert "Asia/Dhaka" in page.inner_text("#clinic-time-zone")
    index = page.inner_text("#content-main")
    assert "token" not in index.lower() and "Groups" not in index
    assert "Access attempts" in index  # unlocking an account stays possible
    doc_shot(page, "admin-index", docs_at=("laptop",))

    page.goto("/admin/bookings/booking/")
    row = page.locator("#result_list tbody tr").filter(has_text="Amina Rahman")
    local = booking.slot.start.astimezone(timefmt.clinic_tz())
    assert f"{local:%a %d %b %Y}, {label_of(booking.slot)}" in row.inner_text()
    assert "Paid" in row.inner_text() and "Confirmed" in row.inner_text()
    assert no_horizontal_overflow(page)
    if width == "laptop":  # every column in view, none scrolled off
        assert no_horizontal_overflow(page, "#changelist .results")
    doc_shot(page, "admin-bookings-list", docs_at=("phone", "laptop"))

    row.get_by_role("link", name=str(booking.pk), exact=True).click()
    page.wait_for_url(f"**/admin/bookings/booking/{booking.pk}/change/")
    assert "UTC" not in page.inner_text("#content-main")
    page.locator(".field-payment_link a").click()
    page.wait_for_url("**/admin/payments/payment/*/change/")
    page.locator(".field-booking_link a").click()
    page.wait_for_url(f"**/admin/bookings/booking/{booking.pk}/change/")
    doc_shot(page, "admin-booking-page", full_page=True, docs_at=("laptop",))

    page.locator("#cancel-booking").click()
    page.wait_for_url(f"**/admin/bookings/booking/{booking.pk}/cancel/")
    assert "the full amount is refunded" in page.inner_text("#refund")
    doc_shot(page, "admin-cancel-confirm", docs_at=("laptop",))
    page.locator("#confirm-cancel").click()
    page.wait_for_url(f"**/admin/bookings/booking/{booking.pk}/change/")
    assert f"refunded {booking.price} USD" in page.inner_text(".messagelist")
    assert page.locator(".field-refund_links a").count() == 1
    assert page.locator("#cancel-booking").count() == 0
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CANCELLED,
        PaymentStatus.REFUNDED,
    )

    page.goto("/admin/accounts/user/")
    assert "BMDC-4711" in page.locator("#result_list").inner_text()
    if width == "laptop":
        assert no_horizontal_overflow(page, "#changelist .results")
    page.locator("#result_list").get_by_role("link", name=newcomer.email).click()
    verified = page.locator("#id_doctor_profile-0-is_verified")
    assert verified.is_enabled() and not verified.is_checked()
    verified.check()
    page.locator("input[name=_continue]").click()
    page.wait_for_selector(".messagelist")
    assert "Verified" in page.inner_text(".messagelist")
    profile = DoctorProfile.objects.get(user=newcomer)
    assert profile.is_verified and profile.verified_by_id == admin.pk and profile.verified_at
    doc_shot(page, "admin-doctor-verified", docs_at=("laptop",))
    assert_no_errors(page)


def test_a_past_date_says_it_is_past(screen, doc_shot):
    page = screen()
    page.goto("/?date=2020-01-01")
    assert "Wednesday, January 1, 2020 is in the past" in page.inner_text("main")
    assert page.get_by_role("button", name="Show free places").is_enabled()
    doc_shot(page, "past-date")
    assert_no_errors(page)
