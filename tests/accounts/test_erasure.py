"""Erasure (ARCHITECTURE invariant 11): nothing personal of an erased user is left, on
the user or on any copy, and no financial record is lost."""

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core import mail

from accounts.models import DoctorProfile, User
from bookings.models import Booking, BookingStatus, PaymentStatus
from bookings.services import booking_create
from payments.models import Payment, Refund
from scheduling.models import Slot, SlotStatus
from tests.accounts.erasure_helpers import (
    future_slot,
    leftovers,
    make_past,
    paid_booking,
    personal_values,
    rows_referencing,
)
from tests.accounts.helpers import assert_error
from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def personal_patient() -> User:
    return PatientFactory(
        name="Zebulon Quartermaine",
        email="zebulon.quartermaine@example.org",
        phone="+49 30 7654321",
        image="https://img.example.org/zebulon.png",
        firebase_uid="firebase-uid-zebulon-0001",
    )


def personal_doctor() -> User:
    doctor = DoctorFactory(
        name="Philippa Ravensworth",
        email="philippa.ravensworth@example.org",
        phone="+49 40 1112223",
        image="https://img.example.org/philippa.png",
        firebase_uid="firebase-uid-philippa-0002",
    )
    DoctorProfile.objects.filter(user=doctor).update(
        license_number="LIC-RAVENSWORTH-77", bio="Ravensworth trained in Hamburg."
    )
    doctor.refresh_from_db()
    return doctor


def traces(user: User) -> None:
    """Copies that live outside the user row: a sign-in record, the admin's history."""
    AccessAttempt.objects.create(
        username=user.email, ip_address="127.0.0.1", user_agent="test", failures_since_start=1
    )
    LogEntry.objects.create(
        user=PatientFactory(),
        content_type=ContentType.objects.get_for_model(User),
        object_id=str(user.pk),
        object_repr=str(user),
        action_flag=CHANGE,
        change_message="[]",
    )


def money_snapshot():
    return (
        sorted(Payment.objects.values_list("pk", "amount", "intent_id")),
        sorted(Refund.objects.values_list("pk", "amount", "refund_id")),
    )


def test_patient_erasing_themself_leaves_nothing_personal_and_keeps_the_money(
    client_for, stripe_client, django_capture_on_commit_callbacks
):
    patient = personal_patient()
    doctor = DoctorFactory()
    past = make_past(paid_booking(client_for, patient, future_slot(doctor, 1), stripe_client))
    upcoming = paid_booking(client_for, patient, future_slot(doctor, 4), stripe_client)
    hold = booking_create(patient=patient, slot_id=future_slot(doctor, 5).pk)
    traces(patient)
    personal = personal_values(patient)
    assert "+49 30 7654321" in personal and len(personal) == 5
    payments_before, refunds_before = money_snapshot()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(patient).delete(f"/api/v1/users/{patient.pk}")

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["bookingsCancelled"] == 2
    patient.refresh_from_db()
    assert not patient.is_active and patient.deleted_at is not None
    assert patient.email.endswith("@deleted.invalid") and patient.name == "Deleted user"
    # Walk every field of every model that references the user, then everything else.
    related = rows_referencing(patient)
    assert {type(row).__name__ for row in related} >= {"Booking", "OutstandingToken"}
    for row in related:
        for field in row._meta.concrete_fields:
            value = str(field.value_from_object(row) or "")
            assert not any(p in value for p in personal), (row, field.name, value)
    assert leftovers(personal) == []
    # The future appointment: cancelled by the clinic, refunded in full at Stripe.
    upcoming.refresh_from_db()
    assert upcoming.status == BookingStatus.CANCELLED
    assert upcoming.payment_status == PaymentStatus.REFUNDED
    (refund,) = Refund.objects.filter(payment__booking=upcoming)
    assert refund.amount == upcoming.price
    (at_stripe,) = stripe_client.v1.refunds.list(
        {"payment_intent": upcoming.payment.intent_id}
    ).data
    assert at_stripe.id == refund.refund_id
    # The hold is released; the past booking and every payment are kept.
    hold.refresh_from_db()
    assert hold.status == BookingStatus.CANCELLED
    assert Slot.objects.get(pk=hold.slot_id).seats_taken == 0
    past.refresh_from_db()
    assert past.status == BookingStatus.COMPLETED and past.patient_id == patient.pk
    assert past.patient_phone == ""
    payments_after, refunds_after = money_snapshot()
    assert payments_after == payments_before
    assert set(refunds_before) <= set(refunds_after) and len(refunds_after) == 1
    # Nothing personal went out by mail either.
    for message in mail.outbox:
        assert not any(p in message.body for p in personal), message.subject


def test_erased_patient_cannot_sign_in_again(client_for):
    patient = personal_patient()
    access = client_for(patient)
    assert access.delete(f"/api/v1/users/{patient.pk}").status_code == 200
    assert access.get(f"/api/v1/users/{patient.pk}").status_code == 401


def test_admin_erasing_a_doctor_withdraws_slots_and_refunds_the_booked_patients(
    admin_user, client_for, stripe_client, django_capture_on_commit_callbacks
):
    doctor = personal_doctor()
    patient = PatientFactory()
    booked = paid_booking(client_for, patient, future_slot(doctor, 2), stripe_client)
    free = future_slot(doctor, 6)
    past = make_past(paid_booking(client_for, patient, future_slot(doctor, 1), stripe_client))
    personal = personal_values(doctor)
    payments_before, _ = money_snapshot()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).delete(f"/api/v1/users/{doctor.pk}")

    assert response.status_code == 200, response.json()
    body = response.json()["data"]
    assert (body["bookingsCancelled"], body["slotsWithdrawn"]) == (1, 2)
    booked.refresh_from_db()
    assert booked.status == BookingStatus.CANCELLED
    assert booked.payment_status == PaymentStatus.REFUNDED
    assert Refund.objects.get(payment__booking=booked).amount == booked.price
    assert set(Slot.objects.filter(pk__in=[free.pk, booked.slot_id]).values_list(
        "status", flat=True
    )) == {SlotStatus.CANCELLED}  # fmt: skip
    past.refresh_from_db()
    assert past.status == BookingStatus.COMPLETED and past.doctor_id == doctor.pk
    assert Slot.objects.get(pk=past.slot_id).status == SlotStatus.PUBLISHED
    # The booked patient is told, with the refund; the mail does not name the doctor.
    told = [m for m in mail.outbox if patient.email in m.to]
    assert told and "cancelled" in told[0].subject.lower()
    assert leftovers(personal) == []
    assert money_snapshot()[0] == payments_before
    profile = DoctorProfile.objects.get(user=doctor)
    assert (profile.license_number, profile.bio) == ("", "")


@pytest.mark.parametrize("who", ["self", "admin"])
def test_erasure_deletes_the_uploaded_photo_and_licence_document(
    who, admin_user, client_for, media_root, django_capture_on_commit_callbacks
):
    from tests.accounts.upload_helpers import image_bytes, pdf_bytes, stored_files, upload

    doctor = personal_doctor()
    response = client_for(doctor).patch(
        f"/api/v1/users/{doctor.pk}",
        {
            "photo": upload("me.jpg", image_bytes(), "image/jpeg"),
            "licenseDocument": upload("licence.pdf", pdf_bytes(), "application/pdf"),
            "licenseAuthority": "Hamburg Medical Chamber",
        },
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    doctor = User.objects.get(pk=doctor.pk)
    assert len(stored_files(media_root)) == 2
    personal = personal_values(doctor)
    assert doctor.photo.name in personal and doctor.doctor_profile.license_document.name in personal

    actor = doctor if who == "self" else admin_user
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor).delete(f"/api/v1/users/{doctor.pk}")
    assert response.status_code == 200, response.json()
    assert stored_files(media_root) == []
    doctor = User.objects.get(pk=doctor.pk)
    assert not doctor.photo and not doctor.doctor_profile.license_document
    assert doctor.doctor_profile.license_authority == ""
    for row in rows_referencing(doctor):
        for field in row._meta.concrete_fields:
            value = field.value_from_object(row)
            value = getattr(value, "name", value)
            assert not any(p in str(value or "") for p in personal), (row, field.name)
    assert leftovers(personal) == []
    assert_error(client_for(admin_user).get(f"/api/v1/users/{doctor.pk}/photo"), 404)


def test_a_rolled_back_erasure_keeps_the_files(
    admin_user, client_for, media_root, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from accounts.services import user_erase
    from tests.accounts.upload_helpers import image_bytes, stored_files, upload

    patient = personal_patient()
    client_for(patient).patch(
        f"/api/v1/users/{patient.pk}",
        {"photo": upload("me.jpg", image_bytes(), "image/jpeg")},
        format="multipart",
    )
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        user_erase(actor=admin_user, user=patient)
        raise RuntimeError("something later fails")
    assert len(stored_files(media_root)) == 1
    assert User.objects.get(pk=patient.pk).photo


def test_an_admin_cannot_erase_themself(admin_user, client_for):
    response = client_for(admin_user).delete(f"/api/v1/users/{admin_user.pk}")
    assert_error(response, 403)
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.deleted_at is None


@pytest.mark.parametrize("who", ["other_patient", "doctor", "unverified_doctor"])
def test_nobody_else_can_erase_a_patient(request, who, client_for):
    victim = personal_patient()
    response = client_for(request.getfixturevalue(who)).delete(f"/api/v1/users/{victim.pk}")
    assert_error(response, 404)
    victim.refresh_from_db()
    assert victim.is_active and victim.name == "Zebulon Quartermaine"


def test_anonymous_cannot_erase(api_client):
    victim = personal_patient()
    assert_error(api_client.delete(f"/api/v1/users/{victim.pk}"), 401)
    assert User.objects.get(pk=victim.pk).is_active


@pytest.mark.parametrize("bad", ["abc", "0", "99999999", "1.5"])
def test_bad_ids_are_a_clear_404(admin_user, client_for, bad):
    assert_error(client_for(admin_user).delete(f"/api/v1/users/{bad}"), 404)


def test_erasing_twice_is_a_404(admin_user, client_for):
    victim = PatientFactory()
    assert client_for(admin_user).delete(f"/api/v1/users/{victim.pk}").status_code == 200
    assert_error(client_for(admin_user).delete(f"/api/v1/users/{victim.pk}"), 404)


def test_a_refund_that_cannot_be_made_rolls_the_whole_erasure_back(admin_user, client_for):
    """A paid booking with no payment to refund: nothing is erased, nothing cancelled."""
    patient = personal_patient()
    booking = booking_create(patient=patient, slot_id=future_slot(DoctorFactory(), 3).pk)
    Booking.objects.filter(pk=booking.pk).update(
        status=BookingStatus.CONFIRMED, payment_status=PaymentStatus.PAID
    )
    response = client_for(admin_user).delete(f"/api/v1/users/{patient.pk}")
    assert_error(response, 409)
    patient.refresh_from_db()
    assert patient.is_active and patient.name == "Zebulon Quartermaine"
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED
