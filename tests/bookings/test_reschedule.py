"""POST bookings/:id/reschedule: who, when, where to, and what the ledger and mails say."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from icalendar import Calendar

from accounts.credentials import clinic_today
from accounts.models import DoctorProfile
from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.notifications import notify_reminders_due
from doctors_portal.models import OutboxKind, OutboxMessage, OutboxStatus
from doctors_portal.outbox import outbox_deliver
from scheduling import timefmt
from scheduling.models import Slot
from tests.bookings.waitlist_helpers import hour_slot, paid_booking, post
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return ServiceFactory(name="Consultation")


@pytest.fixture
def old_slot(doctor, service):
    return hour_slot(doctor, service, hours_ahead=72)


@pytest.fixture
def new_slot(doctor, service):
    return hour_slot(doctor, service, hours_ahead=96)


def move(client, booking, slot_id):
    return post(client, f"bookings/{booking.pk}/reschedule", {"slotId": slot_id})


def seats(*slots):
    return [Slot.objects.get(pk=s.pk).seats_taken for s in slots]


class TestWho:
    def test_patient_moves_own_paid_booking_and_keeps_payment(
        self, client_for, patient, old_slot, new_slot
    ):
        booking = paid_booking(patient, old_slot)
        response = move(client_for(patient), booking, new_slot.pk)
        assert response.status_code == 200, response.json()
        row = response.json()["data"]
        assert row["id"] == booking.pk
        assert row["status"] == "confirmed" and row["paymentStatus"] == "paid"
        assert row["start"] == timefmt.local_iso(new_slot.start)
        booking.refresh_from_db()
        assert booking.slot_id == new_slot.pk and booking.status == BookingStatus.CONFIRMED
        assert seats(old_slot, new_slot) == [0, 1]  # the old seat is free at once

    def test_doctor_and_admin_may_move_inside_the_cutoff(
        self, client_for, patient, doctor, admin_user, service
    ):
        soon = hour_slot(doctor, service, hours_ahead=3)
        later = hour_slot(doctor, service, hours_ahead=5)
        booking = paid_booking(patient, soon)
        assert move(client_for(patient), booking, later.pk).status_code == 409
        assert move(client_for(doctor), booking, later.pk).status_code == 200
        assert move(client_for(admin_user), booking, soon.pk).status_code == 200
        booking.refresh_from_db()
        assert booking.slot_id == soon.pk
        assert seats(soon, later) == [1, 0]

    @override_settings(RESCHEDULE_CUTOFF_HOURS=2)
    def test_cutoff_is_a_setting(self, client_for, patient, doctor, service):
        soon = hour_slot(doctor, service, hours_ahead=3)
        later = hour_slot(doctor, service, hours_ahead=5)
        booking = paid_booking(patient, soon)
        assert move(client_for(patient), booking, later.pk).status_code == 200

    def test_strangers_get_404_and_nothing_changes(
        self, client_for, api_client, patient, other_patient, other_doctor, old_slot, new_slot
    ):
        booking = paid_booking(patient, old_slot)
        assert move(api_client, booking, new_slot.pk).status_code == 401
        assert move(client_for(other_patient), booking, new_slot.pk).status_code == 404
        assert move(client_for(other_doctor), booking, new_slot.pk).status_code == 404
        booking.refresh_from_db()
        assert booking.slot_id == old_slot.pk
        assert seats(old_slot, new_slot) == [1, 0]


class TestWhere:
    def test_other_service_past_full_and_same_slot(
        self, client_for, patient, doctor, service, old_slot, new_slot
    ):
        booking = paid_booking(patient, old_slot)
        client = client_for(patient)
        other_service = hour_slot(doctor, ServiceFactory(name="Surgery"), hours_ahead=120)
        response = move(client, booking, other_service.pk)
        assert response.status_code == 400
        assert response.json()["errorMessages"][0]["path"] == "slotId"
        past = hour_slot(doctor, service, hours_ahead=-3)
        assert move(client, booking, past.pk).status_code == 400
        paid_booking(PatientFactory(), new_slot)
        assert move(client, booking, new_slot.pk).status_code == 409
        assert move(client, booking, old_slot.pk).status_code == 400
        assert move(client, booking, 99_999_999).status_code == 404
        booking.refresh_from_db()
        assert booking.slot_id == old_slot.pk
        assert seats(old_slot, new_slot, other_service) == [1, 1, 0]

    def test_another_doctor_of_the_same_service(self, client_for, patient, old_slot, service):
        elsewhere = hour_slot(DoctorFactory(), service, hours_ahead=80)
        booking = paid_booking(patient, old_slot)
        assert move(client_for(patient), booking, elsewhere.pk).status_code == 200
        booking.refresh_from_db()
        assert booking.doctor_id == elsewhere.doctor_id

    def test_a_doctor_whose_licence_expired_is_not_a_destination(
        self, client_for, patient, old_slot, service
    ):
        # accounts.credentials' one definition of a bookable doctor: the same 404 as booking.
        elsewhere = hour_slot(DoctorFactory(), service, hours_ahead=80)
        DoctorProfile.objects.filter(user=elsewhere.doctor).update(
            license_expires_on=clinic_today() - timedelta(days=1)
        )
        booking = paid_booking(patient, old_slot)
        response = move(client_for(patient), booking, elsewhere.pk)
        assert response.status_code == 404
        assert response.json()["errorMessages"][0]["path"] == "slotId"
        booking.refresh_from_db()
        assert booking.slot_id == old_slot.pk
        assert seats(old_slot, elsewhere) == [1, 0]

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"slotId": "x"},
            {"slotId": True},
            {"slotId": 1.5},
            {"slotId": -1},
            {"slotId": 0},
            {"slotId": 2**70},
            {"slotId": None},
            [],
        ],
    )
    def test_bad_input_is_400(self, client_for, patient, old_slot, body):
        booking = paid_booking(patient, old_slot)
        response = post(client_for(patient), f"bookings/{booking.pk}/reschedule", body)
        assert response.status_code == 400, response.json()
        assert response.json()["success"] is False

    def test_cancelled_booking_is_409(self, client_for, patient, old_slot, new_slot):
        booking = paid_booking(patient, old_slot)
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)
        assert move(client_for(patient), booking, new_slot.pk).status_code == 409

    def test_unpaid_hold_moves_with_its_expiry(self, client_for, patient, old_slot, new_slot):
        booking = services.booking_create(patient=patient, slot_id=old_slot.pk)
        response = move(client_for(patient), booking, new_slot.pk)
        assert response.status_code == 200
        moved = Booking.objects.get(pk=booking.pk)
        assert moved.expires_at == booking.expires_at
        assert moved.status == BookingStatus.PENDING_PAYMENT


class TestMailsAndCalendar:
    def test_patient_and_doctor_told_with_same_uid_and_higher_sequence(
        self, client_for, patient, doctor, old_slot, new_slot
    ):
        booking = paid_booking(patient, old_slot)
        from bookings.notifications import notify_booking_confirmed

        notify_booking_confirmed(booking=booking)
        assert move(client_for(patient), booking, new_slot.pk).status_code == 200
        rows = OutboxMessage.objects.filter(booking=booking)
        kinds = set(rows.values_list("kind", flat=True))
        assert {OutboxKind.BOOKING_RESCHEDULED, OutboxKind.BOOKING_RESCHEDULED_FOR_DOCTOR} <= kinds
        mail.outbox.clear()
        for row in rows.order_by("pk"):
            outbox_deliver(message_id=row.pk)
        by_to = {}
        for message in mail.outbox:
            by_to.setdefault(message.to[0], []).append(message)
        moved = [m for m in by_to[patient.email] if "moved" in m.subject]
        assert len(moved) == 1
        assert any("moved" in m.subject for m in by_to[doctor.email])
        confirmed = next(m for m in by_to[patient.email] if "confirmed" in m.subject)

        def event(message):
            (_name, content, mimetype) = message.attachments[0]
            assert "method=REQUEST" in mimetype
            calendar = Calendar.from_ical(content)
            assert calendar["METHOD"] == "REQUEST"
            return next(c for c in calendar.walk("VEVENT"))

        first, second = event(confirmed), event(moved[0])
        assert first["UID"] == second["UID"]
        assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
        assert second.decoded("DTSTART") == new_slot.start

    def test_reminders_of_the_old_time_never_fire_and_new_ones_do(self, patient, doctor, service):
        now = timezone.now()
        old = hour_slot(doctor, service, hours_ahead=30)
        new = hour_slot(doctor, service, hours_ahead=50)
        booking = paid_booking(patient, old)
        # The old time's 24h reminder is queued (and one of them even sent) before the move.
        notify_reminders_due(now=now + timedelta(hours=7))
        reminder = OutboxMessage.objects.get(booking=booking, kind=OutboxKind.REMINDER)
        assert reminder.status == OutboxStatus.PENDING
        services.booking_reschedule(booking_id=booking.pk, slot_id=new.pk, by=doctor, now=now)
        reminder.refresh_from_db()
        assert reminder.status == OutboxStatus.SKIPPED  # never sent for the old time
        mail.outbox.clear()
        assert outbox_deliver(message_id=reminder.pk) is None
        assert mail.outbox == []
        # At the new time's 24h mark, the reminder is queued afresh and sent.
        notify_reminders_due(now=now + timedelta(hours=27))
        fresh = OutboxMessage.objects.filter(
            booking=booking, kind=OutboxKind.REMINDER, status=OutboxStatus.PENDING
        ).get()
        assert fresh.offset == "24h" and fresh.params["start"] == new.start.isoformat()
        assert (
            outbox_deliver(message_id=fresh.pk, now=now + timedelta(hours=27)) == OutboxStatus.SENT
        )
        assert len(mail.outbox) == 1 and "Reminder" in mail.outbox[0].subject
        # Queued again: nothing more (dedup by booking, kind, offset).
        notify_reminders_due(now=now + timedelta(hours=27, minutes=5))
        assert OutboxMessage.objects.filter(booking=booking, kind=OutboxKind.REMINDER).count() == 2
