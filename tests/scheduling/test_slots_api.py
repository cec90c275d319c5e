from datetime import timedelta

import pytest

from bookings.models import BookingStatus
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus
from tests.factories import BookingFactory, ServiceFactory, SlotFactory
from tests.scheduling.helpers import clinic_day, errors, post_slots, slot_at, wordy

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _far_horizon(settings):
    # These tests publish on fixed dates years ahead (2099, chosen for its DST days); the
    # publishing horizon has its own tests (test_dates_out_of_range.py).
    settings.PUBLISH_HORIZON_DAYS = 100 * 366


@pytest.fixture
def service():
    return ServiceFactory(name="Teeth Cleaning")


class TestCreateSlots:
    def test_doctor_publishes_slots_in_reference_shape(self, client_for, doctor, service):
        day1, day2 = clinic_day(3), clinic_day(4)
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(day1), "slot": ["12.00 PM-02.00 PM", "03.00 Pm-04.00 PM"]},
            {"date": day2.isoformat(), "slot": ["12:00-14:00"]},
            service=service.name,
        )
        assert response.status_code == 201, response.json()
        data = response.json()["data"]
        assert data["docEmail"] == doctor.email
        assert data["docSlot"] == [
            {"date": wordy(day1), "slot": ["12.00 PM-02.00 PM", "03.00 PM-04.00 PM"]},
            {"date": wordy(day2), "slot": ["12.00 PM-02.00 PM"]},
        ]
        slots = list(Slot.objects.filter(doctor=doctor).order_by("start"))
        assert len(slots) == 3
        first = timefmt.label_to_interval(day1, "12.00 PM-02.00 PM")
        assert (slots[0].start, slots[0].end) == (first.start, first.end)
        assert all(s.service == service and s.capacity == 1 for s in slots)
        assert all(s.status == SlotStatus.PUBLISHED for s in slots)

    def test_trailing_slash_and_capacity_and_specialty_default(self, client_for, doctor, service):
        doctor.doctor_profile.specialty = service
        doctor.doctor_profile.save()
        response = client_for(doctor).post(
            "/api/v1/slots/",
            {"docSlot": [{"date": wordy(clinic_day(2)), "slot": ["10-12"]}], "capacity": 3},
            format="json",
        )
        assert response.status_code == 201, response.json()
        slot = Slot.objects.get(doctor=doctor)
        assert (slot.capacity, slot.service) == (3, service)

    def test_without_service_or_specialty_is_400(self, client_for, doctor):
        response = post_slots(client_for(doctor), doctor, {"date": "2099-01-01", "slot": ["10-11"]})
        assert response.status_code == 400
        assert "service" in errors(response)

    def test_unverified_doctor_is_403(self, client_for, unverified_doctor, service):
        response = post_slots(
            client_for(unverified_doctor),
            unverified_doctor,
            {"date": "2099-01-01", "slot": ["10-11"]},
            service=service.pk,
        )
        assert response.status_code == 403
        assert not Slot.objects.exists()

    def test_doctor_cannot_publish_for_another_doctor(
        self, client_for, doctor, other_doctor, service
    ):
        response = post_slots(
            client_for(doctor),
            other_doctor,
            {"date": "2099-01-01", "slot": ["10-11"]},
            service=service.pk,
        )
        assert response.status_code == 403
        assert not Slot.objects.exists()

    def test_admin_may_publish_for_a_doctor(self, client_for, admin_user, doctor, service):
        response = post_slots(
            client_for(admin_user),
            doctor,
            {"date": "2099-01-01", "slot": ["10-11"]},
            service=service.pk,
        )
        assert response.status_code == 201
        assert Slot.objects.get().doctor == doctor

    def test_anonymous_401_patient_403(self, api_client, client_for, patient, doctor, service):
        body = {"docEmail": doctor.email, "docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}]}
        assert api_client.post("/api/v1/slots", body, format="json").status_code == 401
        assert client_for(patient).post("/api/v1/slots", body, format="json").status_code == 403
        assert not Slot.objects.exists()

    def test_past_and_backwards_and_bad_labels_name_the_label(self, client_for, doctor, service):
        yesterday = clinic_day(-1)
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(yesterday), "slot": ["10.00 AM-11.00 AM"]},
            {"date": wordy(clinic_day(2)), "slot": ["04.00 PM-03.00 PM", "lunch", "09-10"]},
            service=service.pk,
        )
        assert response.status_code == 400
        body = response.json()
        assert body["message"] == "Validation Error"
        paths = errors(response)
        assert "10.00 AM-11.00 AM" in paths and "past" in paths["10.00 AM-11.00 AM"]
        assert "04.00 PM-03.00 PM" in paths
        assert "lunch" in paths
        assert "09-10" not in paths
        assert not Slot.objects.exists()  # all or nothing

    def test_overlap_with_own_slot_is_400_and_nothing_created(self, client_for, doctor, service):
        day = clinic_day(3)
        slot_at(day, "10.00 AM-12.00 PM", doctor=doctor, service=service)
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(day), "slot": ["08.00 AM-09.00 AM", "11.00 AM-01.00 PM"]},
            service=service.pk,
        )
        assert response.status_code == 400
        assert "11.00 AM-01.00 PM" in errors(response)
        assert Slot.objects.filter(doctor=doctor).count() == 1

    def test_overlap_inside_one_request_is_400(self, client_for, doctor, service):
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(clinic_day(3)), "slot": ["10:00-12:00", "11:00-13:00"]},
            service=service.pk,
        )
        assert response.status_code == 400
        assert "11:00-13:00" in errors(response)
        assert not Slot.objects.exists()

    def test_other_doctors_may_share_a_time(self, client_for, doctor, other_doctor, service):
        day = clinic_day(3)
        slot_at(day, "10:00-12:00", doctor=other_doctor, service=service)
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(day), "slot": ["10:00-12:00"]},
            service=service.pk,
        )
        assert response.status_code == 201

    def test_cancelled_slot_does_not_block_the_time(self, client_for, doctor, service):
        day = clinic_day(3)
        slot_at(day, "10:00-12:00", doctor=doctor, service=service, status=SlotStatus.CANCELLED)
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(day), "slot": ["10:00-12:00"]},
            service=service.pk,
        )
        assert response.status_code == 201

    @pytest.mark.parametrize(
        "body",
        [
            {"docSlot": "Monday"},
            {"docSlot": []},
            {"docSlot": [1, 2]},
            {"docSlot": [{"date": "2099-01-01"}]},
            {"docSlot": [{"date": "2099-01-01", "slot": [12]}]},
            {"docSlot": [{"date": "someday", "slot": ["10-11"]}]},
            {"docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}], "capacity": "three"},
            {"docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}], "capacity": 0},
            {"docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}], "service": 999999},
            {"docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}], "service": {"a": 1}},
            {"docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}], "docEmail": "nope"},
            {"docSlot": [{"date": "2099-01-01", "slot": ["10-11"]}], "status": "cancelled"},
        ],
    )
    def test_bad_input_is_4xx_envelope(self, client_for, doctor, service, body):
        body.setdefault("service", service.pk)
        response = client_for(doctor).post("/api/v1/slots", body, format="json")
        # An unknown service is 404 (an unknown id); everything else here is malformed.
        expected = 404 if body.get("service") == 999999 else 400
        assert response.status_code == expected, response.json()
        assert response.json()["success"] is False
        assert response.json()["errorMessages"]
        assert not Slot.objects.exists()

    def test_non_object_body_and_malformed_json(self, client_for, doctor):
        client = client_for(doctor)
        assert client.post("/api/v1/slots", [1, 2], format="json").status_code == 400
        response = client.post("/api/v1/slots", "{nope", content_type="application/json")
        assert response.status_code == 400
        assert response.json()["success"] is False


class TestDoctorSlots:
    def test_public_view_lists_free_bookable_future_slots(self, api_client, doctor, service):
        day = clinic_day(2)
        slot_at(day, "10:00-11:00", doctor=doctor, service=service)
        full = slot_at(day, "11:00-12:00", doctor=doctor, service=service)
        BookingFactory(slot=full, status=BookingStatus.CONFIRMED, expires_at=None)
        full.seats_taken = 1
        full.save()
        slot_at(day, "12:00-13:00", doctor=doctor, service=service, status=SlotStatus.UNPUBLISHED)
        response = api_client.get(f"/api/v1/slot/{doctor.email}")
        assert response.status_code == 200
        data = response.json()["data"]
        assert data == {
            "docEmail": doctor.email,
            "docSlot": [{"date": wordy(day), "slot": ["10.00 AM-11.00 AM"]}],
        }

    def test_doctor_and_admin_see_every_slot(self, client_for, doctor, admin_user, service):
        day = clinic_day(2)
        slot_at(day, "10:00-11:00", doctor=doctor, service=service)
        slot_at(day, "12:00-13:00", doctor=doctor, service=service, status=SlotStatus.UNPUBLISHED)
        for viewer in (doctor, admin_user):
            response = client_for(viewer).get(f"/api/v1/slot/{doctor.email.upper()}/")
            assert response.status_code == 200
            slots = response.json()["data"]["slots"]
            assert [(s["label"], s["status"], s["booked"]) for s in slots] == [
                ("10.00 AM-11.00 AM", "published", 0),
                ("12.00 PM-01.00 PM", "unpublished", 0),
            ]

    def test_other_users_do_not_get_private_slots(self, client_for, doctor, other_doctor, patient):
        SlotFactory(doctor=doctor)
        for viewer in (other_doctor, patient):
            data = client_for(viewer).get(f"/api/v1/slot/{doctor.email}").json()["data"]
            assert "slots" not in data

    def test_unknown_or_non_doctor_email_is_404(self, api_client, patient):
        assert api_client.get("/api/v1/slot/nobody@example.com").status_code == 404
        assert api_client.get(f"/api/v1/slot/{patient.email}").status_code == 404


class TestPatchSlots:
    def test_reference_post_booking_patch_changes_nothing(self, api_client, client_for, patient):
        slot = SlotFactory()
        before = list(Slot.objects.values())
        body = {"doctor": slot.doctor.email, "AppointmentDate": "Monday, June 5, 2023", "slot": "x"}
        for client in (api_client, client_for(patient)):
            for path in ("/api/v1/slot", "/api/v1/slots/"):
                response = client.patch(path, body, format="json")
                assert response.status_code == 200
                assert response.json()["success"] is True
        assert list(Slot.objects.values()) == before

    def test_add_and_remove_by_label(self, client_for, doctor, service):
        client = client_for(doctor)
        day = wordy(clinic_day(3))
        body = {"date": day, "slot": ["10:00-11:00"], "action": "add", "service": service.pk}
        response = client.patch("/api/v1/slots", body, format="json")
        assert response.status_code == 200, response.json()
        slot = Slot.objects.get(doctor=doctor)
        assert slot.status == SlotStatus.PUBLISHED
        body = {"date": day, "slot": ["10.00 AM-11.00 AM"], "action": "remove"}
        response = client.patch("/api/v1/slot/", body, format="json")
        assert response.status_code == 200, response.json()
        slot.refresh_from_db()
        assert slot.status == SlotStatus.CANCELLED

    def test_removing_a_booked_slot_is_409(self, client_for, doctor, service):
        day = clinic_day(3)
        slot = slot_at(day, "10:00-11:00", doctor=doctor, service=service)
        BookingFactory(slot=slot)  # an unexpired hold
        Slot.objects.filter(pk=slot.pk).update(seats_taken=1)
        body = {"date": wordy(day), "slot": ["10:00-11:00"], "action": "remove"}
        response = client_for(doctor).patch("/api/v1/slots", body, format="json")
        assert response.status_code == 409
        assert response.json()["message"] == "Conflict"
        slot.refresh_from_db()
        assert slot.status == SlotStatus.PUBLISHED
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": slot.pk, "status": "cancelled"}, format="json"
        )
        assert response.status_code == 409

    def test_removing_a_slot_whose_hold_lapsed_is_allowed(self, client_for, doctor, service):
        from django.utils import timezone

        day = clinic_day(3)
        slot = slot_at(day, "10:00-11:00", doctor=doctor, service=service)
        booking = BookingFactory(slot=slot, expires_at=timezone.now() - timedelta(minutes=1))
        Slot.objects.filter(pk=slot.pk).update(seats_taken=1)
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": slot.pk, "status": "cancelled"}, format="json"
        )
        assert response.status_code == 200, response.json()
        slot.refresh_from_db()
        booking.refresh_from_db()
        assert (slot.status, slot.seats_taken) == (SlotStatus.CANCELLED, 0)
        assert booking.status == BookingStatus.EXPIRED

    def test_remove_unknown_label_is_404(self, client_for, doctor):
        body = {"date": wordy(clinic_day(3)), "slot": ["10:00-11:00"], "action": "remove"}
        response = client_for(doctor).patch("/api/v1/slots", body, format="json")
        assert response.status_code == 404
        assert "10:00-11:00" in errors(response)

    def test_update_by_id(self, client_for, doctor):
        slot = SlotFactory(doctor=doctor)
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": slot.pk, "capacity": 4, "status": "unpublished"}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["data"]["capacity"] == 4
        slot.refresh_from_db()
        assert (slot.capacity, slot.status) == (4, SlotStatus.UNPUBLISHED)

    def test_capacity_below_booked_is_409(self, client_for, doctor):
        slot = SlotFactory(doctor=doctor, capacity=2)
        BookingFactory(slot=slot, status=BookingStatus.CONFIRMED)
        BookingFactory(slot=slot, status=BookingStatus.CONFIRMED)
        Slot.objects.filter(pk=slot.pk).update(seats_taken=2)
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": slot.pk, "capacity": 1}, format="json"
        )
        assert response.status_code == 409
        slot.refresh_from_db()
        assert slot.capacity == 2

    def test_another_doctors_slot_is_404_and_unchanged(self, client_for, doctor, other_doctor):
        slot = SlotFactory(doctor=other_doctor)
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": slot.pk, "capacity": 5}, format="json"
        )
        assert response.status_code == 404
        slot.refresh_from_db()
        assert slot.capacity == 1

    def test_admin_may_update_any_slot(self, client_for, admin_user):
        slot = SlotFactory()
        response = client_for(admin_user).patch(
            "/api/v1/slots", {"id": slot.pk, "capacity": 2}, format="json"
        )
        assert response.status_code == 200

    @pytest.mark.parametrize(
        "body",
        [
            {"id": "x"},
            {"id": 1, "start": "2099-01-01T00:00:00Z"},
            {"id": 1, "capacity": -1},
            {"id": 1, "status": "gone"},
            {"date": "2099-01-01", "slot": ["10-11"], "action": "swap"},
            {"date": "2099-01-01", "slot": ["10-11"]},
            {"date": "nope", "slot": ["10-11"], "action": "remove"},
        ],
    )
    def test_bad_patch_is_4xx_envelope(self, client_for, doctor, body):
        slot = SlotFactory(doctor=doctor)
        if body.get("id") == 1:
            body["id"] = slot.pk
        response = client_for(doctor).patch("/api/v1/slots", body, format="json")
        assert 400 <= response.status_code < 500
        assert response.json()["success"] is False

    def test_patch_permissions(self, api_client, client_for, patient):
        slot = SlotFactory()
        body = {"id": slot.pk, "capacity": 3}
        assert api_client.patch("/api/v1/slots", body, format="json").status_code == 401
        assert client_for(patient).patch("/api/v1/slots", body, format="json").status_code == 403


class TestDaylightSavingSlots:
    def test_slot_across_dst_change_shows_local_label_and_utc_instant(
        self, settings, client_for, doctor, service
    ):
        from datetime import UTC, datetime

        settings.CLINIC_TIME_ZONE = "America/New_York"
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": "Sunday, November 1, 2099", "slot": ["01.00 AM-03.00 AM"]},
            service=service.pk,
        )
        # 2099-11-01 is a Sunday and the autumn change in New York.
        assert response.status_code == 201, response.json()
        slot = Slot.objects.get(doctor=doctor)
        assert slot.start == datetime(2099, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT
        assert slot.end == datetime(2099, 11, 1, 8, 0, tzinfo=UTC)  # 03:00 EST
        detail = response.json()["data"]["slots"][0]
        assert detail["label"] == "01.00 AM-03.00 AM"
        assert detail["start"] == "2099-11-01T01:00:00-04:00"
        assert detail["end"] == "2099-11-01T03:00:00-05:00"

    def test_nonexistent_local_time_is_400(self, settings, client_for, doctor, service):
        settings.CLINIC_TIME_ZONE = "America/New_York"
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": "2099-03-08", "slot": ["02.30 AM-03.30 AM"]},
            service=service.pk,
        )
        assert response.status_code == 400
        assert "does not exist" in errors(response)["02.30 AM-03.30 AM"]


def test_database_constraint_overlap_becomes_400(monkeypatch, client_for, doctor):
    """Bypass the service's own check: the PostgreSQL exclusion constraint still refuses,
    and its IntegrityError is translated to a 400 naming the label. On SQLite (no such
    constraint) the service check is the guard, proven by the overlap tests above."""
    from django.db import connection

    from scheduling import services

    service = ServiceFactory(name="Oral Surgery")
    day = clinic_day(3)
    slot_at(day, "10:00-12:00", doctor=doctor, service=service)
    monkeypatch.setattr(services, "_overlap_errors", lambda **kw: {})
    response = post_slots(
        client_for(doctor),
        doctor,
        {"date": wordy(day), "slot": ["11:00-13:00"]},
        service=service.pk,
    )
    if connection.vendor == "postgresql":
        assert response.status_code == 400
        assert "11:00-13:00" in errors(response)
        assert Slot.objects.filter(doctor=doctor).count() == 1
    else:
        assert response.status_code == 201
