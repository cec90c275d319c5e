"""Races of reschedule and the waitlist, with real threads (one connection each). On
PostgreSQL the row locks decide; the ledger (seats_taken) must match the rows after."""

import threading

import pytest
from django.db import connection

from bookings import services
from bookings.models import SEAT_HOLDING_STATUSES, Booking, WaitlistEntry, WaitlistStatus
from scheduling.models import Slot
from tests.bookings.waitlist_helpers import confirmed_booking, hour_slot, post
from tests.conftest import bearer_client
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _together(calls) -> list:
    """Run each call in its own thread, released at once; their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _ledger_matches(slot) -> None:
    slot = Slot.objects.get(pk=slot.pk)
    bookings = Booking.objects.filter(slot=slot, status__in=SEAT_HOLDING_STATUSES).count()
    offers = WaitlistEntry.objects.filter(offer_slot=slot, status=WaitlistStatus.OFFERED).count()
    assert slot.seats_taken == bookings + offers <= slot.capacity


def _setup():
    doctor, service = DoctorFactory(), ServiceFactory(name="Consultation")
    return doctor, service


def test_two_patients_reschedule_into_the_last_seat():
    doctor, service = _setup()
    target = hour_slot(doctor, service, hours_ahead=100)
    sources = [hour_slot(doctor, service, hours_ahead=60 + 2 * i) for i in range(2)]
    patients = [PatientFactory() for _ in sources]
    bookings = [confirmed_booking(p, s) for p, s in zip(patients, sources, strict=True)]
    clients = [bearer_client(p) for p in patients]
    codes = _together(
        [
            (
                lambda c=c, b=b: (
                    post(c, f"bookings/{b.pk}/reschedule", {"slotId": target.pk}).status_code
                )
            )
            for c, b in zip(clients, bookings, strict=True)
        ]
    )
    print(f"{connection.vendor}: reschedule race {codes}")
    assert sorted(codes) == [200, 409]
    winner = bookings[codes.index(200)]
    loser = bookings[codes.index(409)]
    assert Booking.objects.get(pk=winner.pk).slot_id == target.pk
    assert Booking.objects.get(pk=loser.pk).slot_id == loser.slot_id
    for slot in (target, *sources):
        _ledger_matches(slot)
    assert [Slot.objects.get(pk=s.pk).seats_taken for s in sources].count(0) == 1


def test_crossing_reschedules_do_not_deadlock():
    """A→B and B→A at once: both slots are locked in id order, so both finish."""
    doctor, service = _setup()
    a = hour_slot(doctor, service, hours_ahead=60, capacity=2)
    b = hour_slot(doctor, service, hours_ahead=62, capacity=2)
    one = confirmed_booking(PatientFactory(), a)
    two = confirmed_booking(PatientFactory(), b)
    results = _together(
        [
            lambda: services.booking_reschedule(booking_id=one.pk, slot_id=b.pk, by=doctor).slot_id,
            lambda: services.booking_reschedule(booking_id=two.pk, slot_id=a.pk, by=doctor).slot_id,
        ]
    )
    assert results == [b.pk, a.pk]
    _ledger_matches(a)
    _ledger_matches(b)


def test_offered_seat_cannot_be_taken_by_others_at_once():
    doctor, service = _setup()
    slot = hour_slot(doctor, service, hours_ahead=80)
    booking = confirmed_booking(PatientFactory(), slot)
    offered = PatientFactory()
    services.waitlist_join(patient=offered, slot_id=slot.pk)
    services.booking_cancel(booking_id=booking.pk, by=doctor)
    assert WaitlistEntry.objects.get(patient=offered).status == WaitlistStatus.OFFERED
    others = [PatientFactory() for _ in range(8)]
    clients = [bearer_client(p) for p in [offered, *others]]
    codes = _together(
        [(lambda c=c: post(c, "bookings", {"slotId": slot.pk}).status_code) for c in clients]
    )
    print(f"{connection.vendor}: offer race {codes}")
    assert codes[0] == 201 and codes[1:] == [409] * len(others)
    assert Booking.objects.get(slot=slot, status__in=SEAT_HOLDING_STATUSES).patient_id == offered.pk
    _ledger_matches(slot)


def test_concurrent_cancels_make_one_offer_per_freed_seat():
    doctor, service = _setup()
    slot = hour_slot(doctor, service, hours_ahead=80, capacity=3)
    holders = [confirmed_booking(PatientFactory(), slot) for _ in range(3)]
    waiting = [PatientFactory() for _ in range(5)]
    for patient in waiting:
        services.waitlist_join(patient=patient, slot_id=slot.pk)
    _together(
        [
            (lambda b=b: services.booking_cancel(booking_id=b.pk, by=doctor).refunded)
            for b in holders
        ]
    )
    offers = WaitlistEntry.objects.filter(status=WaitlistStatus.OFFERED).order_by(
        "created_at", "id"
    )
    assert [e.patient_id for e in offers] == [p.pk for p in waiting[:3]]
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING).count() == 2
    from doctors_portal.models import OutboxKind, OutboxMessage

    assert OutboxMessage.objects.filter(kind=OutboxKind.WAITLIST_OFFER).count() == 3
    _ledger_matches(slot)
