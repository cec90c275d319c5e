from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus, PaymentStatus
from scheduling import timefmt
from scheduling.models import Slot
from tests.factories import BookingFactory, DoctorFactory, PatientFactory, ServiceFactory
from tests.scheduling.helpers import clinic_day, errors, slot_at, wordy

pytestmark = pytest.mark.django_db

ROW_KEYS = {
    "id",
    "_id",
    "status",
    "isPaid",
    "paymentStatus",
    "price",
    "currency",
    "treatment",
    "doctor_email",
    "AppointmentDate",
    "slot",
    "start",
    "end",
    "expiresAt",
    "createdAt",
    "patient",
    "doctor",
    "service",
}


@pytest.fixture
def service():
    return ServiceFactory(name="Teeth Cleaning", price=Decimal("55.00"))


@pytest.fixture
def slot(doctor, service):
    return slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=doctor, service=service)


def book(client, body):
    return client.post("/api/v1/bookings", body, format="json")


def held(patient, slot):
    return booking_services.booking_create(patient=patient, slot_id=slot.pk)


def confirmed_as_paid(booking):
    """Confirmed, with the payment state payments.services derives for a paid booking."""
    booking_services.booking_confirm_paid(booking_id=booking.pk)
    Booking.objects.filter(pk=booking.pk).update(payment_status=PaymentStatus.PAID)


class TestCreate:
    def test_patient_books_by_slot_id(self, client_for, patient, slot, doctor):
        response = book(client_for(patient), {"slotId": slot.pk, "price": 1, "isPaid": True})
        assert response.status_code == 201, response.json()
        row = response.json()["data"]
        assert set(row) == ROW_KEYS
        assert row["id"] == row["_id"]
        assert row["status"] == "pending_payment"
        assert row["isPaid"] is False and row["paymentStatus"] == "unpaid"
        assert row["price"] == "55.00" and row["currency"] == "usd"
        assert row["treatment"] == "Teeth Cleaning"
        assert row["doctor_email"] == doctor.email
        assert row["AppointmentDate"] == wordy(clinic_day(2))
        assert row["slot"] == "10.00 AM-11.00 AM"
        assert row["start"].endswith("+06:00")
        assert row["patient"]["email"] == patient.email
        assert row["doctor"] == {"id": doctor.pk, "name": doctor.name, "email": doctor.email}
        booking = Booking.objects.get(pk=row["id"])
        assert booking.patient == patient and booking.price == Decimal("55.00")
        assert booking.payment_status == PaymentStatus.UNPAID
        expires = booking.expires_at - booking.created_at
        assert expires == timedelta(minutes=15)
        assert row["expiresAt"] == timefmt.local_iso(booking.expires_at)
        slot.refresh_from_db()
        assert slot.seats_taken == 1

    def test_reference_shape_resolves_the_slot(self, client_for, patient, slot, doctor):
        body = {
            "doctor_email": doctor.email.upper(),
            "AppointmentDate": wordy(clinic_day(2)),
            "slot": "10.00 am-11.00 am",
            "treatment": "teeth cleaning",
            "patient_name": "Whoever",
            "patient_email": patient.email,
            "patient_Phone": 12345,
            "price": 1,
            "patient_id": 999,
        }
        response = book(client_for(patient), body)
        assert response.status_code == 201, response.json()
        booking = Booking.objects.get()
        assert booking.slot == slot and booking.patient == patient
        assert booking.patient_phone == "12345"
        assert booking.price == Decimal("55.00")

    def test_full_slot_is_409(self, client_for, slot):
        assert book(client_for(PatientFactory()), {"slotId": slot.pk}).status_code == 201
        response = book(client_for(PatientFactory()), {"slotId": slot.pk})
        assert response.status_code == 409
        assert response.json()["message"] == "Conflict"
        assert Booking.objects.count() == 1

    def test_same_patient_twice_is_409(self, client_for, patient, doctor, service):
        slot = slot_at(clinic_day(2), "10:00-11:00", doctor=doctor, service=service, capacity=3)
        client = client_for(patient)
        assert book(client, {"slotId": slot.pk}).status_code == 201
        assert book(client, {"slotId": slot.pk}).status_code == 409
        slot.refresh_from_db()
        assert slot.seats_taken == 1

    def test_past_slot_is_400(self, client_for, patient, doctor, service):
        now = timezone.now()
        from tests.factories import SlotFactory

        past = SlotFactory(
            doctor=doctor,
            service=service,
            start=now - timedelta(hours=2),
            end=now - timedelta(hours=1),
        )
        response = book(client_for(patient), {"slotId": past.pk})
        assert response.status_code == 400
        assert not Booking.objects.exists()

    def test_doctor_and_admin_cannot_book(self, client_for, doctor, admin_user, slot):
        for user in (doctor, admin_user):
            response = book(client_for(user), {"slotId": slot.pk})
            assert response.status_code == 403
        assert not Booking.objects.exists()

    def test_anonymous_is_401(self, api_client, slot):
        assert book(api_client, {"slotId": slot.pk}).status_code == 401

    def test_unverified_doctors_slot_is_404(self, client_for, patient, service):
        slot = slot_at(
            clinic_day(2),
            "10:00-11:00",
            doctor=DoctorFactory(profile__verified=False),
            service=service,
        )
        assert book(client_for(patient), {"slotId": slot.pk}).status_code == 404

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({}, 400),
            ({"slotId": "abc"}, 400),
            ({"slotId": True}, 400),
            ({"slotId": 1.5}, 400),
            ({"slotId": -3}, 400),
            ({"slotId": 99999999}, 404),
            (
                {
                    "doctor_email": "nobody@example.com",
                    "AppointmentDate": "2099-01-01",
                    "slot": "10-11",
                },
                404,
            ),
            (
                {"doctor_email": "not-an-email", "AppointmentDate": "2099-01-01", "slot": "10-11"},
                400,
            ),
            ({"doctor_email": "DOCTOR", "AppointmentDate": "someday", "slot": "10-11"}, 400),
            ({"doctor_email": "DOCTOR", "AppointmentDate": "2099-01-01", "slot": "lunch"}, 400),
            ({"doctor_email": "DOCTOR", "AppointmentDate": "2099-01-01", "slot": "10-11"}, 404),
            ({"doctor_email": "DOCTOR", "AppointmentDate": ["x"], "slot": "10-11"}, 400),
            ({"slotId": "SLOT", "patient_email": "someone@else.com"}, 403),
            ({"slotId": "SLOT", "patient_Phone": {"n": 1}}, 400),
        ],
    )
    def test_bad_input_is_4xx_envelope(self, client_for, patient, slot, doctor, body, code):
        body = {
            k: (doctor.email if v == "DOCTOR" else slot.pk if v == "SLOT" else v)
            for k, v in body.items()
        }
        response = book(client_for(patient), body)
        assert response.status_code == code, response.json()
        assert response.json()["success"] is False and response.json()["errorMessages"]
        assert not Booking.objects.exists()

    def test_treatment_mismatch_is_400(self, client_for, patient, slot, doctor):
        body = {
            "doctor_email": doctor.email,
            "AppointmentDate": wordy(clinic_day(2)),
            "slot": "10.00 AM-11.00 AM",
            "treatment": "Oral Surgery",
        }
        response = book(client_for(patient), body)
        assert response.status_code == 400
        assert "treatment" in errors(response)

    def test_list_body_is_400(self, client_for, patient):
        assert book(client_for(patient), [1]).status_code == 400

    @pytest.mark.parametrize("slot_id", [2**63, str(2**63), 10**30])
    def test_a_slot_id_beyond_bigint_is_400_and_writes_nothing(self, client_for, patient, slot_id):
        """No database id is that large: a bad value of slotId (as waitlist's slotId says),
        not a slot that is missing."""
        response = book(client_for(patient), {"slotId": slot_id})
        assert response.status_code == 400, response.content
        assert set(errors(response)) == {"slotId"}
        assert "9223372036854775807" in response.content.decode()
        assert not Booking.objects.exists()

    def test_the_largest_bigint_slot_id_is_a_missing_slot(self, client_for, patient):
        response = book(client_for(patient), {"slotId": 2**63 - 1})
        assert response.status_code == 404, response.content

    def test_booking_is_throttled(self, monkeypatch, client_for, patient, doctor, service):
        from rest_framework.throttling import SimpleRateThrottle

        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "booking", "2/min")
        client = client_for(patient)
        codes = [book(client, {"slotId": 99999999}).status_code for _ in range(3)]
        assert codes == [404, 404, 429]


class TestRetrieve:
    def test_reference_fields(self, client_for, patient, slot, doctor):
        booking = held(patient, slot)
        response = client_for(patient).get(f"/api/v1/booking/{booking.pk}")
        assert response.status_code == 200
        data = response.json()["data"]
        assert set(data) >= ROW_KEYS
        assert data["patient_id"] == patient.pk
        assert data["patient_name"] == patient.name
        assert data["patient_email"] == patient.email
        assert data["patient_Phone"] == patient.phone
        assert data["appointmentData"] == [
            {
                "_id": booking.pk,
                "doctor_email": doctor.email,
                "treatment": "Teeth Cleaning",
                "price": "55.00",
                "AppointmentDate": wordy(clinic_day(2)),
                "slot": "10.00 AM-11.00 AM",
                "isPaid": False,
            }
        ]

    def test_who_may_see_it(
        self, api_client, client_for, patient, other_patient, slot, doctor, other_doctor, admin_user
    ):
        booking = held(patient, slot)
        path = f"/api/v1/booking/{booking.pk}/"
        assert client_for(patient).get(path).status_code == 200
        assert client_for(doctor).get(path).status_code == 200
        assert client_for(admin_user).get(path).status_code == 200
        assert client_for(other_patient).get(path).status_code == 404
        assert client_for(other_doctor).get(path).status_code == 404
        assert api_client.get(path).status_code == 401
        assert client_for(patient).get("/api/v1/booking/abc").status_code == 404
        assert client_for(patient).get("/api/v1/booking/999999").status_code == 404

    def test_lapsed_hold_reads_as_expired(self, client_for, patient, slot):
        booking = BookingFactory(
            patient=patient, slot=slot, expires_at=timezone.now() - timedelta(minutes=1)
        )
        data = client_for(patient).get(f"/api/v1/booking/{booking.pk}").json()["data"]
        assert data["status"] == "expired"


class TestPatientList:
    def test_own_document_newest_first_paginated(
        self, settings, client_for, patient, doctor, service
    ):
        settings.MAX_ACTIVE_HOLDS_PER_PATIENT = 3
        slots = [
            slot_at(clinic_day(2 + i), "10:00-11:00", doctor=doctor, service=service)
            for i in range(3)
        ]
        bookings = [
            booking_services.booking_create(
                patient=patient, slot_id=s.pk, now=timezone.now() + timedelta(seconds=i)
            )
            for i, s in enumerate(slots)
        ]
        BookingFactory()  # someone else's
        response = client_for(patient).get(f"/api/v1/bookings?email={patient.email}&limit=2")
        assert response.status_code == 200
        body = response.json()
        assert body["meta"] == {"page": 1, "limit": 2, "total": 3}
        data = body["data"]
        assert data["patient_id"] == patient.pk and data["patient_email"] == patient.email
        assert [r["id"] for r in data["appointmentData"]] == [bookings[2].pk, bookings[1].pk]
        page2 = (
            client_for(patient)
            .get(f"/api/v1/bookings/?email={patient.email}&limit=2&page=2")
            .json()
        )
        assert [r["id"] for r in page2["data"]["appointmentData"]] == [bookings[0].pk]

    def test_who_may_list(self, api_client, client_for, patient, other_patient, doctor, admin_user):
        BookingFactory(patient=patient)
        path = f"/api/v1/bookings?email={patient.email}"
        assert client_for(other_patient).get(path).status_code == 403
        assert client_for(doctor).get(path).status_code == 403
        assert api_client.get(path).status_code == 401
        response = client_for(admin_user).get(path)
        assert response.status_code == 200
        assert len(response.json()["data"]["appointmentData"]) == 1
        assert client_for(admin_user).get("/api/v1/bookings").status_code == 400
        assert client_for(patient).get("/api/v1/bookings?email=").status_code == 400
        missing = client_for(admin_user).get("/api/v1/bookings?email=nobody@example.com")
        assert missing.status_code == 404

    @pytest.mark.parametrize("query", ["page=0", "limit=abc", "page=-1"])
    def test_bad_paging_is_400(self, client_for, patient, query):
        path = f"/api/v1/bookings?email={patient.email}&{query}"
        assert client_for(patient).get(path).status_code == 400


class TestDoctorList:
    def test_rows_with_object_appointment_data_and_filters(self, client_for, doctor, service):
        day = clinic_day(2)
        a = slot_at(day, "10:00-11:00", doctor=doctor, service=service)
        b = slot_at(clinic_day(3), "10:00-11:00", doctor=doctor, service=service)
        p1, p2 = PatientFactory(), PatientFactory()
        first = held(p1, a)
        second = held(p2, b)
        Booking.objects.filter(pk=second.pk).update(
            status=BookingStatus.CONFIRMED, payment_status=PaymentStatus.PAID
        )
        BookingFactory()  # another doctor's patient
        client = client_for(doctor)
        response = client.get(f"/api/v1/booking-doctor?email={doctor.email}")
        assert response.status_code == 200
        body = response.json()
        assert body["meta"]["total"] == 2
        rows = {r["id"]: r for r in body["data"]}
        assert set(rows) == {first.pk, second.pk}
        row = rows[second.pk]
        assert row["patient_email"] == p2.email and row["patient_name"] == p2.name
        assert row["appointmentData"] == {
            "treatment": "Teeth Cleaning",
            "AppointmentDate": wordy(clinic_day(3)),
            "slot": "10.00 AM-11.00 AM",
            "price": "55.00",
            "isPaid": True,
        }
        mine = f"email={doctor.email}"
        by_date = client.get(f"/api/v1/booking-doctor/?{mine}&date={day.isoformat()}").json()
        assert [r["id"] for r in by_date["data"]] == [first.pk]
        by_wordy = client.get(f"/api/v1/booking-doctor?{mine}&date={wordy(clinic_day(3))}").json()
        assert [r["id"] for r in by_wordy["data"]] == [second.pk]
        confirmed = client.get(f"/api/v1/booking-doctor?{mine}&status=confirmed").json()
        assert [r["id"] for r in confirmed["data"]] == [second.pk]

    def test_lapsed_holds_filter_as_expired(self, client_for, doctor, slot):
        booking = BookingFactory(slot=slot, expires_at=timezone.now() - timedelta(seconds=1))
        client = client_for(doctor)
        mine = f"/api/v1/booking-doctor?email={doctor.email}"
        assert client.get(f"{mine}&status=pending_payment").json()["data"] == []
        expired = client.get(f"{mine}&status=expired").json()["data"]
        assert [r["id"] for r in expired] == [booking.pk]

    def test_doctor_never_sees_another_doctors_patients(
        self, api_client, client_for, doctor, other_doctor, patient, admin_user
    ):
        BookingFactory(slot=slot_at(clinic_day(2), "10:00-11:00", doctor=other_doctor))
        path = f"/api/v1/booking-doctor?email={other_doctor.email}"
        assert client_for(doctor).get(path).status_code == 403
        own = f"/api/v1/booking-doctor?email={doctor.email}"
        assert client_for(doctor).get(own).json()["data"] == []
        assert client_for(doctor).get("/api/v1/booking-doctor").status_code == 400
        assert client_for(patient).get(path).status_code == 403
        assert api_client.get(path).status_code == 401
        assert len(client_for(admin_user).get(path).json()["data"]) == 1

    @pytest.mark.parametrize(
        "query", ["date=someday", "status=lost", "date=2026-02-30", "date=", "status="]
    )
    def test_bad_filters_are_400(self, client_for, doctor, query):
        response = client_for(doctor).get(f"/api/v1/booking-doctor?email={doctor.email}&{query}")
        assert response.status_code == 400
        assert response.json()["success"] is False


class TestCancel:
    def test_patient_cancels_unpaid_hold(self, client_for, patient, slot):
        booking = held(patient, slot)
        response = client_for(patient).post(f"/api/v1/bookings/{booking.pk}/cancel")
        assert response.status_code == 200, response.json()
        data = response.json()["data"]
        assert data["status"] == "cancelled"
        assert data["refunded"] is False and data["refundAmount"] == "0.00"
        booking.refresh_from_db()
        slot.refresh_from_db()
        assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == patient
        assert slot.seats_taken == 0
        again = client_for(patient).post(f"/api/v1/bookings/{booking.pk}/cancel/")
        assert again.status_code == 409

    def test_doctor_cancel_of_paid_booking_refunds_in_full(
        self, monkeypatch, client_for, patient, doctor, slot
    ):
        calls = []

        def fake_refund(*, booking, amount, reason):
            calls.append((booking.pk, amount))
            return amount

        monkeypatch.setattr(booking_services, "_refund_paid_booking", fake_refund)
        booking = held(patient, slot)
        confirmed_as_paid(booking)
        response = client_for(doctor).post(f"/api/v1/bookings/{booking.pk}/cancel")
        assert response.status_code == 200, response.json()
        data = response.json()["data"]
        assert data["refunded"] is True and data["refundAmount"] == "55.00"
        assert calls == [(booking.pk, Decimal("55.00"))]

    def test_late_patient_cancel_of_paid_booking_refunds_nothing(
        self, monkeypatch, client_for, patient, doctor, service
    ):
        monkeypatch.setattr(
            booking_services, "_refund_paid_booking", lambda **kw: pytest.fail("no refund expected")
        )
        now = timezone.now()
        from tests.factories import SlotFactory

        soon = SlotFactory(
            doctor=doctor,
            service=service,
            start=now + timedelta(hours=3),
            end=now + timedelta(hours=4),
        )
        booking = held(patient, soon)
        confirmed_as_paid(booking)
        response = client_for(patient).post(f"/api/v1/bookings/{booking.pk}/cancel")
        assert response.status_code == 200
        assert response.json()["data"]["refunded"] is False
        assert "24 hours" in response.json()["data"]["refundReason"]

    def test_who_may_cancel(
        self, api_client, client_for, patient, other_patient, other_doctor, admin_user, slot
    ):
        booking = held(patient, slot)
        path = f"/api/v1/bookings/{booking.pk}/cancel"
        assert api_client.post(path).status_code == 401
        assert client_for(other_patient).post(path).status_code == 404
        assert client_for(other_doctor).post(path).status_code == 404
        assert client_for(patient).post("/api/v1/bookings/abc/cancel").status_code == 404
        booking.refresh_from_db()
        assert booking.status == BookingStatus.PENDING_PAYMENT
        assert client_for(admin_user).post(path).status_code == 200


@pytest.mark.parametrize("size", [3, 15])
def test_list_query_counts_do_not_grow(client_for, django_assert_num_queries, doctor, size):
    patient = PatientFactory()
    service = ServiceFactory(name="Teeth Cleaning")
    for i in range(size):
        BookingFactory(
            patient=patient,
            slot=slot_at(clinic_day(2), f"{i:02d}:00-{i:02d}:30", doctor=doctor, service=service),
            status=BookingStatus.CONFIRMED,
        )
    patient_client, doctor_client = client_for(patient), client_for(doctor)
    # The caller's user row, then one page with its total (a subquery of the same read).
    with django_assert_num_queries(2):
        response = patient_client.get(f"/api/v1/bookings?email={patient.email}&limit=2")
        assert response.status_code == 200
        assert response.json()["meta"]["total"] == size
    with django_assert_num_queries(2):
        response = patient_client.get(f"/api/v1/bookings?email={patient.email}&limit=100")
        assert response.status_code == 200
    with django_assert_num_queries(2):
        response = doctor_client.get(f"/api/v1/booking-doctor?email={doctor.email}&limit=100")
    assert len(response.json()["data"]) == size
    assert Slot.objects.count() == size


def test_booking_detail_is_two_queries(client_for, django_assert_num_queries, patient, doctor):
    booking = BookingFactory(
        patient=patient, slot=slot_at(clinic_day(2), "09:00-09:30", doctor=doctor)
    )
    client = client_for(patient)
    with django_assert_num_queries(2):  # the token's user, then the booking with its joins
        response = client.get(f"/api/v1/booking/{booking.pk}")
    assert response.status_code == 200
    assert response.json()["data"]["id"] == booking.pk


def test_booking_write_statements(client_for, django_assert_num_queries, patient, doctor, settings):
    """POST bookings, a first hold of a free seat with nobody waiting: the token's user;
    the write's savepoint (a transaction outside tests); the patient's lock; the slot's
    lock; one read of what the patient has on the slot and what it has to settle; the seat
    taken; the booking and its audit entry (one statement on PostgreSQL, audit.created).
    The answer's row is built from the objects in memory (selectors.booking_row_held).
    Nothing to settle, no line to close: those steps run only when that one read says so.
    (The throttle's counter in a cache of no statements, as Redis is in production: not
    the database cache.)"""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    ContentType.objects.get_for_model(Booking)  # the audit entry's type: read once a process
    slot = slot_at(clinic_day(2), "09:00-09:30", doctor=doctor)
    client = client_for(patient)
    one_statement = connection.vendor == "postgresql"  # the booking with its audit entry
    with django_assert_num_queries(8 if one_statement else 9) as captured:
        response = client.post("/api/v1/bookings", {"slotId": slot.pk}, format="json")
    assert response.status_code == 201, response.json()
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    assert statements.count("UPDATE") == 1  # seat_take, nothing released
    if one_statement:
        assert statements.count("WITH") == 1 and statements.count("INSERT") == 0
    else:
        assert statements.count("INSERT") == 2
    slot.refresh_from_db()
    assert slot.seats_taken == 1


@pytest.mark.parametrize("phone", ["", "+8801711111111"])
def test_the_answer_built_in_memory_is_the_row_read_back(client_for, patient, doctor, phone):
    """POST bookings answers from the objects it made (selectors.booking_row_held): the
    same body, byte for byte, as the row booking_row_get reads back after the commit, with
    the patient's no-shows and the booking's phone; and the same for a second hold of the
    slot after a cancellation, which keeps the first hold's end."""
    from bookings import selectors

    BookingFactory(patient=patient, status=BookingStatus.NO_SHOW)
    slot = slot_at(clinic_day(2), "09:00-09:30", doctor=doctor)
    client = client_for(patient)
    body = {"slotId": slot.pk, **({"patient_Phone": phone} if phone else {})}
    for _ in range(2):
        response = book(client, body)
        assert response.status_code == 201, response.json()
        data = response.json()["data"]
        booking = Booking.objects.get(pk=data["id"])
        row = selectors.booking_row_get(user=patient, booking_id=booking.pk)
        assert row["patient_no_shows"] == 1
        assert row["patient_phone"] == (phone or patient.phone)
        expected = client.get(f"/api/v1/booking/{booking.pk}").json()["data"]
        # The detail is the row and more, the row's fields first, in the same order.
        assert list(data) == list(expected)[: len(data)]
        assert data == {key: expected[key] for key in data}
        booking_services.booking_cancel(booking_id=booking.pk, by=patient)
    first, second = Booking.objects.filter(slot=slot).order_by("id")
    assert second.expires_at == first.expires_at


def test_the_held_row_equals_the_row_read(patient, doctor):
    """booking_row_held against booking_row_get, value for value and type for type."""
    from bookings import selectors

    slot = slot_at(clinic_day(3), "10:00-10:30", doctor=doctor)
    booking = booking_services.booking_create(patient=patient, slot_id=slot.pk)
    held_row = selectors.booking_row_held(booking=booking)
    read = selectors.booking_row_get(user=patient, booking_id=booking.pk)
    assert set(held_row) == set(read)
    assert held_row == read
    assert {k: type(v) for k, v in held_row.items()} == {k: type(v) for k, v in read.items()}
