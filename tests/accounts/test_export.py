"""`GET users/:id/export` and "Download my data": everything held about the user, and
nothing about anybody else."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from bookings.services import booking_cancel, booking_create
from payments.models import Payment, Refund
from tests.accounts.erasure_helpers import future_slot, paid_booking
from tests.accounts.helpers import assert_error
from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_patients(client_for, stripe_client, admin_user):
    """Each with a paid booking, a paid-then-refunded one and an unpaid hold."""
    doctor = DoctorFactory()
    world = {}
    for index, patient in enumerate((PatientFactory(), PatientFactory())):
        base = 2 + index * 10
        kept = paid_booking(client_for, patient, future_slot(doctor, base), stripe_client)
        refunded = paid_booking(client_for, patient, future_slot(doctor, base + 1), stripe_client)
        booking_cancel(booking_id=refunded.pk, by=admin_user)
        hold = booking_create(patient=patient, slot_id=future_slot(doctor, base + 2).pk)
        world[patient] = {kept.pk, refunded.pk, hold.pk}
    return world


def test_export_holds_every_booking_payment_and_refund_of_the_user_and_nobody_elses(
    two_patients, client_for
):
    (patient, other), (mine, theirs) = two_patients.keys(), two_patients.values()
    response = client_for(patient).get(f"/api/v1/users/{patient.pk}/export")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    document = response.json()["data"]
    assert document["profile"]["email"] == patient.email
    assert {b["id"] for b in document["bookings"]} == mine
    assert {p["id"] for p in document["payments"]} == set(
        Payment.objects.filter(booking__patient=patient).values_list("pk", flat=True)
    )
    assert len(document["payments"]) == 2
    (refund,) = document["refunds"]
    assert refund["id"] == Refund.objects.get(payment__booking__patient=patient).pk
    assert set(document) >= {"waitlist", "verificationHistory"}
    text = json.dumps(document)
    assert other.email not in text and other.name not in text
    assert not {b["id"] for b in document["bookings"]} & theirs


def test_admin_exports_anyone(two_patients, client_for, admin_user):
    patient = next(iter(two_patients))
    response = client_for(admin_user).get(f"/api/v1/users/{patient.pk}/export")
    assert response.status_code == 200
    assert response.json()["data"]["profile"]["id"] == patient.pk


def test_a_doctor_export_lists_slots_but_not_patients(client_for):
    doctor = DoctorFactory()
    patient = PatientFactory(name="Octavia Patientname")
    booking_create(patient=patient, slot_id=future_slot(doctor, 3).pk)
    document = client_for(doctor).get(f"/api/v1/users/{doctor.pk}/export").json()["data"]
    assert len(document["slots"]) == 1 and len(document["appointments"]) == 1
    assert document["bookings"] == [] and "Octavia" not in json.dumps(document)


@pytest.mark.parametrize("who", ["other_patient", "doctor", "unverified_doctor"])
def test_nobody_else_exports_a_user(request, who, patient, client_for):
    response = client_for(request.getfixturevalue(who)).get(f"/api/v1/users/{patient.pk}/export")
    assert_error(response, 404)


def test_anonymous_and_bad_ids(api_client, patient, admin_user, client_for):
    assert_error(api_client.get(f"/api/v1/users/{patient.pk}/export"), 401)
    for bad in ("abc", "0", "99999999"):
        assert_error(client_for(admin_user).get(f"/api/v1/users/{bad}/export"), 404)


def test_download_my_data_page(patient):
    client = Client()
    client.force_login(patient)
    page = client.get(reverse("pages:account_data"))
    assert page.status_code == 200 and "Download my data" in page.content.decode()
    download = client.get(reverse("pages:account_data"), {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment;")
    assert json.loads(download.content)["profile"]["id"] == patient.pk
    assert Client().get(reverse("pages:account_data")).status_code == 302


def test_a_doctors_export_has_the_credentials_and_the_verification_history(admin_user):
    from accounts.models import DoctorProfile
    from accounts.services import doctor_set_verification
    from tests.conftest import bearer_client
    from tests.factories import DoctorFactory

    doctor = DoctorFactory(profile__verified=False)
    DoctorProfile.objects.filter(user=doctor).update(
        license_number="EXP-4242",
        license_authority="State Medical Board",
        license_expires_on="2031-01-31",
        license_document="licences/abc.pdf",
    )
    doctor_set_verification(actor=admin_user, doctor=doctor, verified=True, reason="Register ok")
    document = bearer_client(doctor).get(f"/api/v1/users/{doctor.pk}/export").json()["data"]
    profile = document["profile"]
    assert profile["licenseNumber"] == "EXP-4242"
    assert profile["licenseAuthority"] == "State Medical Board"
    assert profile["licenseExpiresOn"] == "2031-01-31"
    assert profile["licenseDocument"] == f"/api/v1/users/{doctor.pk}/licence-document"
    ((event,),) = [document["verificationHistory"]]
    assert event["verified"] is True and event["reason"] == "Register ok"
    assert event["by"]["id"] == admin_user.pk
