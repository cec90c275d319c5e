"""Erasure from the Django admin ("Anonymise", which replaces Django's delete) and from
the user's own "Delete my account" page: the same service, a truthful confirmation."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import DoctorProfile, User
from bookings.models import Booking, BookingStatus
from bookings.services import booking_create
from tests.accounts.erasure_helpers import future_slot
from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")
DELETE_PAGE = reverse("pages:account_delete")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_django_delete_is_gone_for_users(admin_user):
    patient = PatientFactory()
    client = signed_in(admin_user)
    assert client.get(reverse("admin:accounts_user_delete", args=[patient.pk])).status_code == 403
    changelist = client.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in changelist
    assert 'value="anonymise"' in changelist
    assert User.objects.get(pk=patient.pk).is_active


def test_anonymise_confirmation_is_truthful_then_erases_and_keeps_bookings(admin_user):
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=future_slot(DoctorFactory(), 3).pk)
    client = signed_in(admin_user)
    selection = {"action": "anonymise", "_selected_action": [patient.pk]}

    confirm = client.post(CHANGELIST, selection)
    page = confirm.content.decode()
    assert confirm.status_code == 200
    assert "will be deleted" not in page and "deleted successfully" not in page
    assert "Nothing is deleted" in page and patient.email in page
    assert User.objects.get(pk=patient.pk).is_active  # nothing done before the "yes"

    response = client.post(CHANGELIST, {**selection, "post": "yes"}, follow=True)
    assert "Anonymised 1 user(s)." in response.content.decode()
    patient.refresh_from_db()
    assert not patient.is_active and patient.email.endswith("@deleted.invalid")
    booking.refresh_from_db()
    assert booking.patient_id == patient.pk and booking.status == BookingStatus.CANCELLED
    assert booking.patient_phone == ""


def test_anonymise_skips_the_admin_themself(admin_user):
    first, second = PatientFactory(), DoctorFactory()
    response = signed_in(admin_user).post(
        CHANGELIST,
        {
            "action": "anonymise",
            "_selected_action": [first.pk, second.pk, admin_user.pk],
            "post": "yes",
        },
        follow=True,
    )
    assert "You cannot anonymise your own account." in response.content.decode()
    assert set(User.objects.filter(is_active=False).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.deleted_at is None
    assert DoctorProfile.objects.filter(user=second).exists()


def test_delete_my_account_page_says_what_happens_and_needs_the_tick():
    patient = PatientFactory()
    booking_create(patient=patient, slot_id=future_slot(DoctorFactory(), 3).pk)
    client = signed_in(patient)
    page = client.get(DELETE_PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert "1 upcoming appointment(s) or hold(s) will be cancelled" in text
    assert "<script" not in text.split("</nav>", 1)[1]  # strict CSP: no inline script

    unticked = client.post(DELETE_PAGE, {})
    assert unticked.status_code == 302
    assert User.objects.get(pk=patient.pk).is_active


def test_delete_my_account_erases_and_signs_out():
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=future_slot(DoctorFactory(), 3).pk)
    client = signed_in(patient)
    response = client.post(DELETE_PAGE, {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == reverse("pages:home")
    patient.refresh_from_db()
    assert not patient.is_active and patient.name == "Deleted user"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CANCELLED
    assert client.get(DELETE_PAGE).status_code == 302  # signed out: to the sign-in page


def test_an_admin_cannot_delete_their_own_account_from_the_page(admin_user):
    client = signed_in(admin_user)
    assert client.get(DELETE_PAGE).status_code == 403
    client.post(DELETE_PAGE, {"confirm": "yes"})
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_anonymous_is_sent_to_sign_in():
    response = Client().get(DELETE_PAGE)
    assert response.status_code == 302 and "login" in response["Location"]
