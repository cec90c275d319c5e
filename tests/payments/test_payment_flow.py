"""Paying for a booking against a real localstripe: POST payment, the webhook, both."""

from decimal import Decimal

import icalendar
import pytest
from django.core import mail

from bookings.models import BookingStatus, PaymentStatus
from payments.models import ChargeStatus, Payment, StripeEvent
from tests.payments.conftest import DECLINED_CARD


def post_payment(client_for, booking, intent_id):
    return client_for(booking.patient).post(
        "/api/v1/payment", {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )


@pytest.mark.django_db
def test_create_payment_intent_is_priced_by_the_server_and_ignores_price(
    booking, client_for, stripe_client
):
    response = client_for(booking.patient).post(
        "/api/v1/create-payment-intent/",
        {"bookingId": booking.pk, "price": 1},
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["success"] is True
    for key in ("clientSecret", "paymentIntentId", "amount", "currency"):
        assert body[key] == body["data"][key]
    assert body["amount"] == "40.00"
    assert body["currency"] == "usd"
    assert body["clientSecret"].startswith(body["paymentIntentId"] + "_secret_")
    at_stripe = stripe_client.v1.payment_intents.retrieve(body["paymentIntentId"])
    assert at_stripe.amount == 4000  # minor units, from the service price: not the 1 sent
    assert at_stripe.currency == "usd"
    assert at_stripe.metadata["booking_id"] == str(booking.pk)
    payment = Payment.objects.get(booking=booking)
    assert payment.amount == Decimal("40.00")
    assert payment.status == ChargeStatus.REQUIRES_PAYMENT


@pytest.mark.django_db
def test_create_payment_intent_reuses_the_one_intent_of_a_booking(booking, client_for):
    client = client_for(booking.patient)
    first = client.post("/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json")
    second = client.post("/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json")

    assert first.status_code == second.status_code == 200
    assert first.json()["paymentIntentId"] == second.json()["paymentIntentId"]
    assert first.json()["clientSecret"] == second.json()["clientSecret"]
    assert Payment.objects.filter(booking=booking).count() == 1


@pytest.mark.django_db
def test_happy_path_by_post_payment_confirms_and_emails(
    booking, client_for, create_intent, pay, django_capture_on_commit_callbacks
):
    intent_id = create_intent(booking)
    assert pay(intent_id).status == "succeeded"

    with django_capture_on_commit_callbacks(execute=True):
        response = post_payment(client_for, booking, intent_id)

    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["paymentStatus"] == "paid"
    assert data["status"] == "confirmed"
    assert data["isPaid"] is True
    assert data["amount"] == "40.00"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment_status == PaymentStatus.PAID
    payment = Payment.objects.get(booking=booking)
    assert payment.status == ChargeStatus.SUCCEEDED
    assert payment.succeeded_at is not None

    patient_mail, doctor_mail = mail.outbox
    assert patient_mail.to == [booking.patient.email]
    assert doctor_mail.to == [booking.doctor.email]
    ((name, content, mimetype),) = patient_mail.attachments
    assert name == "appointment.ics"
    assert mimetype.startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(content)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == booking.slot.start
    assert event.decoded("dtend") == booking.slot.end
    assert str(event["uid"]) == f"booking-{booking.pk}@doctors-portal"
    assert booking.service.name in str(event["summary"])


@pytest.mark.django_db
def test_happy_path_by_webhook_confirms(
    booking, create_intent, pay, stripe_events, post_event, django_capture_on_commit_callbacks
):
    intent_id = create_intent(booking)
    pay(intent_id)
    event = stripe_events(intent_id, "payment_intent.succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(event)

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["summary"] == "confirmed"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment_status == PaymentStatus.PAID
    assert StripeEvent.objects.get(event_id=event["id"]).summary == "confirmed"
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_post_payment_and_webhook_both_arriving_apply_once(
    booking,
    client_for,
    create_intent,
    pay,
    stripe_events,
    post_event,
    django_capture_on_commit_callbacks,
):
    intent_id = create_intent(booking)
    pay(intent_id)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_payment(client_for, booking, intent_id).status_code == 200
        webhook = post_event(stripe_events(intent_id, "payment_intent.succeeded"))
        again = post_payment(client_for, booking, intent_id)

    assert webhook.status_code == 200
    assert webhook.json()["data"]["summary"] == "already applied"
    assert again.status_code == 200
    assert again.json()["data"]["paymentStatus"] == "paid"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert len(mail.outbox) == 2  # one confirmation to the patient, one to the doctor


@pytest.mark.django_db
def test_duplicate_webhook_event_changes_nothing(
    booking, create_intent, pay, stripe_events, post_event
):
    intent_id = create_intent(booking)
    pay(intent_id)
    event = stripe_events(intent_id, "payment_intent.succeeded")

    first = post_event(event)
    booking.refresh_from_db()
    updated_at = booking.updated_at
    second = post_event(event)

    assert first.status_code == second.status_code == 200
    assert first.json()["data"]["duplicate"] is False
    assert second.json()["data"]["duplicate"] is True
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    booking.refresh_from_db()
    assert booking.updated_at == updated_at
    assert booking.status == BookingStatus.CONFIRMED


@pytest.mark.django_db
def test_failed_event_after_succeeded_changes_nothing(
    booking, create_intent, pay, stripe_events, post_event
):
    intent_id = create_intent(booking)
    pay(intent_id)
    succeeded = stripe_events(intent_id, "payment_intent.succeeded")
    # Out of order: a failure event for the same intent arrives after the success.
    failed = {
        **succeeded,
        "id": succeeded["id"] + "_late_failure",
        "type": "payment_intent.payment_failed",
    }
    failed["data"] = {
        "object": {
            **succeeded["data"]["object"],
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "message": "Declined."},
        }
    }

    assert post_event(succeeded).status_code == 200
    response = post_event(failed)

    assert response.status_code == 200
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.payment_status == PaymentStatus.PAID
    assert Payment.objects.get(booking=booking).status == ChargeStatus.SUCCEEDED
    assert StripeEvent.objects.count() == 2


@pytest.mark.django_db
def test_declined_card_is_402_and_booking_stays_pending(
    booking, client_for, create_intent, pay, stripe_events, post_event
):
    import stripe

    intent_id = create_intent(booking)
    with pytest.raises(stripe.CardError):
        pay(intent_id, DECLINED_CARD)  # Stripe.js shows the decline in the browser

    response = post_payment(client_for, booking, intent_id)

    assert response.status_code == 402, response.json()
    assert response.json()["message"] == "Payment Error"
    assert "declined" in response.json()["errorMessages"][0]["message"].lower()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert booking.payment_status == PaymentStatus.FAILED
    assert Payment.objects.get(booking=booking).status == ChargeStatus.FAILED
    # The failure event localstripe recorded is applied too, and changes nothing more.
    assert post_event(stripe_events(intent_id, "payment_intent.payment_failed")).status_code == 200
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT
