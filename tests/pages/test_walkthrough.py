"""Issue 17, through Django's test client: what the newcomer's walk-through snagged on.
The same journeys run in a browser in tests/e2e/test_walkthrough.py."""

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.names import display_name
from bookings.models import Booking, BookingStatus
from bookings.services import booking_create
from scheduling import timefmt
from tests.factories import PatientFactory, ServiceFactory, SlotFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def slot(doctor):
    return SlotFactory(doctor=doctor, service=ServiceFactory(name="Teeth Cleaning"))


def test_favicon_is_a_real_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert 'rel="icon"' in client.get("/").content.decode()


@pytest.mark.parametrize("path", ["/doctor/", "/no-such-page/", "/appointments/999999/cancel/"])
def test_debug_shows_the_products_404_and_logs_the_detail(settings, patient, caplog, path):
    settings.DEBUG = True  # as `make run`
    with caplog.at_level(logging.INFO, logger="doctors_portal.not_found"):
        response = logged_in(patient).get(path)
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and "Back to the free times" in page
    assert "URLconf" not in page and "api/v1/" not in page  # no list of URL patterns
    assert any(path in record.getMessage() for record in caplog.records)


def test_debug_still_redirects_to_the_slashed_url_and_the_api_keeps_its_envelope(settings):
    settings.DEBUG = True
    client = Client()
    assert client.get("/doctor").status_code == 301
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.json()["success"] is False


def test_the_technical_404_comes_back_when_asked(settings, patient):
    settings.DEBUG = True
    settings.DEBUG_TECHNICAL_404 = True
    assert "URLconf" in logged_in(patient).get("/no-such-page/").content.decode()


def test_sign_in_and_sign_up_say_which_time_they_lead_to(client, slot):
    next_url = reverse("pages:book", args=[slot.pk])
    login = client.get(reverse("pages:book", args=[slot.pk]), follow=True)
    intent = f"{timefmt.format_label(slot.start, slot.end)} on {timefmt.format_date(slot.start)}"
    page = login.content.decode()
    assert f"Sign in to book {intent} with {display_name(slot.doctor)} (Teeth Cleaning)" in page
    signup = client.get(reverse("pages:signup"), {"next": next_url}).content.decode()
    assert f"Create an account to book {intent} with {display_name(slot.doctor)}" in signup
    assert "Sign in to book" not in client.get(reverse("pages:login")).content.decode()
    elsewhere = client.get(reverse("pages:login"), {"next": "/appointments/"}).content.decode()
    assert "to book" not in elsewhere


def test_signing_up_from_a_slot_does_not_say_pick_a_time(client, slot):
    next_url = reverse("pages:book", args=[slot.pk])
    response = client.post(
        reverse("pages:signup"),
        {
            "name": "Amina Rahman",
            "email": "amina@example.com",
            "role": "Patient",
            "password1": "a-long-unusual-pass",
            "password2": "a-long-unusual-pass",
            "next": next_url,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == next_url
    page = response.content.decode()
    assert "Welcome, Amina Rahman." in page and "Pick a date" not in page


def test_my_appointments_by_appointment_time_upcoming_first_closed_apart(patient, doctor):
    now = timezone.now()

    def at(days):
        return SlotFactory(doctor=doctor, start=now + timedelta(days=days, hours=1),
                           end=now + timedelta(days=days, hours=2))  # fmt: skip

    # Closed first: a patient holds at most MAX_ACTIVE_HOLDS_PER_PATIENT unpaid seats.
    cancelled = booking_create(patient=patient, slot_id=at(3).pk)
    Booking.objects.filter(pk=cancelled.pk).update(status=BookingStatus.CANCELLED)
    later = booking_create(patient=patient, slot_id=at(5).pk)
    sooner = booking_create(patient=patient, slot_id=at(2).pk)  # booked after `later`
    page = logged_in(patient).get(reverse("pages:my_appointments")).content.decode()
    order = [page.index(f'data-booking-id="{b.pk}"') for b in (sooner, later, cancelled)]
    assert order == sorted(order)
    assert page.index("Upcoming") < order[0] and order[1] < page.index("Cancelled and expired")
    assert page.index("Cancelled and expired") < order[2]


def test_the_pay_page_names_cards_that_work_and_states_the_hold_once(stripe_settings, slot):
    patient = PatientFactory()
    client = logged_in(patient)
    response = client.post(reverse("pages:book", args=[slot.pk]), {"phone": ""}, follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0].endswith("/pay/")
    assert "4242424242424242" in page and "4000000000000341" in page
    assert "4242 4242" not in page and "4000000000000002" not in page
    # The hold is said once: the countdown box, no second message above it.
    assert page.count("We hold this time for you") == 1 and "holding this time" not in page
    assert 'class="messages"' not in page
