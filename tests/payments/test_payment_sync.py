"""One sync from Stripe for the API, the page and the webhook; one payment state; one isPaid.

Against a real localstripe. Where localstripe cannot do what Stripe does, the test says
so and patches only that (a `processing` intent; refund events, which it never sends).
"""

import itertools
from decimal import Decimal

import pytest
import stripe
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from bookings.models import Booking
from payments import stripe_gateway
from payments.models import Payment, Refund, StripeEvent
from tests.payments.conftest import DECLINED_CARD

PAY = "/api/v1/payment"
BAD_PAIRS = {
    # A booking that waits for its payment has not been paid, let alone refunded.
    ("pending_payment", "paid"),
    ("pending_payment", "refunded"),
    ("pending_payment", "partially_refunded"),
}
# How far along a booking's payment state is; a state never moves to a lower rank.
RANK = {
    "unpaid": 0,
    "failed": 1,
    "processing": 1,
    "paid": 2,
    "partially_refunded": 3,
    "refunded": 4,
}


def post_payment(client_for, booking, intent_id):
    return client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )


def state(booking) -> tuple[str, str]:
    booking.refresh_from_db()
    return booking.status, booking.payment_status


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def intent_reported_processing(monkeypatch):
    """localstripe charges cards at once and never reports `processing` (a bank debit
    still under way at Stripe), so this patches only the status Stripe would report;
    everything else about the intent is localstripe's."""
    real = stripe_gateway.retrieve_payment_intent

    def processing(intent_id):
        intent = real(intent_id)
        return stripe_gateway.Intent(**{**intent.__dict__, "status": "processing"})

    monkeypatch.setattr(stripe_gateway, "retrieve_payment_intent", processing)


# Processing: one behaviour, through the API and the page ---------------------------


@pytest.mark.django_db
def test_processing_intent_by_the_api_is_409_and_recorded_as_processing(
    booking, client_for, create_intent, pay, intent_reported_processing
):
    intent_id = create_intent(booking)
    pay(intent_id)

    response = post_payment(client_for, booking, intent_id)

    assert response.status_code == 409, response.json()
    assert "still processing" in response.json()["errorMessages"][0]["message"]
    assert state(booking) == ("pending_payment", "processing")
    assert Payment.objects.get(booking=booking).status == "processing"
    row = client_for(booking.patient).get(f"/api/v1/booking/{booking.pk}").json()["data"]
    assert (row["status"], row["paymentStatus"], row["isPaid"]) == (
        "pending_payment",
        "processing",
        False,
    )


@pytest.mark.django_db
def test_processing_intent_by_the_page_is_recorded_as_processing(
    booking, create_intent, pay, intent_reported_processing
):
    intent_id = create_intent(booking)
    pay(intent_id)

    response = page_client(booking.patient).post(reverse("pages:pay_complete", args=[booking.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("pages:my_appointments")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your bank is still processing the payment; check back soon."
    ]
    assert state(booking) == ("pending_payment", "processing")
    assert Payment.objects.get(booking=booking).status == "processing"


@pytest.mark.django_db
def test_processing_then_succeeded_confirms(
    booking, client_for, create_intent, pay, monkeypatch, intent_reported_processing
):
    intent_id = create_intent(booking)
    pay(intent_id)
    assert post_payment(client_for, booking, intent_id).status_code == 409
    monkeypatch.undo()  # the bank is done: Stripe (localstripe) reports succeeded

    response = post_payment(client_for, booking, intent_id)

    assert response.status_code == 200, response.json()
    assert state(booking) == ("confirmed", "paid")


@pytest.mark.django_db
def test_page_and_api_read_a_decline_alike(booking, client_for, create_intent, pay):
    intent_id = create_intent(booking)
    with pytest.raises(stripe.CardError):
        pay(intent_id, DECLINED_CARD)

    page = page_client(booking.patient).post(reverse("pages:pay_complete", args=[booking.pk]))
    after_page = state(booking)
    api = post_payment(client_for, booking, intent_id)

    assert page.status_code == 302
    assert page["Location"] == reverse("pages:pay", args=[booking.pk])
    (message,) = [str(m) for m in get_messages(page.wsgi_request)]
    assert message.startswith("The payment did not go through")
    assert api.status_code == 402
    assert after_page == state(booking) == ("pending_payment", "failed")


# isPaid: one definition -----------------------------------------------------------


@pytest.mark.django_db
def test_after_a_partial_refund_the_booking_and_the_payment_answer_agree(
    booking, client_for, create_intent, pay, stripe_client, post_event
):
    intent_id = create_intent(booking)
    pay(intent_id)
    assert post_payment(client_for, booking, intent_id).status_code == 200
    refund = stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 1000})
    # localstripe sends no refund events: this one is signed here, as Stripe would send it.
    event = {
        "id": "evt_partial_" + refund.id,
        "object": "event",
        "type": "refund.created",
        "data": {"object": refund.to_dict()},
    }
    assert post_event(event).status_code == 200

    detail = client_for(booking.patient).get(f"/api/v1/booking/{booking.pk}").json()["data"]
    answer = post_payment(client_for, booking, intent_id)

    assert answer.status_code == 200, answer.json()
    paid = answer.json()["data"]
    assert detail["paymentStatus"] == paid["paymentStatus"] == "partially_refunded"
    assert detail["isPaid"] is paid["isPaid"] is True
    assert detail["appointmentData"][0]["isPaid"] is True
    payment = Payment.objects.get(booking=booking)
    assert payment.is_paid() is True
    assert Booking.objects.get(pk=booking.pk).is_paid is True
    assert payment.amount_refunded == Decimal("10.00")


# Events in any order ---------------------------------------------------------------


def _paid_then_refunded(create_intent, booking, pay, stripe_client):
    """At localstripe: paid, then fully refunded; what Stripe said at three moments.

    localstripe cannot retry a declined PaymentIntent with another card (its confirm
    refuses an intent whose charge failed), so the failed moment is the same intent as
    Stripe reports a declined first attempt: awaiting a card, with the decline's error.
    """
    intent_id = create_intent(booking)
    pay(intent_id)
    succeeded = stripe_gateway.retrieve_payment(intent_id)
    stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 4000})
    refunded = stripe_gateway.retrieve_payment(intent_id)
    failed = stripe_gateway.PaymentSnapshot(
        stripe_gateway.Intent(
            **{
                **succeeded.intent.__dict__,
                "status": "requires_payment_method",
                "error_code": "card_declined",
                "error_message": "Your card was declined.",
            }
        )
    )
    assert succeeded.intent.status == refunded.intent.status == "succeeded"
    assert [r.amount for r in refunded.refunds] == [Decimal("40.00")]
    return intent_id, {"succeeded": succeeded, "failed": failed, "refunded": refunded}


def _payment_failed_event(succeeded: dict) -> dict:
    # localstripe cannot decline and then accept one intent (see above): the failure
    # event is its success event as Stripe sends a declined first attempt.
    failed = {
        **succeeded,
        "id": succeeded["id"] + "_failed",
        "type": "payment_intent.payment_failed",
    }
    failed["data"] = {
        "object": {
            **succeeded["data"]["object"],
            "status": "requires_payment_method",
            "last_payment_error": {"code": "card_declined", "message": "Declined."},
        }
    }
    return failed


def _charge_refunded_event(stripe_client, intent_id) -> dict:
    # localstripe sends no charge.refunded: signed here from its own charge, as Stripe would.
    charge = stripe_client.v1.payment_intents.retrieve(intent_id).latest_charge
    if isinstance(charge, str):
        charge = stripe_client.v1.charges.retrieve(charge)
    return {
        "id": f"evt_charge_refunded_{intent_id}",
        "object": "event",
        "type": "charge.refunded",
        "data": {"object": charge.to_dict()},
    }


ORDERS = list(itertools.permutations(["succeeded", "failed", "refunded"]))


def _assert_forward_and_consistent(seen: list[tuple[str, str]]) -> None:
    for pair in seen:
        assert pair not in BAD_PAIRS, seen
    ranks = [RANK[payment_status] for _status, payment_status in seen]
    assert ranks == sorted(ranks), seen


@pytest.mark.django_db
@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_webhook_events_in_any_order_end_confirmed_and_refunded(
    order, booking, create_intent, pay, stripe_client, stripe_events, post_event
):
    intent_id, _ = _paid_then_refunded(create_intent, booking, pay, stripe_client)
    succeeded = stripe_events(intent_id, "payment_intent.succeeded")
    events = {
        "succeeded": succeeded,
        "failed": _payment_failed_event(succeeded),
        "refunded": _charge_refunded_event(stripe_client, intent_id),
    }

    seen = []
    for name in order:
        response = post_event(events[name])
        assert response.status_code == 200, response.json()
        seen.append(state(booking))

    _assert_forward_and_consistent(seen)
    assert seen[-1] == ("confirmed", "refunded")
    payment = Payment.objects.get(booking=booking)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("40.00"))
    assert Refund.objects.filter(payment=payment).count() == 1
    assert StripeEvent.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_stale_answers_from_stripe_in_any_order_only_move_forward(
    order, booking, create_intent, pay, stripe_client
):
    """What Stripe said at three moments, applied in every order (as a slow page read
    and two webhooks may land): the guards keep each step forward, the end the same."""
    from payments.services import payment_apply_snapshot

    _, snapshots = _paid_then_refunded(create_intent, booking, pay, stripe_client)
    payment = Payment.objects.get(booking=booking)

    seen = []
    for name in order:
        payment_apply_snapshot(payment_id=payment.pk, snapshot=snapshots[name])
        seen.append(state(booking))

    _assert_forward_and_consistent(seen)
    assert seen[-1] == ("confirmed", "refunded")
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("40.00"))


@pytest.mark.django_db
def test_charge_refunded_before_succeeded_never_leaves_a_pending_refunded_booking(
    booking, create_intent, pay, stripe_client, stripe_events, post_event
):
    intent_id = create_intent(booking)
    pay(intent_id)
    stripe_client.v1.refunds.create({"payment_intent": intent_id, "amount": 4000})

    assert post_event(_charge_refunded_event(stripe_client, intent_id)).status_code == 200
    after_refund = state(booking)
    assert post_event(stripe_events(intent_id, "payment_intent.succeeded")).status_code == 200

    assert after_refund == state(booking) == ("confirmed", "refunded")


# One writer of the derived state; an append-only event log ------------------------


@pytest.mark.django_db
def test_only_the_payments_service_writes_a_bookings_payment_status():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    writers = []
    for app in ("accounts", "scheduling", "bookings", "payments"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                targets = []
                if isinstance(node, ast.Assign):
                    targets = node.targets
                elif isinstance(node, ast.AugAssign | ast.AnnAssign):
                    targets = [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr == "payment_status":
                        writers.append(f"{path.relative_to(root)}:{node.lineno}")
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "payment_status":
                            writers.append(f"{path.relative_to(root)}:{node.lineno}")
    assert len(writers) == 1 and writers[0].startswith("payments/services.py:"), writers


@pytest.mark.django_db
def test_stripe_events_are_append_only(post_event, stripe_settings):
    from payments.models import StripeEventAppendOnly

    post_event({"id": "evt_log_1", "object": "event", "type": "x.y", "data": {"object": {}}})
    record = StripeEvent.objects.get(event_id="evt_log_1")

    record.summary = "rewritten"
    with pytest.raises(StripeEventAppendOnly):
        record.save()
    with pytest.raises(StripeEventAppendOnly):
        record.delete()
    assert (
        StripeEvent.objects.get(event_id="evt_log_1").summary == "ignored: event type not handled"
    )
