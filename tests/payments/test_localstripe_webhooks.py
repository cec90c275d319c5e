"""localstripe itself signs and POSTs its events to the running app (a live server)."""

import time

import pytest

from bookings.models import BookingStatus, PaymentStatus
from bookings.services import booking_create
from payments.models import ChargeStatus, Payment, StripeEvent
from tests.factories import SlotFactory
from tests.payments.conftest import DECLINED_CARD


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_localstripe_delivers_signed_succeeded_event_and_the_booking_is_confirmed(
    localstripe_webhook_to_live_server, patient, create_intent, pay
):
    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)
    intent_id = create_intent(booking)

    pay(intent_id)  # localstripe posts payment_intent.succeeded about a second later

    # Filtered by intent: events of earlier tests may still be in localstripe's queue.
    delivered = StripeEvent.objects.filter(
        type="payment_intent.succeeded", payload__data__object__id=intent_id
    )
    assert wait_for(delivered.exists)
    event = delivered.get()
    assert event.summary == "confirmed"
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CONFIRMED,
        PaymentStatus.PAID,
    )
    assert Payment.objects.get(booking=booking).status == ChargeStatus.SUCCEEDED


def test_localstripe_delivers_signed_failure_event_and_the_booking_stays_pending(
    localstripe_webhook_to_live_server, patient, create_intent, pay
):
    import stripe

    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)
    intent_id = create_intent(booking)

    with pytest.raises(stripe.CardError):
        pay(intent_id, DECLINED_CARD)

    assert wait_for(
        StripeEvent.objects.filter(
            type="payment_intent.payment_failed", payload__data__object__id=intent_id
        ).exists
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert booking.payment_status == PaymentStatus.FAILED
