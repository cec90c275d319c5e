"""When Stripe cannot be reached: 502, nothing changed, and it works once Stripe is back."""

from decimal import Decimal

import pytest

from bookings.models import BookingStatus, PaymentStatus
from bookings.services import booking_cancel
from payments.models import ChargeStatus, Payment, Refund
from tests.fixtures.stripe import LocalStripe, free_port

CREATE = "/api/v1/create-payment-intent"
PAY = "/api/v1/payment"


@pytest.mark.django_db
def test_localstripe_process_stopped_mid_flow_is_502_then_works_once_it_is_back(
    booking, client_for, stripe_settings
):
    # A localstripe of this test's own, so stopping it leaves the session's one alone.
    own = LocalStripe().start()
    stripe_settings.STRIPE_API_BASE = own.url
    client = client_for(booking.patient)
    try:
        own.stop()  # the Stripe server goes away between booking and paying

        down = client.post(CREATE, {"bookingId": booking.pk}, format="json")

        assert down.status_code == 502
        assert down.json()["message"] == "Payment Error"
        assert "could not be reached" in down.json()["errorMessages"][0]["message"]
        assert not Payment.objects.exists()
        booking.refresh_from_db()
        assert booking.status == BookingStatus.PENDING_PAYMENT

        own = LocalStripe(port=own.port).start()  # back, on the same address

        up = client.post(CREATE, {"bookingId": booking.pk}, format="json")
        assert up.status_code == 200, up.json()
        assert Payment.objects.get(booking=booking).intent_id == up.json()["paymentIntentId"]
    finally:
        own.stop()


@pytest.mark.django_db
def test_stripe_unreachable_at_confirmation_is_502_and_nothing_changes(
    booking, client_for, create_intent, pay, stripe_settings
):
    intent_id = create_intent(booking)
    pay(intent_id)
    reachable = stripe_settings.STRIPE_API_BASE
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens
    body = {"transactionid": intent_id, "bookingID": booking.pk}

    down = client_for(booking.patient).post(PAY, body, format="json")

    assert down.status_code == 502
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("pending_payment", "unpaid")
    assert Payment.objects.get(booking=booking).status == ChargeStatus.REQUIRES_PAYMENT

    stripe_settings.STRIPE_API_BASE = reachable
    up = client_for(booking.patient).post(PAY, body, format="json")
    assert up.status_code == 200
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


@pytest.mark.django_db
def test_stripe_unreachable_during_cancellation_refund_is_502_and_the_booking_stays(
    booking, client_for, create_intent, pay, stripe_settings
):
    intent_id = create_intent(booking)
    pay(intent_id)
    client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    reachable = stripe_settings.STRIPE_API_BASE
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    down = client_for(booking.patient).post(f"/api/v1/bookings/{booking.pk}/cancel")

    assert down.status_code == 502
    # The money was charged and stays charged: the message says so, not "nothing charged".
    message = down.json()["errorMessages"][0]["message"]
    assert "nothing was refunded" in message and "unchanged" in message
    assert "Nothing was charged" not in message
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    assert not Refund.objects.exists()

    stripe_settings.STRIPE_API_BASE = reachable
    result = booking_cancel(booking_id=booking.pk, by=booking.patient)
    assert result.refund_amount == Decimal("40.00")
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (
        BookingStatus.CANCELLED,
        PaymentStatus.REFUNDED,
    )


@pytest.mark.django_db
def test_stripe_that_accepts_but_never_answers_times_out_as_502(
    booking, client_for, stripe_settings
):
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{silent.getsockname()[1]}"
        stripe_settings.STRIPE_TIMEOUT_SECONDS = 0.5

        response = client_for(booking.patient).post(
            CREATE, {"bookingId": booking.pk}, format="json"
        )

    assert response.status_code == 502
    assert not Payment.objects.exists()
