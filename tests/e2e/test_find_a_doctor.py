"""Issue 14's patient journeys at phone width (390x844) in Debian's chromium: find a doctor by
specialty, open their page, book their next free time; the home page opens on the first
date with free times and lists services without free places last. Issue 13: "Add to
calendar" downloads an .ics that icalendar parses, on My appointments and the doctor's
dashboard. With E2E_DOC_SCREENSHOTS=1 the pages are also written to docs/screenshots/14-*."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from icalendar import Calendar

from bookings.models import Booking, BookingStatus, PaymentStatus
from bookings.notifications import booking_uid
from scheduling import timefmt
from tests.e2e.helpers import sign_in, slot_link
from tests.factories import (
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_pages")]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def doc_shot(shot):
    def take(page, name: str):
        path = shot(page, name)
        if os.environ.get("E2E_DOC_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS / f"14-{name}-phone.png"), full_page=True)
        return path

    return take


def slot_in(days: int, hour: int, *, doctor, service, capacity: int = 1):
    day = timefmt.clinic_today() + timedelta(days=days)
    start = timefmt.local_to_utc(day, timezone.datetime.min.time().replace(hour=hour))
    return SlotFactory(
        doctor=doctor, service=service, start=start, end=start + timedelta(hours=1),
        capacity=capacity,
    )  # fmt: skip


def assert_clean(page):
    assert page.errors == [], page.errors
    assert "Traceback" not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def with_bio(doctor, bio: str):
    doctor.doctor_profile.bio = bio
    doctor.doctor_profile.save()
    return doctor


def test_find_a_doctor_by_specialty_open_their_page_and_book(new_page, doc_shot):
    dental = ServiceFactory(name="Teeth Cleaning")
    cardio = ServiceFactory(name="Cardiology")
    nadia = with_bio(
        DoctorFactory(name="Dr. Nadia Karim", profile__specialty=dental),
        "Gentle dentistry for children and adults; fifteen years at Dhaka Dental College.",
    )
    with_bio(
        DoctorFactory(name="Omar Faruk", profile__specialty=cardio),
        "Heart rhythm and blood pressure clinics.",
    )
    DoctorFactory(name="Lina Haque", profile__specialty=dental)  # no free times
    DoctorFactory(name="Unverified Uddin", profile__specialty=dental, profile__verified=False)
    first = slot_in(2, 10, doctor=nadia, service=dental)
    slot_in(2, 11, doctor=nadia, service=dental)
    slot_in(3, 9, doctor=nadia, service=dental, capacity=2)
    patient = PatientFactory(name="Amina Rahman")

    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.get_by_role("link", name="Doctors", exact=True).click()
    page.wait_for_url("**/doctors/")
    assert "Unverified Uddin" not in page.content()
    page.get_by_label("Specialty", exact=True).select_option(label="Teeth Cleaning")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(rf"/doctors/\?specialty={dental.pk}"))
    cards = page.locator("li.doctor-card")
    assert cards.count() == 2
    nadia_card = page.locator(f'li.doctor-card[data-doctor-id="{nadia.pk}"]')
    assert "Dr. Nadia Karim" in nadia_card.inner_text()
    assert "Dr. Dr." not in page.content()
    assert f"Next available: {timefmt.format_when(first.start)}" in nadia_card.inner_text()
    # By name, without the typed title: Lina Haque, then Dr. Nadia Karim.
    assert "Lina Haque" in cards.nth(0).inner_text()
    assert "No free times at the moment" in cards.nth(0).inner_text()
    assert_clean(page)
    doc_shot(page, "doctors-directory")

    nadia_card.get_by_role("link", name="See Dr. Nadia Karim's free times").click()
    page.wait_for_url(f"**/doctors/{nadia.pk}/")
    assert page.locator("h1").inner_text() == "Dr. Nadia Karim"
    assert timefmt.format_when(first.start) in page.inner_text("#next-available")
    assert page.locator("a.slot").count() == 3
    assert_clean(page)
    doc_shot(page, "doctor-page")

    slot_link(page, first).click()
    page.wait_for_url(f"**/book/{first.pk}/")
    assert "Dr. Nadia Karim" in page.inner_text("dl.facts")
    page.locator("#book-button").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/$"))
    booking = Booking.objects.get(patient=patient)
    assert booking.slot_id == first.pk and booking.status == BookingStatus.PENDING_PAYMENT

    # The time just held is no longer the doctor's next available one.
    page.goto(f"/doctors/{nadia.pk}/")
    assert timefmt.format_when(first.start) not in page.inner_text("#next-available")
    assert slot_link(page, first).count() == 0
    assert_clean(page)


def test_search_by_name_finds_a_doctor_whatever_the_case(new_page):
    DoctorFactory(name="Jürgen Müller", profile__specialty=ServiceFactory(name="Cardiology"))
    DoctorFactory(name="Nadia Karim")
    page = new_page(phone=True)
    page.goto("/doctors/")
    page.get_by_label("Name or specialty").fill("MÜLLER")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/doctors/?*q=*")
    assert page.locator("li.doctor-card").count() == 1
    assert "Dr. Jürgen Müller" in page.inner_text("li.doctor-card")
    assert_clean(page)


def test_home_opens_on_the_first_free_date_with_empty_services_last(new_page, doc_shot):
    doctor = DoctorFactory(name="Nadia Karim")
    ServiceFactory(name="Allergy Test")  # first by name, nothing free
    ServiceFactory(name="Blood Work")
    dental = ServiceFactory(name="Teeth Cleaning")
    free = slot_in(3, 10, doctor=doctor, service=dental)
    slot_in(5, 10, doctor=doctor, service=dental)

    page = new_page(phone=True)
    page.goto("/")
    day = timefmt.clinic_today(free.start)
    assert timefmt.format_date(day) in page.inner_text("#day-heading")
    assert "the first free times are on" in page.inner_text("#jumped")
    assert page.get_by_label("Date", exact=True).input_value() == day.isoformat()
    services = page.locator("section.service").evaluate_all(
        "els => els.map(e => e.dataset.service)"
    )
    assert services == ["Teeth Cleaning", "Allergy Test", "Blood Work"]
    assert slot_link(page, free).is_visible()
    assert_clean(page)
    doc_shot(page, "home-first-free-date")

    # The previous day, asked for, is shown as asked: nothing free, every service listed.
    page.get_by_role("link", name="Previous day").click()
    page.wait_for_url("**/?date=*")
    assert page.locator("#jumped").count() == 0
    assert page.locator("section.service").count() == 3


def confirmed(patient, doctor, service, days: int):
    slot = slot_in(days, 15, doctor=doctor, service=service)
    booking = BookingFactory(
        patient=patient,
        slot=slot,
        status=BookingStatus.CONFIRMED,
        payment_status=PaymentStatus.PAID,
        expires_at=None,
        confirmed_at=timezone.now(),
    )
    type(slot).objects.filter(pk=slot.pk).update(seats_taken=1)
    return booking


def downloaded_event(page, link):
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".ics")
    calendar = Calendar.from_ical(Path(download.path()).read_bytes())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


def assert_event_of(calendar, event, booking):
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert calendar.get("PRODID")
    assert str(event["UID"]) == booking_uid(booking)
    start = event.decoded("DTSTART")
    assert start.tzinfo is not None and start.utcoffset() is not None  # a real instant
    assert start == booking.slot.start
    assert event.decoded("DTEND") == booking.slot.end
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Dr. Tanvir Karim" in str(event["SUMMARY"]) and "Dr. Dr." not in str(event["SUMMARY"])


def test_add_to_calendar_on_my_appointments_and_the_doctors_dashboard(new_page):
    doctor = DoctorFactory(name="Dr. Tanvir Karim")
    patient = PatientFactory(name="Amina Rahman")
    booking = confirmed(patient, doctor, ServiceFactory(name="Teeth Cleaning"), days=4)

    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.goto("/appointments/")
    item = page.locator(f'li.appointment[data-booking-id="{booking.pk}"]')
    assert "Dr. Tanvir Karim" in item.inner_text() and "Dr. Dr." not in item.inner_text()
    calendar, event = downloaded_event(page, item.locator("a.add-to-calendar"))
    assert_event_of(calendar, event, booking)

    page = new_page(phone=True)
    sign_in(page, doctor.email)
    page.goto("/doctor/")
    link = page.locator(f'a.add-to-calendar[href="/appointments/{booking.pk}/calendar.ics"]')
    link.scroll_into_view_if_needed()
    calendar, event = downloaded_event(page, link)
    assert_event_of(calendar, event, booking)
