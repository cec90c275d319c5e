"""The audit trail (ARCHITECTURE invariant 12): each kind of privileged change leaves
one entry with who (from the session or the API's bearer token), when, from and to."""

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from bookings.services import booking_create
from payments.models import Refund
from tests.accounts.erasure_helpers import future_slot, paid_booking
from tests.accounts.helpers import assert_error
from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit"


def trail(client, entity, id):
    response = client.get(AUDIT, {"entity": entity, "id": id})
    assert response.status_code == 200, response.json()
    return response.json()["data"]


def changes_of(entries, field):
    """(from/to, actor) of each update of `field`, newest first."""
    return [
        (e["changes"][field], e["actor"])
        for e in entries
        if e["action"] == "update" and field in e["changes"]
    ]


def test_role_change_is_traced_with_the_api_caller(admin_user, client_for):
    patient = PatientFactory()
    admin = client_for(admin_user)
    assert admin.patch(f"/api/v1/users/{patient.pk}", {"role": "Doctor"}).status_code == 200
    ((change, actor),) = changes_of(trail(admin, "user", patient.pk), "role")
    assert change == {"from": Role.PATIENT, "to": Role.DOCTOR}
    assert actor["id"] == admin_user.pk


def test_verification_is_traced_on_the_doctors_trail(admin_user, client_for):
    doctor = DoctorFactory(profile__verified=False)
    admin = client_for(admin_user)
    assert admin.patch(f"/api/v1/users/{doctor.pk}", {"isVerified": True}).status_code == 200
    entries = trail(admin, "user", doctor.pk)
    ((change, actor),) = changes_of(entries, "is_verified")
    assert change == {"from": "False", "to": "True"} and actor["id"] == admin_user.pk
    assert entries[0]["entity"] == "doctorProfile" and entries[0]["at"]


def test_account_state_is_traced_when_erased_from_the_admin_session(admin_user, client_for):
    patient = PatientFactory()
    session = Client()
    session.force_login(admin_user)
    session.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "anonymise", "_selected_action": [patient.pk], "post": "yes"},
    )
    ((change, actor),) = changes_of(trail(client_for(admin_user), "user", patient.pk), "is_active")
    assert change == {"from": "True", "to": "False"} and actor["id"] == admin_user.pk


def test_booking_status_payment_and_refund_are_traced(
    admin_user, client_for, stripe_client, doctor
):
    patient = PatientFactory()
    booking = paid_booking(client_for, patient, future_slot(doctor, 4), stripe_client)
    admin = client_for(admin_user)
    payment_changes = changes_of(trail(admin, "payment", booking.payment.pk), "status")
    assert {"from": "requires_payment", "to": "succeeded"} in [c for c, _ in payment_changes]
    assert all(actor["id"] == patient.pk for _, actor in payment_changes)

    cancel = client_for(doctor).post(f"/api/v1/bookings/{booking.pk}/cancel")
    assert cancel.status_code == 200, cancel.json()
    status_changes = changes_of(trail(admin, "booking", booking.pk), "status")
    assert ({"from": "confirmed", "to": "cancelled"}, status_changes[0][1]) == (
        status_changes[0][0],
        {"id": doctor.pk, "name": doctor.name, "role": Role.DOCTOR},
    )
    refund = Refund.objects.get(payment__booking=booking)
    (created,) = trail(admin, "refund", refund.pk)
    assert created["action"] == "create" and created["actor"]["id"] == doctor.pk
    assert created["changes"]["amount"]["to"] == str(refund.amount)


def test_the_trail_keeps_nothing_personal(admin_user, client_for):
    patient = PatientFactory(name="Persona Nongrata", phone="+49 30 9998887")
    booking_create(patient=patient, slot_id=future_slot(DoctorFactory(), 3).pk)
    client_for(admin_user).patch(f"/api/v1/users/{patient.pk}", {"name": "Persona Renamed"})
    for entry in LogEntry.objects.all():
        assert "Persona" not in str(entry.changes) and "9998887" not in str(entry.changes)


def test_audit_is_paginated_in_the_envelope(admin_user, client_for):
    admin = client_for(admin_user)
    for _ in range(3):
        PatientFactory()
    body = admin.get(AUDIT, {"entity": "user", "limit": 2}).json()
    assert body["success"] is True and body["meta"]["limit"] == 2
    assert body["meta"]["total"] >= 3 and len(body["data"]) == 2


@pytest.mark.parametrize("who", ["patient", "doctor", "unverified_doctor"])
def test_only_admins_read_the_trail(request, who, client_for):
    assert_error(client_for(request.getfixturevalue(who)).get(AUDIT), 403)


def test_anonymous_cannot_read_the_trail(api_client):
    assert_error(api_client.get(AUDIT), 401)


@pytest.mark.parametrize(
    "params", [{"entity": "nope"}, {"id": "x"}, {"entity": "user", "id": "1.5"}]
)
def test_bad_filters_are_a_clear_400(admin_user, client_for, params):
    assert_error(client_for(admin_user).get(AUDIT, params), 400)


def test_the_trail_is_read_only_in_the_admin(admin_user, client_for):
    client_for(admin_user).patch(f"/api/v1/users/{PatientFactory().pk}", {"role": "Doctor"})
    entry = LogEntry.objects.latest("pk")
    session = Client()
    session.force_login(admin_user)
    assert session.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
    assert (
        session.get(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403
    )
    session.post(reverse("admin:auditlog_logentry_change", args=[entry.pk]), {})
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_an_id_alone_reads_that_id_in_every_entity(admin_user, client_for):
    patient = PatientFactory()
    entries = client_for(admin_user).get(AUDIT, {"id": patient.pk}).json()["data"]
    assert any(e["entity"] == "user" and e["entityId"] == patient.pk for e in entries)
    assert client_for(admin_user).get(AUDIT, {"id": -1}).json()["data"] == []


def test_a_booking_is_traced_as_auditlog_traces_a_created_row(client_for, settings):
    """POST bookings writes the booking's create entry itself (audit.created: with the
    booking's INSERT, one statement on PostgreSQL): the entry auditlog's own receiver
    writes for a booking saved the plain way, field for field, but for the id it names,
    its time and its actor (the API caller). A duplicate ends the write with neither row."""
    from auditlog.context import set_actor

    from bookings.models import Booking

    settings.AUDITLOG_CID_GETTER = lambda: "corr-1"  # a correlation id reaches the entry too
    patient, doctor = PatientFactory(), DoctorFactory()
    slot = future_slot(doctor, 3)
    response = client_for(patient).post("/api/v1/bookings", {"slotId": slot.pk}, format="json")
    assert response.status_code == 201, response.json()
    booking = Booking.objects.get(pk=response.json()["data"]["id"])
    (entry,) = LogEntry.objects.filter(object_id=booking.pk, content_type__model="booking")

    plain = Booking.objects.get(pk=booking.pk)
    plain.pk = None
    plain.slot = future_slot(doctor, 4)
    with set_actor(patient):
        plain.save()
    (expected,) = LogEntry.objects.filter(object_id=plain.pk, content_type__model="booking")
    changes = expected.changes
    changes["slot"] = [changes["slot"][0], str(slot.pk)]  # the one field that differs
    assert entry.changes == changes
    assert (entry.object_pk, entry.object_repr) == (
        str(booking.pk),
        f"Booking #{booking.pk} (pending_payment)",
    )
    assert entry.actor_id == patient.pk and entry.actor_email == patient.email
    for field in (
        "content_type_id",
        "action",
        "serialized_data",
        "changes_text",
        "cid",
        "remote_addr",
        "remote_port",
        "additional_data",
    ):
        assert getattr(entry, field) == getattr(expected, field), field
    assert entry.cid == "corr-1"

    again = client_for(patient).post("/api/v1/bookings", {"slotId": slot.pk}, format="json")
    assert again.status_code == 409
    assert Booking.objects.filter(slot=slot).count() == 1
    assert LogEntry.objects.filter(content_type__model="booking").count() == 2
