"""Idempotency keys on every create, one intent per booking under concurrency, and a
webhook whose effect fails is not recorded (so Stripe's retry applies it)."""

import json
import threading
import urllib.error
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection

from bookings.services import booking_cancel, booking_create
from payments.models import Payment, StripeEvent
from tests.conftest import bearer_client
from tests.factories import PatientFactory, SlotFactory
from tests.fixtures.stripe import free_port
from tests.payments.conftest import WEBHOOK_URL, lapse_hold, sign

FORWARDED = ("Authorization", "Content-Type", "Idempotency-Key", "Stripe-Version")


class RecordingProxy:
    """Forwards to localstripe and records each request's headers.

    localstripe accepts the Idempotency-Key header but ignores it, so whether we send
    one can only be seen on the wire, here. `on_answer(method, path)`, if given, runs
    after Stripe answered and before the app hears it: something changes meanwhile."""

    def __init__(self, target: str, on_answer=None):
        self.requests: list[tuple[str, str, dict]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: self.headers[k] for k in FORWARDED if self.headers.get(k)}
                proxy.requests.append((self.command, self.path, headers))
                request = urllib.request.Request(
                    target + self.path, data=body or None, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:
                        status, payload = response.status, response.read()
                except urllib.error.HTTPError as error:
                    status, payload = error.code, error.read()
                if on_answer is not None:
                    on_answer(self.command, self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _forward

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts_to(self, path: str) -> list[dict]:
        return [h for method, p, h in self.requests if method == "POST" and p == path]


@pytest.fixture
def recording_proxy(stripe_settings):
    proxy = RecordingProxy(stripe_settings.STRIPE_API_BASE)
    stripe_settings.STRIPE_API_BASE = proxy.url
    yield proxy
    proxy.server.shutdown()
    proxy.server.server_close()


@pytest.mark.django_db
def test_every_create_sends_an_idempotency_key_per_booking(
    recording_proxy, booking, client_for, create_intent, pay
):
    intent_id = create_intent(booking)
    create_intent(booking)  # reused from our table: no second create at Stripe
    (created,) = recording_proxy.posts_to("/v1/payment_intents")
    key = created["Idempotency-Key"]
    assert key.startswith(f"doctors-portal-booking-{booking.pk}-")
    assert key.endswith("-payment-intent")

    pay(intent_id)
    client_for(booking.patient).post(
        "/api/v1/payment", {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    booking_cancel(booking_id=booking.pk, by=booking.patient)
    (refund,) = recording_proxy.posts_to("/v1/refunds")
    assert refund["Idempotency-Key"].startswith(f"doctors-portal-booking-{booking.pk}-")
    assert refund["Idempotency-Key"].endswith("-refund-40.00-after-0.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_create_payment_intent_makes_one_intent(recording_proxy):
    # The first call claims the creation and asks Stripe outside any lock; a call while
    # it is with Stripe is refused at once (409, payments.services), one after it has
    # stored the intent gets the same one. Either way, one intent at Stripe.
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)
    barrier = threading.Barrier(4)
    answers = []

    def call():
        client = bearer_client(patient)
        barrier.wait()
        try:
            answers.append(
                client.post(
                    "/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json"
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    paid = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(paid) + len(refused) == 4 and paid, [a.json() for a in answers]
    for answer in refused:
        assert answer.status_code == 409, answer.json()
        assert "being set up" in answer.json()["errorMessages"][0]["message"]
    assert len({a.json()["paymentIntentId"] for a in paid}) == 1
    assert Payment.objects.filter(booking=booking).count() == 1
    assert len(recording_proxy.posts_to("/v1/payment_intents")) == 1


@pytest.mark.django_db
def test_webhook_whose_refund_cannot_reach_stripe_is_502_and_not_recorded(
    booking, create_intent, pay, stripe_events, post_event, stripe_settings
):
    intent_id = create_intent(booking)
    lapse_hold(booking)
    booking_create(patient=PatientFactory(), slot_id=booking.slot_id)  # seat goes
    pay(intent_id)
    event = stripe_events(intent_id, "payment_intent.succeeded")
    reachable = stripe_settings.STRIPE_API_BASE
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"

    down = post_event(event)

    assert down.status_code == 502  # Stripe will deliver it again
    assert not StripeEvent.objects.filter(event_id=event["id"]).exists()
    payment = Payment.objects.get(booking=booking)
    assert payment.status == "requires_payment"
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"

    stripe_settings.STRIPE_API_BASE = reachable
    retried = post_event(event)
    assert retried.status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("40.00"))


@pytest.mark.django_db
def test_payment_arriving_after_the_patient_cancelled_is_refunded_and_stays_cancelled(
    booking, client_for, create_intent, pay
):
    intent_id = create_intent(booking)
    booking_cancel(booking_id=booking.pk, by=booking.patient)  # unpaid: nothing to refund
    pay(intent_id)  # …but the payment page was still open

    response = client_for(booking.patient).post(
        "/api/v1/payment", {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    assert response.status_code == 409
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("cancelled", "refunded")


def _post_signed(event: dict):
    from rest_framework.test import APIClient

    body = json.dumps(event)
    return APIClient().post(
        WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )


def _race(*calls):
    """Run the calls at the same moment, each on its own database connection."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_post_payment_and_webhook_racing_confirm_once_and_email_once(
    stripe_settings, create_intent, pay, stripe_events
):
    from django.core import mail

    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)
    intent_id = create_intent(booking)
    pay(intent_id)
    event = stripe_events(intent_id, "payment_intent.succeeded")
    body = {"transactionid": intent_id, "bookingID": booking.pk}

    by_api, by_webhook, by_webhook_again = _race(
        lambda: bearer_client(patient).post("/api/v1/payment", body, format="json"),
        lambda: _post_signed(event),  # a client per thread: test clients are not shared
        lambda: _post_signed(event),
    )

    assert (by_api.status_code, by_webhook.status_code, by_webhook_again.status_code) == (
        200,
        200,
        200,
    )
    assert sorted(
        [by_webhook.json()["data"]["duplicate"], by_webhook_again.json()["data"]["duplicate"]]
    ) == [False, True]
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    assert len(mail.outbox) == 2  # the patient's confirmation and the doctor's notice, once


@pytest.mark.django_db
def test_a_call_while_another_is_with_stripe_is_409_with_retry_after(booking, client_for):
    from django.utils import timezone

    from payments.models import PaymentIntentClaim

    # Another call's claim, made just now: it is with Stripe.
    PaymentIntentClaim.objects.create(booking=booking, token="other", claimed_at=timezone.now())

    response = client_for(booking.patient).post(
        "/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json"
    )

    assert response.status_code == 409, response.json()
    assert response["Retry-After"] == "2"  # the other call's answer is seconds away
    body = response.json()
    assert body["message"] == "Conflict"
    assert body["errorMessages"] == [
        {
            "path": "bookingId",
            "message": "A payment for this booking is being set up; try again in a moment.",
        }
    ]
    assert not Payment.objects.filter(booking=booking).exists()
