"""The webhook trusts nothing but Stripe's signature over the exact body, made recently."""

import json
import time

import pytest

from bookings.models import BookingStatus
from payments.models import StripeEvent
from tests.fixtures.stripe import TEST_WEBHOOK_SECRET
from tests.payments.conftest import WEBHOOK_URL, sign


@pytest.fixture
def succeeded_event(booking, create_intent, pay, stripe_events):
    intent_id = create_intent(booking)
    pay(intent_id)
    return stripe_events(intent_id, "payment_intent.succeeded")


def assert_nothing_applied(booking):
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_webhook_forged_signature_is_400(booking, succeeded_event, post_event):
    response = post_event(succeeded_event, secret="whsec_someone_else")

    assert response.status_code == 400
    assert response.json()["message"] == "Validation Error"
    assert response.json()["errorMessages"][0]["path"] == "Stripe-Signature"
    assert_nothing_applied(booking)


@pytest.mark.django_db
def test_webhook_body_changed_after_signing_is_400(booking, succeeded_event, api_client):
    body = json.dumps(succeeded_event)
    header = sign(body)
    tampered = body.replace('"amount": 4000', '"amount": 1')

    response = api_client.post(
        WEBHOOK_URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    assert response.status_code == 400
    assert_nothing_applied(booking)


@pytest.mark.django_db
def test_webhook_stale_timestamp_is_400(booking, succeeded_event, post_event):
    response = post_event(succeeded_event, timestamp=int(time.time()) - 600)

    assert response.status_code == 400
    assert "tolerance" in response.json()["errorMessages"][0]["message"]
    assert_nothing_applied(booking)


@pytest.mark.django_db
def test_webhook_missing_signature_is_400(booking, succeeded_event, post_event):
    response = post_event(succeeded_event, header="")

    assert response.status_code == 400
    assert "missing" in response.json()["errorMessages"][0]["message"]
    assert_nothing_applied(booking)


@pytest.mark.django_db
def test_webhook_garbled_signature_header_is_400(booking, succeeded_event, post_event):
    response = post_event(succeeded_event, header="not-a-stripe-signature")

    assert response.status_code == 400
    assert_nothing_applied(booking)


@pytest.mark.django_db
def test_webhook_signed_body_that_is_not_an_event_is_400(api_client, stripe_settings):
    body = "this is not json"

    response = api_client.post(
        WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
    )

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_webhook_needs_no_user_and_answers_with_and_without_slash(post_event, stripe_settings):
    event = {
        "id": "evt_unknown_type_1",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_1", "object": "customer"}},
    }
    response = post_event(event)
    assert response.status_code == 200
    assert response.json()["data"]["summary"] == "ignored: event type not handled"
    assert StripeEvent.objects.get(event_id="evt_unknown_type_1").type == "customer.created"


@pytest.mark.django_db
def test_webhook_with_trailing_slash(api_client, stripe_settings):
    event = json.dumps(
        {"id": "evt_slash", "object": "event", "type": "x.y", "data": {"object": {}}}
    )
    response = api_client.post(
        WEBHOOK_URL + "/",
        data=event,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(event),
    )
    assert response.status_code == 200


@pytest.mark.django_db
def test_webhook_succeeded_for_an_intent_we_never_created_is_recorded_and_refused(
    booking, stripe_client, pay, post_event, stripe_events
):
    # Someone creates their own PaymentIntent naming our booking in its metadata.
    foreign = stripe_client.v1.payment_intents.create(
        {"amount": 100, "currency": "usd", "metadata": {"booking_id": str(booking.pk)}}
    )
    pay(foreign.id)

    response = post_event(stripe_events(foreign.id, "payment_intent.succeeded"))

    assert response.status_code == 200
    assert response.json()["data"]["summary"].startswith("refused:")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT


@pytest.mark.django_db
def test_webhook_nested_too_deep_is_400_even_when_signed(post_body_signed):
    # Signed correctly, so only the body's depth is wrong: json.loads would recurse 3000
    # times (RecursionError, a 500) without the API's nesting check.
    deep = "[" * 3000 + "]" * 3000
    body = (
        '{"id": "evt_deep", "type": "payment_intent.succeeded", '
        f'"data": {{"object": {{"id": "pi_deep", "metadata": {deep}}}}}}}'
    )
    response = post_body_signed(body)

    assert response.status_code == 400, response.content[:500]
    envelope = response.json()
    assert envelope["success"] is False and envelope["message"] == "Validation Error"
    assert "nested deeper than 32 levels" in envelope["errorMessages"][0]["message"]
    assert StripeEvent.objects.count() == 0


@pytest.fixture
def post_body_signed(api_client, settings):
    settings.STRIPE_WEBHOOK_SECRET = TEST_WEBHOOK_SECRET  # no localstripe needed to sign

    def post(body: str):
        return api_client.post(
            WEBHOOK_URL,
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign(body),
        )

    return post
