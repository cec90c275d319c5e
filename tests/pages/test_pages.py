"""The server-rendered pages through Django's test client: access, scoping, CSRF, messages."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from bookings.services import booking_create
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus
from tests.factories import (
    TEST_PASSWORD,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slot(doctor):
    return SlotFactory(doctor=doctor, service=ServiceFactory(name="Teeth Cleaning"))


@pytest.fixture
def booking(patient, slot):
    return booking_create(patient=patient, slot_id=slot.pk)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# Access ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("pages:my_appointments", {}),
        ("pages:doctor_dashboard", {}),
        ("pages:book", {"slot_id": 1}),
        ("pages:pay", {"pk": 1}),
        ("pages:cancel", {"pk": 1}),
    ],
)
def test_anonymous_visitor_is_sent_to_sign_in(client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('pages:login')}?next={url}"


def test_home_is_public_and_shows_free_places_price_and_zone(client, slot):
    day = timefmt.clinic_today(slot.start)
    response = client.get(reverse("pages:home"), {"date": day.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Teeth Cleaning" in html
    assert "40.00 USD" in html
    assert timefmt.format_label(slot.start, slot.end) in html
    assert "Asia/Dhaka" in html
    assert reverse("pages:book", args=[slot.pk]) in html


def test_home_with_a_bad_date_says_so_beside_the_field(client):
    response = client.get(reverse("pages:home"), {"date": "31/02/2026"})
    assert response.status_code == 400
    assert 'id="id_date_error"' in response.content.decode()


def test_service_and_doctor_pages_list_the_free_slots(client, slot):
    day = timefmt.clinic_today(slot.start)
    label = timefmt.format_label(slot.start, slot.end)
    service_page = client.get(reverse("pages:service", args=[slot.service.pk]), {"date": day})
    doctor_page = client.get(reverse("pages:doctor", args=[slot.doctor.pk]))
    assert label in service_page.content.decode()
    assert label in doctor_page.content.decode()
    assert client.get(reverse("pages:doctor", args=[PatientFactory().pk])).status_code == 404


# Another user's data is a 404 ------------------------------------------------------


@pytest.mark.parametrize("name", ["pages:pay", "pages:cancel"])
def test_another_patients_booking_is_404(name, booking, other_patient):
    response = logged_in(other_patient).get(reverse(name, args=[booking.pk]))
    assert response.status_code == 404
    assert booking.patient.name not in response.content.decode()


def test_cancelling_another_patients_booking_is_404_and_changes_nothing(booking, other_patient):
    response = logged_in(other_patient).post(reverse("pages:cancel", args=[booking.pk]))
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT


def test_my_appointments_shows_only_mine(booking, other_patient):
    mine = logged_in(booking.patient).get(reverse("pages:my_appointments")).content.decode()
    theirs = logged_in(other_patient).get(reverse("pages:my_appointments")).content.decode()
    assert f'data-booking-id="{booking.pk}"' in mine
    assert f'data-booking-id="{booking.pk}"' not in theirs


def test_doctor_dashboard_shows_only_own_patients(booking, other_doctor):
    own = logged_in(booking.doctor).get(reverse("pages:doctor_dashboard")).content.decode()
    other = logged_in(other_doctor).get(reverse("pages:doctor_dashboard")).content.decode()
    assert booking.patient.email in own
    assert booking.patient.email not in other


def test_a_patient_has_no_doctor_dashboard(patient):
    assert logged_in(patient).get(reverse("pages:doctor_dashboard")).status_code == 404


def test_a_doctor_cannot_remove_another_doctors_slot(slot, other_doctor):
    response = logged_in(other_doctor).post(reverse("pages:slot_remove", args=[slot.pk]))
    assert response.status_code == 404
    slot.refresh_from_db()
    assert slot.status == SlotStatus.PUBLISHED


# CSRF ------------------------------------------------------------------------------


def test_every_form_carries_a_csrf_token(client, patient, doctor, booking):
    pages = [
        (client, reverse("pages:login")),
        (client, reverse("pages:signup")),
        (logged_in(patient), reverse("pages:book", args=[booking.slot.pk])),
        (logged_in(booking.patient), reverse("pages:cancel", args=[booking.pk])),
        (logged_in(doctor), reverse("pages:doctor_dashboard")),
        (logged_in(booking.patient), reverse("pages:my_appointments")),
    ]
    for page_client, url in pages:
        html = page_client.get(url).content.decode()
        posts = html.count('method="post"')
        assert posts >= 1, url
        assert html.count('name="csrfmiddlewaretoken"') >= posts, url


def test_a_post_without_the_csrf_token_is_refused(patient, slot):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    response = client.post(reverse("pages:book", args=[slot.pk]), {"phone": ""})
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_sign_in_refuses_a_post_without_csrf():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("pages:login"), {"username": "x@example.com", "password": "x"})
    assert response.status_code == 403


# Booking ---------------------------------------------------------------------------


def test_booking_holds_the_seat_and_goes_to_payment(patient, slot):
    response = logged_in(patient).post(reverse("pages:book", args=[slot.pk]), {"phone": ""})
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pages:pay", args=[booking.pk])
    assert booking.patient == patient and booking.status == BookingStatus.PENDING_PAYMENT


def test_a_full_slot_says_no_longer_available_with_a_way_back(slot, booking, other_patient):
    client = logged_in(other_patient)
    day = timefmt.clinic_today(slot.start).isoformat()
    for response in (
        client.get(reverse("pages:book", args=[slot.pk])),
        client.post(reverse("pages:book", args=[slot.pk]), {"phone": ""}),
    ):
        html = response.content.decode()
        assert response.status_code == 409
        assert "no longer available" in html
        assert f"{reverse('pages:home')}?date={day}" in html
        assert "Traceback" not in html
    assert Booking.objects.count() == 1


def test_an_expired_hold_says_so_with_a_way_back(booking):
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = logged_in(booking.patient).get(reverse("pages:pay", args=[booking.pk]))
    html = response.content.decode()
    assert response.status_code == 409
    assert "hold has expired" in html
    assert reverse("pages:home") in html


def test_my_appointments_shows_the_holds_remaining_minutes(booking):
    html = logged_in(booking.patient).get(reverse("pages:my_appointments")).content.decode()
    assert 'class="minutes-left">15<' in html
    assert reverse("pages:pay", args=[booking.pk]) in html


def test_a_doctor_cannot_book(slot, other_doctor):
    response = logged_in(other_doctor).post(reverse("pages:book", args=[slot.pk]), {"phone": ""})
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_cancel_page_states_the_refund_rule_before_confirming(booking):
    html = logged_in(booking.patient).get(reverse("pages:cancel", args=[booking.pk])).content
    html = html.decode()
    assert "Refund rule" in html and "24 hours" in html
    assert "Nothing was paid, so nothing is refunded." in html


def test_cancelling_an_unpaid_hold_frees_the_seat(booking):
    response = logged_in(booking.patient).post(reverse("pages:cancel", args=[booking.pk]))
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert Slot.objects.get(pk=booking.slot_id).seats_taken == 0


# Accounts --------------------------------------------------------------------------


def test_sign_up_creates_a_patient_and_signs_them_in(client):
    response = client.post(
        reverse("pages:signup"),
        {
            "name": "Amina Rahman",
            "email": "Amina@Example.com",
            "role": Role.PATIENT,
            "password1": "a-long-unusual-pass",
            "password2": "a-long-unusual-pass",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="amina@example.com")
    assert user.role == Role.PATIENT
    assert client.get(reverse("pages:my_appointments")).status_code == 200


def test_sign_up_errors_sit_beside_their_fields(client, patient):
    response = client.post(
        reverse("pages:signup"),
        {
            "name": "Again",
            "email": patient.email,
            "role": Role.PATIENT,
            "password1": "a-long-unusual-pass",
            "password2": "a-long-unusual-pass",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_email_error"' in html and "already exists" in html


def test_nobody_signs_up_as_admin(client):
    client.post(
        reverse("pages:signup"),
        {
            "name": "Mallory",
            "email": "mallory@example.com",
            "role": Role.ADMIN,
            "password1": "a-long-unusual-pass",
            "password2": "a-long-unusual-pass",
        },
    )
    assert not User.objects.filter(email="mallory@example.com").exists()


def test_sign_in_and_out(client, patient):
    response = client.post(
        reverse("pages:login"), {"username": patient.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    assert client.post(reverse("pages:logout")).status_code == 302
    assert client.get(reverse("pages:my_appointments")).status_code == 302


def test_a_wrong_password_is_a_clear_message(client, patient):
    response = client.post(reverse("pages:login"), {"username": patient.email, "password": "no"})
    assert response.status_code == 200
    assert "email or password is not right" in response.content.decode()


def test_firebase_button_only_when_firebase_is_configured(client, settings):
    settings.FIREBASE_WEB_API_KEY = ""
    assert "Continue with Firebase" not in client.get(reverse("pages:login")).content.decode()
    settings.FIREBASE_WEB_API_KEY = "demo-key"
    assert "Continue with Firebase" in client.get(reverse("pages:login")).content.decode()


# Doctor dashboard ------------------------------------------------------------------


def test_unverified_doctor_sees_the_notice_and_cannot_publish():
    doctor = DoctorFactory(profile__verified=False)
    client = logged_in(doctor)
    assert "awaiting verification" in client.get(reverse("pages:doctor_dashboard")).content.decode()
    day = timefmt.clinic_today() + timedelta(days=2)
    response = client.post(
        reverse("pages:slot_publish"),
        {
            "date": day.isoformat(),
            "labels": "10.00 AM-11.00 AM",
            "capacity": 1,
            "service": ServiceFactory().pk,
        },
    )
    assert response.status_code == 400
    assert "not verified" in response.content.decode()
    assert not Slot.objects.exists()


def test_doctor_publishes_reference_labels_and_errors_name_the_label(doctor):
    service = ServiceFactory()
    client = logged_in(doctor)
    day = timefmt.clinic_today() + timedelta(days=3)
    ok = client.post(
        reverse("pages:slot_publish"),
        {
            "date": day.isoformat(),
            "labels": "10.00 AM-11.00 AM\n03.00 PM-04.00 PM",
            "capacity": 1,
            "service": service.pk,
        },
    )
    assert ok.status_code == 302
    assert Slot.objects.filter(doctor=doctor).count() == 2
    clash = client.post(
        reverse("pages:slot_publish"),
        {
            "date": day.isoformat(),
            "labels": "10.30 AM-11.30 AM",
            "capacity": 1,
            "service": service.pk,
        },
    )
    html = clash.content.decode()
    assert clash.status_code == 400
    assert 'id="id_labels_error"' in html and "overlaps" in html


def test_production_session_and_csrf_cookies_are_secure():
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "x" * 64,
        "STRIPE_SECRET_KEY": "sk_live_placeholder",
        "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
        "DJANGO_SETTINGS_MODULE": "doctors_portal.settings",
    }
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, "
        "settings.SESSION_COOKIE_HTTPONLY)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True", "True"]


def test_paying_after_the_hold_ran_out_charges_nothing_and_says_so(booking):
    Booking.objects.filter(pk=booking.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    from payments.models import Payment

    Payment.objects.create(
        booking=booking, intent_id="pi_never_charged", amount=booking.price, currency="usd"
    )
    response = logged_in(booking.patient).post(
        reverse("pages:pay_complete", args=[booking.pk]), {"stand_in_card": "card_x"}
    )
    assert response.status_code == 409
    assert "hold has expired" in response.content.decode()


def test_the_pay_page_of_a_confirmed_booking_goes_to_my_appointments(booking):
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CONFIRMED)
    response = logged_in(booking.patient).get(reverse("pages:pay", args=[booking.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("pages:my_appointments")
