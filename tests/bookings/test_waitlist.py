"""The waitlist: joining, leaving, offers held in the seat ledger, claiming, lapsing."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from accounts.credentials import clinic_today
from accounts.models import DoctorProfile, User
from accounts.services import user_erase
from bookings import services
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from doctors_portal.errors import Conflict
from doctors_portal.models import OutboxKind, OutboxMessage
from doctors_portal.outbox import outbox_deliver
from scheduling import selectors as slot_selectors
from scheduling import timefmt
from scheduling.models import Slot
from tests.bookings.waitlist_helpers import confirmed_booking, hour_slot, paid_booking, post
from tests.factories import PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return ServiceFactory(name="Consultation")


@pytest.fixture
def full_slot(doctor, service):
    slot = hour_slot(doctor, service, hours_ahead=72)
    confirmed_booking(PatientFactory(), slot)
    return slot


def join(client, body):
    return post(client, "waitlist", body)


def seats(slot) -> int:
    return Slot.objects.get(pk=slot.pk).seats_taken


def free_seats(slot, now=None) -> int:
    now = now or timezone.now()
    return slot_selectors.with_free_seats(Slot.objects.filter(pk=slot.pk), now=now).get().free_seats


def holder(slot) -> Booking:
    return Booking.objects.get(slot=slot, status=BookingStatus.CONFIRMED)


class TestJoin:
    def test_join_a_full_slot_with_place_in_line(self, client_for, patient, full_slot):
        response = join(client_for(patient), {"slotId": full_slot.pk})
        assert response.status_code == 201, response.json()
        entry = response.json()["data"]
        assert entry["status"] == "waiting" and entry["place"] == 1
        assert entry["slotId"] == full_slot.pk and entry["offer"] is None
        second = join(client_for(PatientFactory()), {"slotId": full_slot.pk}).json()["data"]
        assert second["place"] == 2
        assert join(client_for(patient), {"slotId": full_slot.pk}).status_code == 409

    @override_settings(WAITLIST_MAX_OPEN_PER_PATIENT=2)
    def test_open_entries_are_capped_per_patient(self, client_for, patient, doctor, service):
        """WAITLIST_MAX_OPEN_PER_PATIENT open entries (waiting or offered) at most: one more
        is 409 and writes nothing; leaving one makes room again; other patients unaffected."""
        slots = []
        for hours in (100, 104, 108):
            slot = hour_slot(doctor, service, hours_ahead=hours)
            confirmed_booking(PatientFactory(), slot)
            slots.append(slot)
        client = client_for(patient)
        first, second = (join(client, {"slotId": s.pk}) for s in slots[:2])
        assert first.status_code == second.status_code == 201, first.json()
        refused = join(client, {"slotId": slots[2].pk})
        assert refused.status_code == 409, refused.json()
        body = refused.json()
        assert body["success"] is False and body["message"] == "Conflict"
        assert body["errorMessages"][0]["path"] == "slotId"
        assert "2" in body["errorMessages"][0]["message"]
        by_day = join(
            client, {"doctorId": doctor.pk, "date": str(timefmt.clinic_today(slots[2].start))}
        )
        assert by_day.status_code == 409 and by_day.json()["errorMessages"][0]["path"] == "date"
        assert WaitlistEntry.objects.filter(patient=patient).count() == 2
        assert join(client_for(PatientFactory()), {"slotId": slots[2].pk}).status_code == 201
        services.waitlist_leave(entry_id=first.json()["data"]["id"], by=patient)
        assert join(client, {"slotId": slots[2].pk}).status_code == 201

    @override_settings(WAITLIST_MAX_OPEN_PER_PATIENT=1)
    def test_rejoining_at_the_cap_says_already_on_this_waitlist(
        self, client_for, patient, doctor, service
    ):
        slot = hour_slot(doctor, service, hours_ahead=100)
        confirmed_booking(PatientFactory(), slot)
        client = client_for(patient)
        assert join(client, {"slotId": slot.pk}).status_code == 201
        day = {"doctorId": doctor.pk, "date": str(timefmt.clinic_today(slot.start))}
        for body in ({"slotId": slot.pk}, day):
            if body is day:  # at the cap on the day's line instead
                WaitlistEntry.objects.filter(patient=patient).delete()
                assert join(client, day).status_code == 201
            again = join(client, body)
            assert again.status_code == 409, again.json()
            assert "already on this waitlist" in again.json()["errorMessages"][0]["message"]
        assert WaitlistEntry.objects.filter(patient=patient).count() == 1

    def test_free_slot_is_409_book_it_instead(self, client_for, patient, doctor, service):
        free = hour_slot(doctor, service, hours_ahead=80)
        response = join(client_for(patient), {"slotId": free.pk})
        assert response.status_code == 409
        assert "book" in response.json()["message"].lower() or "book" in str(response.json())
        assert not WaitlistEntry.objects.exists()

    def test_own_booking_past_and_unknown(self, client_for, doctor, service, full_slot):
        me = holder(full_slot).patient
        assert join(client_for(me), {"slotId": full_slot.pk}).status_code == 409
        past = hour_slot(doctor, service, hours_ahead=-2)
        Slot.objects.filter(pk=past.pk).update(seats_taken=1)
        assert join(client_for(PatientFactory()), {"slotId": past.pk}).status_code == 400
        assert join(client_for(PatientFactory()), {"slotId": 88_888_888}).status_code == 404

    def test_only_patients(self, client_for, api_client, doctor, admin_user, full_slot):
        assert join(api_client, {"slotId": full_slot.pk}).status_code == 401
        assert join(client_for(doctor), {"slotId": full_slot.pk}).status_code == 403
        assert join(client_for(admin_user), {"slotId": full_slot.pk}).status_code == 403
        assert not WaitlistEntry.objects.exists()

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"slotId": "x"},
            {"slotId": True},
            {"slotId": 0},
            {"slotId": 2**70},
            {"doctorId": 1},
            {"date": "2026-01-01"},
            {"doctorId": 1, "date": "nonsense"},
            {"doctorId": 1, "date": "9999-99-99"},
            {"doctorId": "x" * 5000, "date": "2026-01-01"},
            [],
        ],
    )
    def test_bad_input_is_400(self, client_for, patient, body):
        response = join(client_for(patient), body)
        assert response.status_code == 400, response.json()
        assert not WaitlistEntry.objects.exists()

    @pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "Friday, December 31, 9999"])
    def test_a_day_beyond_the_calendar_is_400(self, client_for, patient, doctor, full_slot, day):
        # An outside tester's 500: the day's bounds do not exist at the calendar's ends.
        response = join(client_for(patient), {"doctorId": doctor.pk, "date": day})
        assert response.status_code == 400, response.json()
        assert response.json()["errorMessages"][0]["path"] == "date"
        assert not WaitlistEntry.objects.exists()

    def test_a_day_the_clinic_does_not_book_is_400(self, client_for, patient, doctor, full_slot):
        for day in (clinic_today() - timedelta(days=1), clinic_today() + timedelta(days=4000)):
            response = join(client_for(patient), {"doctorId": doctor.pk, "date": day.isoformat()})
            assert response.status_code == 400, response.json()
        assert not WaitlistEntry.objects.exists()

    def test_join_a_doctors_full_day(self, client_for, patient, doctor, service, full_slot):
        day = full_slot.start.astimezone(timezone.get_current_timezone()).date()
        from scheduling import timefmt

        day = timefmt.clinic_today(full_slot.start)
        body = {"doctorId": doctor.pk, "date": day.isoformat()}
        response = join(client_for(patient), body)
        assert response.status_code == 201, response.json()
        assert response.json()["data"]["slotId"] is None
        assert response.json()["data"]["place"] == 1
        # Unknown doctor, or a day without times: 404; a day with a free time: 409.
        assert (
            join(client_for(patient), {"doctorId": 77_777, "date": day.isoformat()}).status_code
            == 404
        )
        other_day = (day + timedelta(days=5)).isoformat()
        assert (
            join(client_for(patient), {"doctorId": doctor.pk, "date": other_day}).status_code == 404
        )
        hour_slot(doctor, service, hours_ahead=24 * 6)
        free_day = timefmt.clinic_today(timezone.now() + timedelta(hours=24 * 6)).isoformat()
        assert (
            join(
                client_for(PatientFactory()), {"doctorId": doctor.pk, "date": free_day}
            ).status_code
            == 409
        )

    def test_day_entry_is_offered_a_seat_of_that_day(self, client_for, patient, doctor, full_slot):
        from scheduling import timefmt

        day = timefmt.clinic_today(full_slot.start)
        join(client_for(patient), {"doctorId": doctor.pk, "date": day.isoformat()})
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        entry = WaitlistEntry.objects.get(patient=patient)
        assert entry.status == WaitlistStatus.OFFERED and entry.offer_slot_id == full_slot.pk


class TestListLeave:
    def test_list_is_own_and_leave(self, client_for, patient, other_patient, full_slot):
        mine = join(client_for(patient), {"slotId": full_slot.pk}).json()["data"]
        join(client_for(other_patient), {"slotId": full_slot.pk})
        listed = client_for(patient).get("/api/v1/waitlist").json()["data"]
        assert [e["id"] for e in listed] == [mine["id"]]
        assert client_for(other_patient).delete(f"/api/v1/waitlist/{mine['id']}").status_code == 404
        for raw in ("abc", str(2**70), "-5", "999999"):
            assert client_for(patient).delete(f"/api/v1/waitlist/{raw}").status_code == 404
        response = client_for(patient).delete(f"/api/v1/waitlist/{mine['id']}")
        assert response.status_code == 200 and response.json()["data"]["status"] == "left"
        assert client_for(patient).delete(f"/api/v1/waitlist/{mine['id']}").status_code == 409
        theirs = client_for(other_patient).get("/api/v1/waitlist").json()["data"][0]
        assert theirs["place"] == 1

    def test_list_query_count_is_flat(
        self, client_for, patient, doctor, service, django_assert_num_queries
    ):
        for hours in range(5):
            slot = hour_slot(doctor, service, hours_ahead=100 + hours)
            paid_booking(PatientFactory(), slot)
            services.waitlist_join(patient=PatientFactory(), slot_id=slot.pk)
            services.waitlist_join(patient=patient, slot_id=slot.pk)
        client = client_for(patient)
        # The token's user, then the entries with their places in line.
        with django_assert_num_queries(2):
            rows = client.get("/api/v1/waitlist").json()["data"]
        assert [r["place"] for r in rows] == [2] * 5

    def test_anonymous_list_is_401(self, api_client):
        assert api_client.get("/api/v1/waitlist").status_code == 401
        assert api_client.delete("/api/v1/waitlist/1").status_code == 401


class TestOffers:
    def test_cancel_offers_the_seat_to_the_first_in_line_only(
        self, client_for, patient, other_patient, doctor, full_slot
    ):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        first = WaitlistEntry.objects.get(patient=patient)
        assert first.status == WaitlistStatus.OFFERED
        assert WaitlistEntry.objects.get(patient=other_patient).status == WaitlistStatus.WAITING
        assert seats(full_slot) == 1 and free_seats(full_slot) == 0
        # Nobody else can take it: not the next in line, not a stranger.
        assert (
            post(client_for(other_patient), "bookings", {"slotId": full_slot.pk}).status_code == 409
        )
        assert (
            post(client_for(PatientFactory()), "bookings", {"slotId": full_slot.pk}).status_code
            == 409
        )
        # The offered patient claims it by booking it.
        response = post(client_for(patient), "bookings", {"slotId": full_slot.pk})
        assert response.status_code == 201, response.json()
        first.refresh_from_db()
        assert (
            first.status == WaitlistStatus.CLAIMED
            and first.booking_id == response.json()["data"]["id"]
        )
        assert seats(full_slot) == 1
        listed = client_for(patient).get("/api/v1/waitlist").json()["data"][0]
        assert listed["status"] == "claimed" and listed["bookingId"] == first.booking_id

    def test_offer_mail_goes_through_the_outbox(self, patient, doctor, full_slot):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        row = OutboxMessage.objects.get(kind=OutboxKind.WAITLIST_OFFER)
        assert row.user_id == patient.pk
        mail.outbox.clear()
        assert outbox_deliver(message_id=row.pk) == "sent"
        (message,) = mail.outbox
        assert message.to == [patient.email]
        assert f"/book/{full_slot.pk}/" in message.body and "30 minutes" in message.body

    def test_offer_lapses_lazily_and_passes_down_the_line(
        self, client_for, patient, other_patient, doctor, full_slot
    ):
        now = timezone.now()
        services.waitlist_join(patient=patient, slot_id=full_slot.pk, now=now)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk, now=now)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor, now=now)
        later = now + timedelta(minutes=31)
        # Lapsed: readers count the seat as free at once, with no job run.
        assert free_seats(full_slot, now=later) == 1
        # A writer touching the slot passes it on first: a stranger's booking is 409 (the
        # seat is the next patient's; the 409 rolls that back, the next writer redoes it).
        with pytest.raises(Conflict):
            services.booking_create(patient=PatientFactory(), slot_id=full_slot.pk, now=later)
        booking = services.booking_create(patient=other_patient, slot_id=full_slot.pk, now=later)
        assert booking.status == BookingStatus.PENDING_PAYMENT
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.LAPSED
        second = WaitlistEntry.objects.get(patient=other_patient)
        assert second.status == WaitlistStatus.CLAIMED and second.booking_id == booking.pk
        assert seats(full_slot) == 1
        # Too late for the first patient.
        with pytest.raises(Conflict):
            services.booking_create(patient=patient, slot_id=full_slot.pk, now=later)

    def test_lapsed_offer_with_nobody_waiting_frees_the_seat(self, patient, doctor, full_slot):
        now = timezone.now()
        services.waitlist_join(patient=patient, slot_id=full_slot.pk, now=now)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor, now=now)
        later = now + timedelta(minutes=31)
        stranger = services.booking_create(
            patient=PatientFactory(), slot_id=full_slot.pk, now=later
        )
        assert stranger.pk and seats(full_slot) == 1

    def test_sweep_passes_lapsed_offers_on_promptly(
        self, patient, other_patient, doctor, full_slot
    ):
        now = timezone.now()
        services.waitlist_join(patient=patient, slot_id=full_slot.pk, now=now)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk, now=now)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor, now=now)
        services.booking_expire_lapsed(now=now + timedelta(minutes=31))
        assert WaitlistEntry.objects.get(patient=other_patient).status == WaitlistStatus.OFFERED
        assert OutboxMessage.objects.filter(kind=OutboxKind.WAITLIST_OFFER).count() == 2

    def test_hold_lapse_offers_the_seat(self, patient, doctor, service):
        now = timezone.now()
        slot = hour_slot(doctor, service, hours_ahead=50)
        services.booking_create(patient=PatientFactory(), slot_id=slot.pk, now=now)
        services.waitlist_join(patient=patient, slot_id=slot.pk, now=now)
        services.booking_expire_lapsed(now=now + timedelta(minutes=16))
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.OFFERED
        assert seats(slot) == 1

    def test_first_in_line_books_a_lapsed_hold_seat_taking_it_once(self, patient, doctor, service):
        # No sweep ran: the patient's own booking settles the slot (the hold given back,
        # the seat offered to the first in line: the patient), then claims that offer.
        now = timezone.now()
        slot = hour_slot(doctor, service, hours_ahead=50)
        services.booking_create(patient=PatientFactory(), slot_id=slot.pk, now=now)
        services.waitlist_join(patient=patient, slot_id=slot.pk, now=now)
        later = now + timedelta(minutes=16)
        booking = services.booking_create(patient=patient, slot_id=slot.pk, now=later)
        assert booking.status == BookingStatus.PENDING_PAYMENT
        entry = WaitlistEntry.objects.get(patient=patient)
        assert entry.status == WaitlistStatus.CLAIMED and entry.booking_id == booking.pk
        assert seats(slot) == 1

    def test_reschedule_away_offers_the_old_seat(self, patient, doctor, service, full_slot):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        elsewhere = hour_slot(doctor, service, hours_ahead=90)
        services.booking_reschedule(
            booking_id=holder(full_slot).pk, slot_id=elsewhere.pk, by=doctor
        )
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.OFFERED

    @override_settings(MAX_ACTIVE_HOLDS_PER_PATIENT=1)
    def test_hold_cap_applies_to_a_claim(self, client_for, patient, doctor, service, full_slot):
        services.booking_create(
            patient=patient, slot_id=hour_slot(doctor, service, hours_ahead=40).pk
        )
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        response = post(client_for(patient), "bookings", {"slotId": full_slot.pk})
        assert response.status_code == 409
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.OFFERED

    def test_leaving_with_an_offer_passes_it_on(
        self, client_for, patient, other_patient, doctor, full_slot
    ):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        entry = WaitlistEntry.objects.get(patient=patient)
        listed = client_for(patient).get("/api/v1/waitlist").json()["data"][0]
        assert listed["status"] == "offered" and listed["offer"]["slotId"] == full_slot.pk
        assert client_for(patient).delete(f"/api/v1/waitlist/{entry.pk}").status_code == 200
        assert WaitlistEntry.objects.get(patient=other_patient).status == WaitlistStatus.OFFERED
        assert seats(full_slot) == 1


class TestErasureAndExport:
    def test_erased_patients_entries_leave_and_offers_pass_on(
        self, admin_user, patient, other_patient, doctor, full_slot, client_for
    ):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        export = client_for(patient).get(f"/api/v1/users/{patient.pk}/export")
        assert export.status_code == 200
        body = export.json()
        body = body.get("data", body)
        assert [e["slotId"] for e in body["waitlist"]] == [full_slot.pk]
        user_erase(actor=admin_user, user=patient)
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.LEFT
        assert WaitlistEntry.objects.get(patient=other_patient).status == WaitlistStatus.OFFERED
        assert seats(full_slot) == 1

    def test_erased_doctor_closes_the_lines_of_their_slots(
        self, admin_user, patient, doctor, full_slot
    ):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        user_erase(actor=admin_user, user=doctor)
        entry = WaitlistEntry.objects.get(patient=patient)
        assert entry.status == WaitlistStatus.CLOSED
        assert seats(full_slot) == 0

    def test_an_account_erased_while_it_waited_cannot_join(self, admin_user, full_slot):
        # The user as loaded before the erasure: the patient's lock reads the row again.
        patient = PatientFactory()
        stale = User.objects.get(pk=patient.pk)
        user_erase(actor=admin_user, user=patient)
        with pytest.raises(services.AccountGone):
            services.waitlist_join(patient=stale, slot_id=full_slot.pk)
        assert not WaitlistEntry.objects.filter(patient_id=patient.pk).exists()


class TestLicence:
    def test_no_line_for_a_doctor_whose_licence_expired(
        self, client_for, patient, doctor, full_slot
    ):
        DoctorProfile.objects.filter(user=doctor).update(
            license_expires_on=clinic_today() - timedelta(days=1)
        )
        client = client_for(patient)
        by_slot = join(client, {"slotId": full_slot.pk})
        assert by_slot.status_code == 404
        assert by_slot.json()["errorMessages"][0]["path"] == "slotId"
        day = timefmt.clinic_today(full_slot.start).isoformat()
        by_day = join(client, {"doctorId": doctor.pk, "date": day})
        assert by_day.status_code == 404
        assert by_day.json()["errorMessages"][0]["path"] == "doctorId"
        assert not WaitlistEntry.objects.exists()


class TestSlotWithdrawn:
    def test_doctor_removes_a_slot_whose_seat_is_only_offered(
        self, client_for, patient, other_patient, doctor, full_slot
    ):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": full_slot.pk, "status": "cancelled"}, format="json"
        )
        assert response.status_code == 200, response.json()
        statuses = set(WaitlistEntry.objects.values_list("status", flat=True))
        assert statuses == {WaitlistStatus.CLOSED}
        assert seats(full_slot) == 0

    def test_time_off_over_a_slot_whose_seat_is_only_offered(
        self, client_for, patient, other_patient, doctor, full_slot
    ):
        # Weekly hours' withdrawal (time off, a removed rule) treats offers as the slot
        # cancel does: they hold no booking, so the slot goes and its line closes.
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        services.waitlist_join(patient=other_patient, slot_id=full_slot.pk)
        services.booking_cancel(booking_id=holder(full_slot).pk, by=doctor)
        assert seats(full_slot) == 1  # offered to the first in line
        day = timefmt.clinic_today(full_slot.start).isoformat()
        response = client_for(doctor).post(
            "/api/v1/time-off", {"start": day, "end": day}, format="json"
        )
        assert response.status_code == 201, response.json()
        assert response.json()["data"]["removed"] == 1
        assert Slot.objects.get(pk=full_slot.pk).status == "cancelled"
        statuses = set(WaitlistEntry.objects.values_list("status", flat=True))
        assert statuses == {WaitlistStatus.CLOSED}
        assert seats(full_slot) == 0

    def test_time_off_over_a_booked_slot_keeps_its_line_and_offers(
        self, client_for, patient, other_patient, doctor, service
    ):
        # Two seats: one booked, one offered. The booking refuses the time off (409), and
        # nothing changes: the offer stands, the line stays.
        slot = hour_slot(doctor, service, hours_ahead=72, capacity=2)
        confirmed_booking(PatientFactory(), slot)
        second = confirmed_booking(PatientFactory(), slot)
        services.waitlist_join(patient=patient, slot_id=slot.pk)
        services.waitlist_join(patient=other_patient, slot_id=slot.pk)
        services.booking_cancel(booking_id=second.pk, by=doctor)
        day = timefmt.clinic_today(slot.start).isoformat()
        response = client_for(doctor).post(
            "/api/v1/time-off", {"start": day, "end": day}, format="json"
        )
        assert response.status_code == 409, response.json()
        assert Slot.objects.get(pk=slot.pk).status == "published"
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.OFFERED
        assert WaitlistEntry.objects.get(patient=other_patient).status == WaitlistStatus.WAITING
        assert seats(slot) == 2

    def test_a_booked_slot_still_refuses_and_its_line_stays(
        self, client_for, patient, doctor, full_slot
    ):
        services.waitlist_join(patient=patient, slot_id=full_slot.pk)
        response = client_for(doctor).patch(
            "/api/v1/slots", {"id": full_slot.pk, "status": "cancelled"}, format="json"
        )
        assert response.status_code == 409
        assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.WAITING
