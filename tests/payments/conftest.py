"""Helpers for the payment tests: bookings made through the booking service, cards
paid at localstripe through the official SDK (acting as the browser's Stripe.js),
and Stripe events signed with the test secret exactly as Stripe signs them."""

import json
import time
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from bookings.services import booking_create
from tests.factories import SlotFactory
from tests.fixtures.stripe import TEST_WEBHOOK_SECRET

GOOD_CARD = "4242424242424242"
# localstripe declines a *charge* only for these numbers; 4000000000000002 (Stripe's
# generic decline) is declined by localstripe only when attached to a customer.
DECLINED_CARD = "4000000000000341"
WEBHOOK_URL = "/api/v1/payments/webhook"


@pytest.fixture
def slot(db, doctor):
    return SlotFactory(doctor=doctor)


@pytest.fixture
def make_booking(db):
    def make(patient, slot=None, **slot_fields):
        slot = slot or SlotFactory(**slot_fields)
        return booking_create(patient=patient, slot_id=slot.pk)

    return make


@pytest.fixture
def booking(make_booking, patient, slot, stripe_settings):
    return make_booking(patient, slot)


def pay_at_stripe(client: stripe.StripeClient, intent_id: str, card: str = GOOD_CARD):
    """What Stripe.js does in the browser: attach a card and confirm the intent."""
    method = client.v1.payment_methods.create(
        {
            "type": "card",
            "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    # localstripe refuses `payment_method` on confirm itself, so it is set first.
    client.v1.payment_intents.update(intent_id, {"payment_method": method.id})
    return client.v1.payment_intents.confirm(intent_id)


@pytest.fixture
def pay(stripe_client):
    def do(intent_id: str, card: str = GOOD_CARD):
        return pay_at_stripe(stripe_client, intent_id, card)

    return do


@pytest.fixture
def create_intent(client_for):
    def create(booking):
        response = client_for(booking.patient).post(
            "/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json"
        )
        assert response.status_code == 200, response.json()
        return response.json()["paymentIntentId"]

    return create


@pytest.fixture
def stripe_events(stripe_client):
    """Events localstripe recorded for an intent, as Stripe would deliver them."""

    def find(intent_id: str, event_type: str) -> dict:
        since = int(time.time()) - 120
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            # localstripe lists oldest first, 10 a page: walk every page of recent ones.
            recent = {"type": event_type, "limit": 100, "created": {"gte": since}}
            for event in stripe_client.v1.events.list(recent).auto_paging_iter():
                if event.data.object.id == intent_id:
                    return event.to_dict()
            time.sleep(0.05)
        raise AssertionError(f"localstripe recorded no {event_type} for {intent_id}")

    return find


def sign(body: str, *, secret: str = TEST_WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<timestamp>,v1=HMAC-SHA256(secret, "t.body")."""
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)


@pytest.fixture
def post_event(api_client):
    def post(event: dict, *, secret: str = TEST_WEBHOOK_SECRET, timestamp=None, header=None):
        body = json.dumps(event)
        signature = header if header is not None else sign(body, secret=secret, timestamp=timestamp)
        extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature else {}
        return api_client.post(WEBHOOK_URL, data=body, content_type="application/json", **extra)

    return post


def lapse_hold(booking) -> None:
    """Time passes: the unpaid hold is now past its expiry."""
    type(booking).objects.filter(pk=booking.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
