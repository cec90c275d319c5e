"""Money is never kept for a seat not given; cancellations refund by the 24-hour rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from bookings.models import BookingStatus, PaymentStatus
from bookings.services import booking_cancel, booking_create
from payments.models import ChargeStatus, Payment, Refund
from tests.factories import PatientFactory, SlotFactory
from tests.payments.conftest import lapse_hold

PAY = "/api/v1/payment"


def refunds_at_stripe(stripe_client, intent_id):
    return stripe_client.v1.refunds.list({"payment_intent": intent_id}).data


@pytest.fixture
def paid_booking(booking, client_for, create_intent, pay):
    intent_id = create_intent(booking)
    pay(intent_id)
    response = client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    booking.refresh_from_db()
    return booking


@pytest.mark.django_db
def test_late_payment_after_the_seat_went_to_someone_else_is_refunded_and_booking_expired(
    booking, client_for, create_intent, pay, stripe_client, django_capture_on_commit_callbacks
):
    intent_id = create_intent(booking)
    lapse_hold(booking)
    newcomer = booking_create(patient=PatientFactory(), slot_id=booking.slot_id)  # takes the seat
    pay(intent_id)  # the first patient pays late, with the page still open

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(booking.patient).post(
            PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
        )

    assert response.status_code == 409
    assert "refunded" in response.json()["errorMessages"][0]["message"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.EXPIRED
    assert booking.payment_status == PaymentStatus.REFUNDED
    payment = Payment.objects.get(booking=booking)
    assert payment.status == ChargeStatus.REFUNDED
    assert payment.amount_refunded == Decimal("40.00")
    (refund,) = Refund.objects.filter(payment=payment)
    assert refund.amount == Decimal("40.00")
    (at_stripe,) = refunds_at_stripe(stripe_client, intent_id)
    assert at_stripe.amount == 4000 and at_stripe.id == refund.refund_id
    newcomer.refresh_from_db()
    assert newcomer.status == BookingStatus.PENDING_PAYMENT  # the seat stays theirs
    (notice,) = mail.outbox
    assert notice.to == [booking.patient.email]
    assert "refunded" in notice.body


@pytest.mark.django_db
def test_late_payment_by_webhook_after_the_seat_went_is_refunded_once(
    booking, create_intent, pay, stripe_client, stripe_events, post_event
):
    intent_id = create_intent(booking)
    lapse_hold(booking)
    booking_create(patient=PatientFactory(), slot_id=booking.slot_id)
    pay(intent_id)
    event = stripe_events(intent_id, "payment_intent.succeeded")

    first = post_event(event)
    replay = post_event({**event, "id": event["id"] + "_redelivered"})

    assert first.status_code == replay.status_code == 200
    assert first.json()["data"]["summary"] == "refunded: seat no longer available"
    assert replay.json()["data"]["summary"] == "already applied"
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("expired", "refunded")
    assert len(refunds_at_stripe(stripe_client, intent_id)) == 1


@pytest.mark.django_db
def test_late_payment_when_the_seat_is_still_free_confirms(booking, client_for, create_intent, pay):
    intent_id = create_intent(booking)
    lapse_hold(booking)
    pay(intent_id)

    response = client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    assert response.status_code == 200, response.json()
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


@pytest.mark.django_db
def test_late_payment_after_hold_marked_expired_but_seat_free_confirms(
    booking, client_for, create_intent, pay
):
    from bookings.services import booking_expire_lapsed

    intent_id = create_intent(booking)
    lapse_hold(booking)
    assert booking_expire_lapsed() == 1  # the hold is recorded expired; nobody took the seat
    pay(intent_id)

    response = client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    assert response.status_code == 200, response.json()
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")


@pytest.mark.django_db
def test_patient_cancel_24_hours_or_more_ahead_is_fully_refunded(
    paid_booking, stripe_client, django_capture_on_commit_callbacks
):
    assert paid_booking.slot.start - timezone.now() > timedelta(hours=24)

    with django_capture_on_commit_callbacks(execute=True):
        result = booking_cancel(booking_id=paid_booking.pk, by=paid_booking.patient)

    assert result.refunded is True
    assert result.refund_amount == Decimal("40.00")
    paid_booking.refresh_from_db()
    assert paid_booking.status == BookingStatus.CANCELLED
    assert paid_booking.payment_status == PaymentStatus.REFUNDED
    payment = Payment.objects.get(booking=paid_booking)
    assert (payment.status, payment.amount_refunded) == ("refunded", Decimal("40.00"))
    (refund,) = refunds_at_stripe(stripe_client, payment.intent_id)
    assert refund.amount == 4000
    # The patient is told of the refund, the doctor of the freed seat.
    notice, doctor_notice = mail.outbox
    assert notice.to == [paid_booking.patient.email]
    assert "40.00 USD is being refunded" in notice.body
    assert doctor_notice.to == [paid_booking.doctor.email]


@pytest.mark.django_db
def test_patient_cancel_less_than_24_hours_ahead_is_not_refunded(
    make_booking,
    patient,
    doctor,
    client_for,
    create_intent,
    pay,
    stripe_client,
    stripe_settings,
    django_capture_on_commit_callbacks,
):
    soon = timezone.now() + timedelta(hours=3)
    booking = make_booking(patient, SlotFactory(doctor=doctor, start=soon))
    intent_id = create_intent(booking)
    pay(intent_id)
    client_for(patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    with django_capture_on_commit_callbacks(execute=True):
        result = booking_cancel(booking_id=booking.pk, by=patient)

    assert result.refunded is False
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.payment_status == PaymentStatus.PAID
    assert refunds_at_stripe(stripe_client, intent_id) == []
    assert not Refund.objects.exists()
    (notice,) = [m for m in mail.outbox if m.to == [patient.email] and "cancelled" in m.subject]
    assert "Nothing is refunded" in notice.body


@pytest.mark.django_db
@pytest.mark.parametrize("canceller", ["doctor", "admin_user"])
def test_doctor_or_admin_cancel_is_fully_refunded_even_inside_24_hours(
    request,
    make_booking,
    patient,
    doctor,
    client_for,
    create_intent,
    pay,
    stripe_client,
    stripe_settings,
    canceller,
):
    booking = make_booking(
        patient, SlotFactory(doctor=doctor, start=timezone.now() + timedelta(hours=2))
    )
    intent_id = create_intent(booking)
    pay(intent_id)
    client_for(patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    result = booking_cancel(booking_id=booking.pk, by=request.getfixturevalue(canceller))

    assert result.refund_amount == Decimal("40.00")
    booking.refresh_from_db()
    assert booking.payment_status == PaymentStatus.REFUNDED
    assert [r.amount for r in refunds_at_stripe(stripe_client, intent_id)] == [4000]


@pytest.mark.django_db
def test_cancel_through_the_bookings_api_reports_the_refund(paid_booking, client_for):
    response = client_for(paid_booking.patient).post(
        f"/api/v1/bookings/{paid_booking.pk}/cancel", format="json"
    )
    assert response.status_code == 200, response.json()
    paid_booking.refresh_from_db()
    assert paid_booking.payment_status == PaymentStatus.REFUNDED
    assert Payment.objects.get(booking=paid_booking).amount_refunded == Decimal("40.00")


def _charge_of(stripe_client, intent_id) -> dict:
    latest = stripe_client.v1.payment_intents.retrieve(intent_id).latest_charge
    # localstripe returns latest_charge expanded; Stripe returns its id.
    if isinstance(latest, str):
        latest = stripe_client.v1.charges.retrieve(latest)
    return latest.to_dict()


@pytest.mark.django_db
def test_refund_events_from_stripe_are_recorded_once(paid_booking, stripe_client, post_event):
    # Refunds made at localstripe (as from Stripe's dashboard). localstripe sends no
    # refund events, so this test signs the events Stripe would send for them; the app
    # then reads the refunds from localstripe itself.
    payment = Payment.objects.get(booking=paid_booking)
    refund = stripe_client.v1.refunds.create(
        {"payment_intent": payment.intent_id, "amount": 1500}
    ).to_dict()
    created = {
        "id": "evt_refund_created_" + refund["id"],
        "object": "event",
        "type": "refund.created",
        "data": {"object": {**refund, "payment_intent": payment.intent_id}},
    }

    assert post_event(created).status_code == 200
    assert post_event(created).json()["data"]["duplicate"] is True

    payment.refresh_from_db()
    paid_booking.refresh_from_db()
    assert payment.amount_refunded == Decimal("15.00")
    assert payment.status == ChargeStatus.PARTIALLY_REFUNDED
    assert paid_booking.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    assert Refund.objects.get(refund_id=refund["id"]).amount == Decimal("15.00")

    stripe_client.v1.refunds.create({"payment_intent": payment.intent_id, "amount": 2500})
    charge = _charge_of(stripe_client, payment.intent_id)
    charge_refunded = {
        "id": "evt_charge_refunded_" + charge["id"],
        "object": "event",
        "type": "charge.refunded",
        "data": {"object": charge},
    }
    assert post_event(charge_refunded).status_code == 200
    payment.refresh_from_db()
    paid_booking.refresh_from_db()
    assert payment.amount_refunded == Decimal("40.00")
    assert paid_booking.payment_status == PaymentStatus.REFUNDED
    assert Refund.objects.filter(payment=payment).count() == 2

    # An older event, with a smaller total, arriving late never moves the record back.
    stale = {**charge_refunded, "id": charge_refunded["id"] + "_stale"}
    stale["data"] = {"object": {**charge, "amount_refunded": 1500}}
    assert post_event(stale).status_code == 200
    payment.refresh_from_db()
    assert payment.amount_refunded == Decimal("40.00")
