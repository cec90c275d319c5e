"""Unpaid holds lapse after BOOKING_HOLD_MINUTES with no job running (moved clock)."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus, PaymentStatus
from scheduling.models import Slot
from tests.conftest import bearer_client
from tests.factories import PatientFactory, SlotFactory

pytestmark = pytest.mark.django_db


def free_places(slot) -> int:
    from scheduling.selectors import availability_for_date
    from scheduling.timefmt import clinic_today

    day = clinic_today(slot.start)
    for item in availability_for_date(day=day):
        for shown in item.slots:
            if shown.pk == slot.pk:
                return shown.free_seats
    return 0


@pytest.fixture
def slot():
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    return SlotFactory(start=start, end=start + timedelta(hours=1))


def test_seat_is_free_again_after_15_minutes(slot):
    patient = PatientFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        booking = services.booking_create(patient=patient, slot_id=slot.pk)
        assert free_places(slot) == 0
        clock.shift(timedelta(minutes=14, seconds=59))
        assert free_places(slot) == 0
        clock.shift(timedelta(seconds=1))
        assert free_places(slot) == 1
        # Over HTTP too: another patient can take the seat now; the hold is released.
        other = PatientFactory()
        response = bearer_client(other).post("/api/v1/bookings", {"slotId": slot.pk}, format="json")
        assert response.status_code == 201, response.json()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1


def test_expired_hold_cannot_be_confirmed_once_the_seat_is_taken(slot):
    first, second = PatientFactory(), PatientFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        booking = services.booking_create(patient=first, slot_id=slot.pk)
        clock.shift(timedelta(minutes=16))
        services.booking_create(patient=second, slot_id=slot.pk)
        with pytest.raises(services.SeatNoLongerAvailable):
            services.booking_confirm_paid(booking_id=booking.pk)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert booking.payment_status == PaymentStatus.UNPAID
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1


def test_expired_hold_is_confirmed_if_the_seat_is_still_free(slot):
    patient = PatientFactory()
    now = timezone.now()
    booking = services.booking_create(patient=patient, slot_id=slot.pk, now=now)
    later = now + timedelta(minutes=20)
    assert services.booking_expire_lapsed(now=later) == 1
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert Slot.objects.get(pk=slot.pk).seats_taken == 0
    services.booking_confirm_paid(booking_id=booking.pk, now=later)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    # The seat is the booking's to give; whether it is paid is the Payment's to say.
    assert booking.payment_status == PaymentStatus.UNPAID
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1
    # Confirming twice changes nothing.
    services.booking_confirm_paid(booking_id=booking.pk, now=later)
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1


def test_lapsed_but_unreleased_hold_is_confirmed_in_place(slot):
    patient = PatientFactory()
    now = timezone.now()
    booking = services.booking_create(patient=patient, slot_id=slot.pk, now=now)
    services.booking_confirm_paid(booking_id=booking.pk, now=now + timedelta(minutes=30))
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1


def test_expire_holds_command(slot):
    other = SlotFactory()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        lapsing = services.booking_create(patient=PatientFactory(), slot_id=slot.pk)
        clock.shift(timedelta(minutes=10))
        fresh = services.booking_create(patient=PatientFactory(), slot_id=other.pk)
        clock.shift(timedelta(minutes=6))
        call_command("expire_holds")
    assert Booking.objects.get(pk=lapsing.pk).status == BookingStatus.EXPIRED
    assert Booking.objects.get(pk=fresh.pk).status == BookingStatus.PENDING_PAYMENT
    assert Slot.objects.get(pk=slot.pk).seats_taken == 0
    assert Slot.objects.get(pk=other.pk).seats_taken == 1
