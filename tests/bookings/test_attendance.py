"""POST bookings/:id/attendance and the patient's no-show count in staff rows."""

import pytest
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus
from scheduling.models import Slot
from tests.bookings.waitlist_helpers import hour_slot, paid_booking, post
from tests.factories import BookingFactory, DoctorFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return ServiceFactory(name="Consultation")


def started_booking(patient, doctor, service, *, hours_ago=1):
    """A confirmed booking whose slot began `hours_ago` hours ago."""
    slot = hour_slot(doctor, service, hours_ahead=-hours_ago)
    Slot.objects.filter(pk=slot.pk).update(seats_taken=1)
    return BookingFactory(
        patient=patient, slot=slot, status=BookingStatus.CONFIRMED, confirmed_at=timezone.now()
    )


def mark(client, booking, status):
    return post(client, f"bookings/{booking.pk}/attendance", {"status": status})


class TestAttendance:
    @pytest.mark.parametrize("status", ["completed", "no_show"])
    def test_doctor_marks_a_started_confirmed_booking(
        self, client_for, patient, doctor, service, status
    ):
        booking = started_booking(patient, doctor, service)
        response = mark(client_for(doctor), booking, status)
        assert response.status_code == 200, response.json()
        assert response.json()["data"]["status"] == status
        booking.refresh_from_db()
        assert booking.status == status
        assert Slot.objects.get(pk=booking.slot_id).seats_taken == 0

    def test_admin_may_mark(self, client_for, patient, doctor, admin_user, service):
        booking = started_booking(patient, doctor, service)
        assert mark(client_for(admin_user), booking, "no_show").status_code == 200

    def test_who_may_not(
        self, client_for, api_client, patient, other_patient, doctor, other_doctor, service
    ):
        booking = started_booking(patient, doctor, service)
        assert mark(api_client, booking, "completed").status_code == 401
        assert mark(client_for(patient), booking, "completed").status_code == 403
        assert mark(client_for(other_patient), booking, "completed").status_code == 404
        assert mark(client_for(other_doctor), booking, "completed").status_code == 404
        unverified = DoctorFactory(profile__verified=False)
        assert mark(client_for(unverified), booking, "completed").status_code == 404
        assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED

    def test_not_started_or_not_confirmed_is_409(self, client_for, patient, doctor, service):
        future = paid_booking(patient, hour_slot(doctor, service, hours_ahead=30))
        assert mark(client_for(doctor), future, "completed").status_code == 409
        held = services.booking_create(
            patient=patient, slot_id=hour_slot(doctor, service, hours_ahead=40).pk
        )
        assert mark(client_for(doctor), held, "no_show").status_code == 409
        done = started_booking(patient, doctor, service, hours_ago=3)
        assert mark(client_for(doctor), done, "completed").status_code == 200
        assert mark(client_for(doctor), done, "no_show").status_code == 409
        assert Booking.objects.get(pk=done.pk).status == BookingStatus.COMPLETED

    @pytest.mark.parametrize(
        "body",
        [{}, {"status": "cancelled"}, {"status": ""}, {"status": 1}, {"status": "x" * 10_000}, []],
    )
    def test_bad_input_is_400(self, client_for, patient, doctor, service, body):
        booking = started_booking(patient, doctor, service)
        response = post(client_for(doctor), f"bookings/{booking.pk}/attendance", body)
        assert response.status_code == 400
        assert Booking.objects.get(pk=booking.pk).status == BookingStatus.CONFIRMED

    def test_unknown_or_huge_ids_are_404(self, client_for, doctor):
        for raw in ("999999", "abc", str(2**70), "-1"):
            response = post(client_for(doctor), f"bookings/{raw}/attendance", {"status": "no_show"})
            assert response.status_code == 404, raw


class TestNoShowCount:
    def test_in_doctor_and_admin_rows_with_flat_queries(
        self, client_for, patient, doctor, admin_user, service, django_assert_max_num_queries
    ):
        for hours_ago in (5, 3):
            booking = started_booking(patient, doctor, service, hours_ago=hours_ago)
            services.booking_attendance_set(
                booking_id=booking.pk, status=BookingStatus.NO_SHOW, by=doctor
            )
        upcoming = paid_booking(patient, hour_slot(doctor, service, hours_ahead=30))
        client = client_for(doctor)
        with django_assert_max_num_queries(4):
            response = client.get(f"/api/v1/booking-doctor?email={doctor.email}")
        rows = response.json()["data"]
        assert {row["patient"]["noShows"] for row in rows} == {2}
        # More bookings of more patients: the same number of statements.
        for _ in range(5):
            from tests.factories import PatientFactory

            paid_booking(PatientFactory(), hour_slot(doctor, service, hours_ahead=60 + _))
        with django_assert_max_num_queries(4):
            response = client.get(f"/api/v1/booking-doctor?email={doctor.email}")
        counts = sorted(row["patient"]["noShows"] for row in response.json()["data"])
        assert counts == [0, 0, 0, 0, 0, 2, 2, 2]
        detail = client_for(admin_user).get(f"/api/v1/booking/{upcoming.pk}").json()["data"]
        assert detail["patient"]["noShows"] == 2


def test_attendance_and_reschedule_are_in_the_audit_trail(
    client_for, patient, doctor, admin_user, service
):
    booking = started_booking(patient, doctor, service)
    assert mark(client_for(doctor), booking, "no_show").status_code == 200
    old = hour_slot(doctor, service, hours_ahead=50)
    new = hour_slot(doctor, service, hours_ahead=52)
    moved = paid_booking(patient, old)
    response = post(client_for(doctor), f"bookings/{moved.pk}/reschedule", {"slotId": new.pk})
    assert response.status_code == 200

    def changes(booking_id, field):
        entries = (
            client_for(admin_user)
            .get("/api/v1/audit", {"entity": "booking", "id": booking_id})
            .json()["data"]
        )
        return [
            (e["changes"][field], e["actor"])
            for e in entries
            if e["action"] == "update" and field in e["changes"]
        ]

    ((status_change, actor),) = changes(booking.pk, "status")
    assert status_change == {"from": "confirmed", "to": "no_show"}, status_change
    assert actor["id"] == doctor.pk, actor
    ((slot_change, actor),) = changes(moved.pk, "slot")
    assert slot_change == {"from": str(old.pk), "to": str(new.pk)}, slot_change
    assert actor["id"] == doctor.pk, actor


def test_an_attended_appointment_stays_in_the_calendar_feed(patient, doctor, service):
    from calendars.selectors import calendar_bookings

    booking = started_booking(patient, doctor, service)
    services.booking_attendance_set(
        booking_id=booking.pk, status=BookingStatus.COMPLETED, by=doctor
    )
    assert [b.pk for b in calendar_bookings(user=patient)] == [booking.pk]
    assert [b.pk for b in calendar_bookings(user=doctor)] == [booking.pk]
