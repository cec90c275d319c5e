"""The outbox (invariant 10): rows in the change's transaction, once per (booking,
kind, offset), claimed by one worker, retried with backoff, poison rows isolated."""

import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import BookingStatus
from bookings.notifications import (
    notify_booking_cancelled,
    notify_booking_confirmed,
    notify_reminders_due,
)
from doctors_portal.models import OutboxKind, OutboxMessage, OutboxStatus
from doctors_portal.outbox import (
    outbox_claim,
    outbox_deliver,
    outbox_enqueue,
    outbox_retry_now,
    outbox_sweep,
)
from tests.factories import BookingFactory, SlotFactory

pytestmark = pytest.mark.django_db


class DownSMTPBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPConnectError(421, "mail server unavailable")


def confirmed_booking(*, starts_in: timedelta = timedelta(days=2)):
    start = (timezone.now() + starts_in).replace(microsecond=0)
    return BookingFactory(
        slot=SlotFactory(start=start, end=start + timedelta(hours=1)),
        status=BookingStatus.CONFIRMED,
        expires_at=None,
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs the block's on_commit callbacks at its end, as a commit does."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def queue_confirmation(booking):
    with transaction.atomic():
        notify_booking_confirmed(booking=booking)


def test_a_rolled_back_change_queues_nothing():
    booking = confirmed_booking()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify_booking_confirmed(booking=booking)
        raise RuntimeError("the change failed")
    assert not OutboxMessage.objects.exists()
    assert mail.outbox == []


def test_a_replayed_change_queues_each_mail_once(django_capture_on_commit_callbacks):
    booking = confirmed_booking()
    with django_capture_on_commit_callbacks(execute=True):
        queue_confirmation(booking)
        queue_confirmation(booking)
    assert sorted(OutboxMessage.objects.values_list("kind", flat=True)) == [
        OutboxKind.BOOKING_CONFIRMED,
        OutboxKind.BOOKING_NEW_FOR_DOCTOR,
    ]
    assert [m.to for m in mail.outbox] == [[booking.patient.email], [booking.doctor.email]]
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {OutboxStatus.SENT}


def test_the_database_refuses_a_second_row_for_the_same_booking_kind_and_offset():
    booking = confirmed_booking()
    OutboxMessage.objects.create(
        key="a", kind=OutboxKind.REMINDER, booking=booking, offset="2h",
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        OutboxMessage.objects.create(
            key="b", kind=OutboxKind.REMINDER, booking=booking, offset="2h",
            next_attempt_at=timezone.now(),
        )  # fmt: skip


def test_a_failed_send_waits_with_backoff_and_is_sent_once_when_mail_is_back(settings, committed):
    settings.EMAIL_BACKEND = f"{__name__}.DownSMTPBackend"
    booking = confirmed_booking()
    with committed(), transaction.atomic():
        outbox_enqueue(kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, key="k", booking_id=booking.pk)
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "mail server unavailable" in row.last_error
    first_wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)

    # Not due yet: nobody takes it.
    assert outbox_deliver(message_id=row.pk) is None
    later = row.next_attempt_at + timedelta(seconds=1)
    assert outbox_deliver(message_id=row.pk, now=later) == OutboxStatus.PENDING
    row.refresh_from_db()
    assert row.attempts == 2
    assert row.next_attempt_at - timezone.now() > timedelta(seconds=55)  # doubled

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    much_later = row.next_attempt_at + timedelta(seconds=1)
    assert outbox_deliver(message_id=row.pk, now=much_later) == OutboxStatus.SENT
    assert outbox_deliver(message_id=row.pk, now=much_later) is None
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, "")
    assert row.sent_at is not None


def test_after_the_last_attempt_a_row_is_failed_and_retry_now_sends_it(settings, committed):
    settings.EMAIL_BACKEND = f"{__name__}.DownSMTPBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 1
    booking = confirmed_booking()
    with committed(), transaction.atomic():
        outbox_enqueue(kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, key="k", booking_id=booking.pk)
    row = OutboxMessage.objects.get()
    assert row.status == OutboxStatus.FAILED
    assert outbox_sweep(now=timezone.now() + timedelta(days=1)) == 0  # failed rows rest

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with committed():
        assert outbox_retry_now(message_id=row.pk) is True
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert [m.to for m in mail.outbox] == [[booking.doctor.email]]
    assert outbox_retry_now(message_id=row.pk) is False  # a sent row is never resent


def test_one_claim_at_a_time_and_a_lapsed_claim_fences_out_the_old_worker(settings):
    booking = confirmed_booking()
    row = OutboxMessage.objects.create(
        key="k", kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, booking=booking,
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    first = outbox_claim(message_id=row.pk)
    assert first == 1
    assert outbox_claim(message_id=row.pk) is None
    # The first worker died: once its claim lapses another takes the row over.
    after_lapse = timezone.now() + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS + 1)
    assert outbox_deliver(message_id=row.pk, now=after_lapse) == OutboxStatus.SENT
    assert len(mail.outbox) == 1


def test_a_poison_row_does_not_block_the_rest(settings, django_capture_on_commit_callbacks):
    settings.TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = ""
    good = confirmed_booking()
    # A row naming a booking that cannot render (its row is gone): a template error.
    poison = OutboxMessage.objects.create(
        key="poison", kind=OutboxKind.BOOKING_CONFIRMED, booking=None,
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    OutboxMessage.objects.create(
        key="good", kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, booking=good,
        next_attempt_at=timezone.now(),
    )  # fmt: skip
    assert outbox_sweep() == 2
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == (OutboxStatus.PENDING, 1)
    assert poison.last_error.startswith("DoesNotExist")
    assert OutboxMessage.objects.get(key="good").status == OutboxStatus.SENT
    assert [m.to for m in mail.outbox] == [[good.doctor.email]]


def test_cancellation_tells_patient_the_refund_and_doctor_the_freed_seat(committed):
    booking = confirmed_booking()
    with committed(), transaction.atomic():
        booking.status = BookingStatus.CANCELLED
        booking.save(update_fields=["status"])
        notify_booking_cancelled(booking=booking, refund_amount=Decimal("40.00"), reason="")
    patient_mail, doctor_mail = mail.outbox
    assert patient_mail.to == [booking.patient.email]
    assert "40.00 USD is being refunded" in patient_mail.body
    assert doctor_mail.to == [booking.doctor.email]
    assert "cancelled" in doctor_mail.subject.lower()


# Reminders ---------------------------------------------------------------------


def reminders():
    return sorted(
        OutboxMessage.objects.filter(kind=OutboxKind.REMINDER).values_list(
            "booking_id", "offset", "status"
        )
    )


def test_reminders_go_once_per_offset_at_their_time(committed):
    booking = confirmed_booking(starts_in=timedelta(hours=30))
    start = booking.slot.start

    def beat_at(before_start: timedelta):
        with time_machine.travel(start - before_start, tick=False), committed():
            notify_reminders_due()

    beat_at(timedelta(hours=25))
    assert reminders() == []
    beat_at(timedelta(hours=23))
    beat_at(timedelta(hours=23))  # a second beat: nothing new
    assert reminders() == [(booking.pk, "24h", OutboxStatus.SENT)]
    beat_at(timedelta(hours=1, minutes=59))
    beat_at(timedelta(hours=1))
    assert reminders() == [
        (booking.pk, "24h", OutboxStatus.SENT),
        (booking.pk, "2h", OutboxStatus.SENT),
    ]
    assert [m.subject.startswith("Reminder:") for m in mail.outbox] == [True, True]


def test_a_late_booking_gets_only_the_nearest_reminder(committed):
    booking = confirmed_booking(starts_in=timedelta(minutes=90))
    with committed():
        notify_reminders_due()
    assert reminders() == [(booking.pk, "2h", OutboxStatus.SENT)]


def test_no_reminder_for_a_cancelled_booking_even_if_queued_before(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    booking = confirmed_booking(starts_in=timedelta(hours=1))
    other = confirmed_booking(starts_in=timedelta(hours=1))
    other.status = BookingStatus.CANCELLED
    other.save(update_fields=["status"])
    # Queued while confirmed, cancelled before the worker got to it.
    row = OutboxMessage.objects.create(
        key="r", kind=OutboxKind.REMINDER, booking=booking, offset="2h",
        params={"start": booking.slot.start.isoformat()}, next_attempt_at=timezone.now(),
    )  # fmt: skip
    booking.status = BookingStatus.CANCELLED
    booking.save(update_fields=["status"])
    assert outbox_deliver(message_id=row.pk) == OutboxStatus.SKIPPED
    notify_reminders_due()
    assert reminders() == [(booking.pk, "2h", OutboxStatus.SKIPPED)]
    assert mail.outbox == []


def test_no_reminder_for_a_moved_booking():
    booking = confirmed_booking(starts_in=timedelta(hours=1))
    row = OutboxMessage.objects.create(
        key="r", kind=OutboxKind.REMINDER, booking=booking, offset="2h",
        params={"start": booking.slot.start.isoformat()}, next_attempt_at=timezone.now(),
    )  # fmt: skip
    moved = SlotFactory(start=booking.slot.start + timedelta(days=3))
    booking.slot = moved
    booking.save(update_fields=["slot"])
    assert outbox_deliver(message_id=row.pk) == OutboxStatus.SKIPPED
    assert mail.outbox == []


def test_admin_lists_failed_rows_and_retries_them(admin_user, client, settings, committed):
    booking = confirmed_booking()
    row = OutboxMessage.objects.create(
        key="k", kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, booking=booking, status="failed",
        attempts=8, last_error="SMTPConnectError: down", next_attempt_at=timezone.now(),
    )  # fmt: skip
    client.force_login(admin_user)
    listing = client.get("/admin/doctors_portal/outboxmessage/?status=failed")
    assert listing.status_code == 200
    assert b"SMTPConnectError: down" in listing.content
    with committed():
        response = client.post(
            "/admin/doctors_portal/outboxmessage/",
            {"action": "retry_now", "_selected_action": [row.pk]},
        )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 9)
    assert [m.to for m in mail.outbox] == [[booking.doctor.email]]


def test_the_sweep_hands_a_row_over_once_not_on_every_tick(settings):
    booking = confirmed_booking()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from doctors_portal.celery import app

    app.conf.task_always_eager = False  # nothing runs: only what is handed over counts
    try:
        with transaction.atomic():
            outbox_enqueue(kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, key="k", booking_id=booking.pk)
        # Handed over at commit (here: never run): the next ticks leave it alone...
        assert outbox_sweep() == 0
        # ...until a claim's time has passed without a delivery: the hand-over was lost.
        later = timezone.now() + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS + 1)
        OutboxMessage.objects.update(handed_over_at=timezone.now())
        assert outbox_sweep(now=later) == 1
        assert outbox_sweep(now=later) == 0
    finally:
        app.conf.task_always_eager = True
