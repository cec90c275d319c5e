"""GET slot/:email (issue 16): bounded to the upcoming window appointmentOptions answers
(now to BOOKING_HORIZON_DAYS ahead), paged with `?page=&limit=` and `meta`, read in one
statement for the public answer."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import DoctorProfile
from bookings.models import BookingStatus
from doctors_portal.api.pagination import MAX_PAGE
from scheduling import timefmt
from scheduling.api import DoctorSlotsPagination
from scheduling.models import SlotStatus
from tests.factories import BookingFactory, DoctorFactory, ServiceFactory, SlotFactory

pytestmark = pytest.mark.django_db


def hour(delta: timedelta):
    return (timezone.now() + delta).replace(minute=0, second=0, microsecond=0)


def slot_in(delta: timedelta, doctor, **fields):
    start = hour(delta)
    return SlotFactory(doctor=doctor, start=start, end=start + timedelta(minutes=30), **fields)


def pairs(data) -> list[tuple[str, str]]:
    return [(day["date"], label) for day in data["docSlot"] for label in day["slot"]]


def texts(slot) -> tuple[str, str]:
    return (timefmt.format_date(slot.start), timefmt.format_label(slot.start, slot.end))


def get(client, doctor, **params):
    return client.get(f"/api/v1/slot/{doctor.email}", params)


@pytest.fixture
def service():
    return ServiceFactory(name="Window Care")


@pytest.fixture
def week(doctor, service):
    """Seven free slots, one a day from tomorrow, in start order."""
    return [slot_in(timedelta(days=1 + i, hours=2), doctor, service=service) for i in range(7)]


class TestBounded:
    def test_only_the_upcoming_window_is_listed(self, api_client, doctor, service):
        horizon = timedelta(days=settings.BOOKING_HORIZON_DAYS)
        soon = slot_in(timedelta(hours=3), doctor, service=service)
        last = slot_in(horizon - timedelta(hours=3), doctor, service=service)
        slot_in(horizon + timedelta(hours=3), doctor, service=service)  # beyond the window
        slot_in(timedelta(days=200), doctor, service=service)
        slot_in(-timedelta(hours=3), doctor, service=service)  # passed
        response = get(api_client, doctor)
        assert response.status_code == 200, response.json()
        body = response.json()
        assert pairs(body["data"]) == [texts(soon), texts(last)]
        assert body["meta"] == {"page": 1, "limit": DoctorSlotsPagination.default_limit, "total": 2}

    def test_the_same_free_slots_as_appointment_options_offers_for_the_doctor(
        self, api_client, doctor, other_doctor, service
    ):
        horizon = timedelta(days=settings.BOOKING_HORIZON_DAYS)
        for delta in (timedelta(hours=5), timedelta(days=3), horizon - timedelta(hours=2)):
            slot_in(delta, doctor, service=service)
        slot_in(horizon + timedelta(hours=2), doctor, service=service)
        full = slot_in(timedelta(days=2), doctor, service=service)
        BookingFactory(slot=full, status=BookingStatus.CONFIRMED, expires_at=None)
        full.seats_taken = 1
        full.save()
        # A lapsed unpaid hold no longer holds its seat, here as there.
        lapsed = slot_in(timedelta(days=4), doctor, service=service)
        BookingFactory(slot=lapsed, expires_at=timezone.now() - timedelta(minutes=1))
        lapsed.seats_taken = 1
        lapsed.save()
        slot_in(timedelta(days=5), doctor, service=service, status=SlotStatus.UNPUBLISHED)
        slot_in(timedelta(days=5), other_doctor, service=service)
        slot_in(timedelta(days=6), doctor, service=ServiceFactory(name="Gone", is_active=False))
        offered = [
            (slot["date"], slot["label"])
            for item in api_client.get("/api/v1/appointmentOptions").json()["data"]
            for slot in item["slots"]
            if slot["doctor"]["id"] == doctor.pk
        ]
        listed = pairs(get(api_client, doctor).json()["data"])
        assert listed == offered and len(listed) == 4


class TestPaged:
    def test_pages_in_start_order_with_meta(self, api_client, doctor, week):
        body = get(api_client, doctor, page=2, limit=3).json()
        assert pairs(body["data"]) == [texts(s) for s in week[3:6]]
        assert body["meta"] == {"page": 2, "limit": 3, "total": 7}
        last = get(api_client, doctor, page=3, limit=3).json()
        assert pairs(last["data"]) == [texts(week[6])]
        beyond = get(api_client, doctor, page=4, limit=3).json()
        assert beyond["data"] == {"docEmail": doctor.email, "docSlot": []}
        assert beyond["meta"] == {"page": 4, "limit": 3, "total": 7}

    def test_the_first_page_holds_the_whole_window_of_a_full_working_fortnight(
        self, api_client, doctor, service
    ):
        # The reference client asks without page or limit and offers what it gets: the
        # default page holds a fortnight of 9-to-5 in 15-minute slots (32 a day).
        assert DoctorSlotsPagination.default_limit >= 32 * settings.BOOKING_HORIZON_DAYS
        day = [
            SlotFactory(
                doctor=doctor,
                service=service,
                start=hour(timedelta(days=1)) + timedelta(minutes=15 * i),
                end=hour(timedelta(days=1)) + timedelta(minutes=15 * (i + 1)),
            )
            for i in range(40)
        ]
        assert pairs(get(api_client, doctor).json()["data"]) == [texts(s) for s in day]

    def test_limit_is_capped(self, api_client, doctor, week):
        body = get(api_client, doctor, limit=10**9).json()
        assert body["meta"]["limit"] == DoctorSlotsPagination.max_limit
        assert len(pairs(body["data"])) == 7

    @pytest.mark.parametrize(
        "params",
        [
            {"page": "0"},
            {"page": "-1"},
            {"page": "abc"},
            {"page": "1.5"},
            {"page": str(MAX_PAGE + 1)},
            {"page": "9" * 400},
            {"limit": "0"},
            {"limit": "x"},
        ],
    )
    def test_a_bad_page_or_limit_is_400_in_the_envelope(self, api_client, doctor, week, params):
        response = get(api_client, doctor, **params)
        assert response.status_code == 400
        body = response.json()
        assert body["success"] is False and body["message"] == "Validation Error"
        assert [e["path"] for e in body["errorMessages"]] == list(params)

    def test_the_last_allowed_page_is_an_empty_200(self, api_client, doctor, week):
        limit = DoctorSlotsPagination.max_limit
        response = get(api_client, doctor, page=MAX_PAGE, limit=limit)
        assert response.status_code == 200, response.json()
        assert response.json()["data"]["docSlot"] == []
        assert response.json()["meta"] == {"page": MAX_PAGE, "limit": limit, "total": 7}


class TestWho:
    def test_licence_rule_unverified_and_inactive(self, api_client, doctor, week):
        profile = DoctorProfile.objects.filter(user=doctor)
        today = timefmt.clinic_today(timezone.now())
        profile.update(license_expires_on=today)  # valid through today
        assert len(pairs(get(api_client, doctor).json()["data"])) == 7
        profile.update(license_expires_on=today - timedelta(days=1))
        body = get(api_client, doctor).json()
        assert body["data"] == {"docEmail": doctor.email, "docSlot": []}
        assert body["meta"]["total"] == 0
        profile.update(license_expires_on=None, is_verified=False)
        assert get(api_client, doctor).json()["data"]["docSlot"] == []
        doctor.is_active = False
        doctor.save()
        assert get(api_client, doctor).status_code == 404

    def test_unknown_or_non_doctor_email_is_404_in_the_envelope(self, api_client, patient):
        for email in ("nobody@example.com", patient.email, "x" * 300):
            response = api_client.get(f"/api/v1/slot/{email}")
            assert response.status_code == 404
            body = response.json()
            assert body["success"] is False and body["message"] == "Not Found"
            assert body["errorMessages"][0]["path"] == "email"

    def test_any_case_finds_the_doctor_and_answers_the_stored_email(self, api_client, doctor, week):
        response = api_client.get(f"/api/v1/slot/{doctor.email.upper()}")
        assert response.json()["data"]["docEmail"] == doctor.email
        empty = DoctorFactory()
        response = api_client.get(f"/api/v1/slot/{empty.email.upper()}")
        assert response.status_code == 200
        assert response.json()["data"] == {"docEmail": empty.email, "docSlot": []}

    def test_anonymous_patient_and_other_doctor_get_the_public_part_only(
        self, api_client, client_for, doctor, other_doctor, patient, week
    ):
        public = get(api_client, doctor, limit=5).json()
        for viewer in (patient, other_doctor):
            body = get(client_for(viewer), doctor, limit=5).json()
            assert body == public
        assert set(public["data"]) == {"docEmail", "docSlot"}
        assert set(public["meta"]) == {"page", "limit", "total"}

    def test_the_doctor_and_admins_also_get_their_window_of_every_status(
        self, client_for, doctor, admin_user, service, week
    ):
        hidden = slot_in(timedelta(days=2, hours=5), doctor, service=service)
        hidden.status = SlotStatus.UNPUBLISHED
        hidden.save()
        full = slot_in(timedelta(days=3, hours=5), doctor, service=service)
        BookingFactory(slot=full, status=BookingStatus.CONFIRMED, expires_at=None)
        full.seats_taken = 1
        full.save()
        horizon = timedelta(days=settings.BOOKING_HORIZON_DAYS)
        slot_in(horizon + timedelta(days=3), doctor, service=service)  # beyond the window
        mine = sorted([*week, hidden, full], key=lambda s: s.start)
        for viewer in (doctor, admin_user):
            body = get(client_for(viewer), doctor, limit=4, page=2).json()
            rows = body["data"]["slots"]
            assert [r["id"] for r in rows] == [s.pk for s in mine[4:8]]
            assert body["meta"] == {"page": 2, "limit": 4, "total": 7, "slotsTotal": 9}
            by_id = {r["id"]: r for r in get(client_for(viewer), doctor).json()["data"]["slots"]}
            assert by_id[hidden.pk]["status"] == "unpublished"
            assert (by_id[full.pk]["booked"], by_id[full.pk]["available"]) == (1, 0)
            assert by_id[week[0].pk] == {
                "id": week[0].pk,
                "_id": week[0].pk,
                "start": timefmt.local_iso(week[0].start),
                "end": timefmt.local_iso(week[0].end),
                "date": timefmt.format_date(week[0].start),
                "label": timefmt.format_label(week[0].start, week[0].end),
                "capacity": 1,
                "booked": 0,
                "available": 1,
                "status": "published",
                "serviceId": service.pk,
            }


class TestCost:
    def test_the_public_answer_is_one_statement_whatever_the_number_of_slots(
        self, api_client, doctor, service
    ):
        for count in (1, 12):
            for i in range(doctor.slots.count(), count):
                slot_in(timedelta(days=1, hours=i), doctor, service=service)
            get(api_client, doctor)  # compiled once per process
            with CaptureQueriesContext(connection) as queries:
                response = get(api_client, doctor)
            assert len(pairs(response.json()["data"])) == count
            assert len(queries) == 1, [q["sql"] for q in queries]

    def test_an_empty_page_costs_one_more_to_tell_an_empty_window_from_a_404(
        self, api_client, doctor
    ):
        get(api_client, doctor)
        with CaptureQueriesContext(connection) as queries:
            assert get(api_client, doctor).status_code == 200
        assert len(queries) == 2

    def test_the_doctors_own_view_costs_two_statements_beside_the_token_check(
        self, client_for, doctor, admin_user, week
    ):
        for viewer in (doctor, admin_user):
            client = client_for(viewer)
            get(client, doctor)
            with CaptureQueriesContext(connection) as queries:
                assert "slots" in get(client, doctor).json()["data"]
            sql = [q["sql"] for q in queries]
            pages = [q for q in sql if "scheduling_slot" in q]
            assert len(pages) == 2, sql
            # The rest is the access token's user, read by authentication.
            assert all(q.startswith('SELECT "accounts_user"') for q in sql if q not in pages), sql
            assert len(sql) == 3, sql
