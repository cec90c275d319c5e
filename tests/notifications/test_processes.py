"""The outbox with real processes: Celery workers (each with its beat) against Redis,
the test database (PostgreSQL in CI's second run) and a real SMTP server.

Each fault of issue 13: two beats and two workers racing on reminders, SMTP down,
a worker killed mid-delivery, Redis down while a booking is written.
"""

import signal
import time
from datetime import timedelta

import icalendar
import pytest
from django.db import transaction
from django.utils import timezone

from bookings.models import BookingStatus
from bookings.notifications import notify_booking_confirmed
from bookings.services import booking_cancel, booking_create
from doctors_portal.models import OutboxKind, OutboxMessage, OutboxStatus
from tests.factories import BookingFactory, PatientFactory, SlotFactory
from tests.fixtures.stripe import free_port
from tests.notifications.conftest import TEST_BROKER_URL, stop_process, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def booking_starting_in(delta: timedelta, **fields):
    start = (timezone.now() + delta).replace(microsecond=0)
    fields.setdefault("status", BookingStatus.CONFIRMED)
    fields.setdefault("expires_at", None)
    return BookingFactory(slot=SlotFactory(start=start, end=start + timedelta(hours=1)), **fields)


def rows(**filters):
    return list(OutboxMessage.objects.filter(**filters).order_by("id"))


def test_two_beats_and_two_workers_send_each_reminder_exactly_once(start_worker, smtp_server):
    bookings = [booking_starting_in(timedelta(minutes=90)) for _ in range(6)]
    cancelled = booking_starting_in(timedelta(minutes=90), status=BookingStatus.CANCELLED)
    far = booking_starting_in(timedelta(days=3))
    workers = [start_worker("w1"), start_worker("w2")]

    wait_for(lambda: len(smtp_server.inbox.messages) >= len(bookings), timeout=60,
             what="the reminders")  # fmt: skip
    time.sleep(3)  # several more ticks of both beats: nothing more may be sent
    assert all(w.poll() is None for w in workers), "both workers ran throughout"

    assert len(smtp_server.inbox.messages) == len(bookings)
    recipients = sorted(str(m["To"]) for m in smtp_server.inbox.messages)
    assert recipients == sorted(b.patient.email for b in bookings)
    reminders = rows(kind=OutboxKind.REMINDER)
    assert sorted(r.booking_id for r in reminders) == sorted(b.pk for b in bookings)
    assert {(r.offset, r.status, r.attempts) for r in reminders} == {("2h", "sent", 1)}
    assert not OutboxMessage.objects.filter(booking__in=[cancelled, far]).exists()


def test_smtp_down_rows_wait_and_are_delivered_once_when_it_is_back(
    start_worker, smtp_server, publish_to
):
    publish_to(TEST_BROKER_URL)
    smtp_server.stop()
    booking = booking_starting_in(timedelta(days=2))
    start_worker()
    with transaction.atomic():
        notify_booking_confirmed(booking=booking)

    wait_for(lambda: all(r.attempts >= 2 for r in rows()), what="two failed attempts each")
    waiting = rows()
    # Waiting, or in its next attempt (the worker keeps trying): never sent, never failed.
    assert {r.status for r in waiting} <= {OutboxStatus.PENDING, OutboxStatus.SENDING}
    assert all("refused" in r.last_error.lower() or "Errno" in r.last_error for r in waiting)
    assert smtp_server.inbox.messages == []

    smtp_server.start()
    wait_for(lambda: {r.status for r in rows()} == {OutboxStatus.SENT}, what="delivery")
    time.sleep(2)
    assert sorted(str(m["To"]) for m in smtp_server.inbox.messages) == sorted(
        [booking.patient.email, booking.doctor.email]
    )
    confirmation = next(
        m for m in smtp_server.inbox.messages if str(m["To"]) == booking.patient.email
    )
    (ics,) = [p for p in confirmation.walk() if p.get_content_type() == "text/calendar"]
    calendar = icalendar.Calendar.from_ical(ics.get_payload(decode=True))
    assert str(calendar["method"]) == "REQUEST"


def test_a_worker_killed_mid_delivery_is_redelivered_by_another(
    start_worker, smtp_server, publish_to
):
    publish_to(TEST_BROKER_URL)
    smtp_server.inbox.slow_first = 30  # the first delivery hangs in DATA
    booking = booking_starting_in(timedelta(days=2))
    first = start_worker("w1")
    with transaction.atomic():
        OutboxMessage.objects.create(
            key="killed", kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR, booking=booking,
            next_attempt_at=timezone.now(),
        )  # fmt: skip
    wait_for(lambda: len(smtp_server.inbox.messages) == 1, what="the first delivery")
    (row,) = rows()
    assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)
    stop_process(first, signal.SIGKILL)

    start_worker("w2")
    wait_for(lambda: rows()[0].status == OutboxStatus.SENT, what="the redelivery")
    (row,) = rows()
    assert row.attempts == 2
    # At least once: the killed worker's copy reached the server, unacknowledged, and
    # the redelivery is the only other one; the key keeps it to one row.
    assert len(smtp_server.inbox.messages) == 2
    assert OutboxMessage.objects.count() == 1


def test_redis_down_during_a_booking_the_booking_commits_and_its_mail_waits(
    start_worker, smtp_server, publish_to
):
    publish_to(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    booking = booking_create(patient=PatientFactory(), slot_id=SlotFactory().pk)
    began = time.monotonic()
    booking_cancel(booking_id=booking.pk, by=booking.patient)
    took = time.monotonic() - began
    assert took < 10, f"the commit waited {took:.1f}s on the broker"

    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    waiting = rows()
    assert sorted(r.kind for r in waiting) == [
        OutboxKind.BOOKING_CANCELLED,
        OutboxKind.BOOKING_CANCELLED_FOR_DOCTOR,
    ]
    assert {(r.status, r.attempts) for r in waiting} == {(OutboxStatus.PENDING, 0)}

    start_worker()  # Redis is there for the worker: its beat's sweep sends the rows
    wait_for(lambda: {r.status for r in rows()} == {OutboxStatus.SENT}, what="the sweep")
    assert sorted(str(m["To"]) for m in smtp_server.inbox.messages) == sorted(
        [booking.patient.email, booking.doctor.email]
    )
