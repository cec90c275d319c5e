"""Cancelling an unpaid booking whose PaymentIntent is open cancels the intent at Stripe,
so the intent already handed out can no longer charge the patient; if Stripe cannot be
reached then, a later payment is refunded with words that say the booking was cancelled."""

import pytest
import stripe

from bookings.models import BookingStatus, PaymentStatus
from payments.models import Payment
from tests.fixtures.stripe import free_port

PAY = "/api/v1/payment"

pytestmark = pytest.mark.django_db


def _cancel(client_for, booking, callbacks):
    with callbacks(execute=True):
        response = client_for(booking.patient).post(f"/api/v1/bookings/{booking.pk}/cancel")
    assert response.status_code == 200, response.content
    return response


def test_cancelling_an_unpaid_booking_cancels_its_open_intent_at_stripe(
    booking, client_for, create_intent, pay, stripe_client, django_capture_on_commit_callbacks
):
    intent_id = create_intent(booking)

    _cancel(client_for, booking, django_capture_on_commit_callbacks)

    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "canceled"
    with pytest.raises(stripe.StripeError):
        pay(intent_id)  # the client secret handed out earlier charges nothing now
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CANCELLED,
        PaymentStatus.UNPAID,
    )


def test_stripe_down_at_cancel_still_cancels_and_a_later_payment_says_it_was_cancelled(
    booking,
    client_for,
    create_intent,
    pay,
    stripe_settings,
    stripe_client,
    django_capture_on_commit_callbacks,
):
    intent_id = create_intent(booking)
    reachable = stripe_settings.STRIPE_API_BASE
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens
    _cancel(client_for, booking, django_capture_on_commit_callbacks)
    stripe_settings.STRIPE_API_BASE = reachable
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status != "canceled"

    pay(intent_id)  # the patient pays the intent they already had
    response = client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    assert response.status_code == 409, response.content
    message = response.json()["errorMessages"][0]["message"]
    assert "cancelled" in message and "refunded" in message
    assert "lapsed" not in message and "another patient" not in message
    payment = Payment.objects.get(booking=booking)
    assert payment.amount_refunded == payment.amount
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
