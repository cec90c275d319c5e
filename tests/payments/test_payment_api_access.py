"""Who may call the payment endpoints, and what bad input gets back."""

import pytest

from bookings.models import Booking, BookingStatus, PaymentStatus
from payments.models import ChargeStatus, Payment
from tests.payments.conftest import lapse_hold

CREATE = "/api/v1/create-payment-intent"
PAY = "/api/v1/payment"


@pytest.mark.django_db
def test_create_payment_intent_anonymous_is_401(api_client, booking):
    response = api_client.post(CREATE, {"bookingId": booking.pk}, format="json")
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication Error"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_payment_anonymous_is_401(api_client, booking):
    response = api_client.post(
        PAY, {"transactionid": "pi_x", "bookingID": booking.pk}, format="json"
    )
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["doctor", "admin_user"])
@pytest.mark.parametrize("path", [CREATE, PAY])
def test_payment_endpoints_wrong_role_is_403(request, client_for, booking, role, path):
    user = request.getfixturevalue(role)
    response = client_for(user).post(
        path,
        {"bookingId": booking.pk, "bookingID": booking.pk, "transactionid": "pi_x"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["message"] == "Permission Denied"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_create_payment_intent_for_another_patients_booking_is_404(
    client_for, booking, other_patient
):
    response = client_for(other_patient).post(CREATE, {"bookingId": booking.pk}, format="json")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_create_payment_intent_unknown_booking_is_404_like_anothers(client_for, patient, booking):
    # Unknown and not-yours answer alike: no existence leaks.
    response = client_for(patient).post(CREATE, {"bookingId": booking.pk + 1000}, format="json")
    assert response.status_code == 404


@pytest.mark.django_db
def test_payment_for_another_patients_booking_is_404(
    client_for, booking, other_patient, create_intent, pay
):
    intent_id = create_intent(booking)
    pay(intent_id)
    response = client_for(other_patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    assert response.status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT


@pytest.mark.django_db
def test_create_payment_intent_with_only_price_is_400_saying_booking_id_is_required(
    client_for, patient, stripe_settings
):
    response = client_for(patient).post(CREATE, {"price": 5}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errorMessages"]
    assert error["path"] == "bookingId"
    assert "bookingId is required" in error["message"]
    assert "price" in error["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["abc", True, [1], {"id": 1}, 1.5, 0, -3, None, ""])
def test_create_payment_intent_wrong_type_booking_id_is_400(client_for, patient, value):
    response = client_for(patient).post(CREATE, {"bookingId": value}, format="json")
    assert response.status_code == 400
    assert response.json()["errorMessages"][0]["path"] == "bookingId"


@pytest.mark.django_db
def test_create_payment_intent_malformed_json_is_400(client_for, patient):
    response = client_for(patient).post(CREATE, data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["success"] is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,path",
    [
        ({"bookingID": 1}, "transactionid"),
        ({"transactionid": "pi_abc"}, "bookingID"),
        ({"transactionid": "ch_not_an_intent", "bookingID": 1}, "transactionid"),
        ({"transactionid": 42, "bookingID": 1}, "transactionid"),
        ({"transactionid": "pi_abc", "bookingID": "one"}, "bookingID"),
    ],
)
def test_payment_bad_input_is_400(client_for, patient, body, path):
    response = client_for(patient).post(PAY, body, format="json")
    assert response.status_code == 400
    assert path in [e["path"] for e in response.json()["errorMessages"]]


@pytest.mark.django_db
def test_payment_unknown_transactionid_is_400(client_for, booking, create_intent):
    create_intent(booking)
    response = client_for(booking.patient).post(
        PAY, {"transactionid": "pi_doesnotexist", "bookingID": booking.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errorMessages"][0]["path"] == "transactionid"


@pytest.mark.django_db
def test_payment_with_another_bookings_intent_is_400_and_changes_nothing(
    client_for, make_booking, patient, create_intent, pay, stripe_settings
):
    paid_one = make_booking(patient)
    other_one = make_booking(patient)
    intent_id = create_intent(paid_one)
    create_intent(other_one)
    pay(intent_id)

    response = client_for(patient).post(
        PAY, {"transactionid": intent_id, "bookingID": other_one.pk}, format="json"
    )

    assert response.status_code == 400
    assert "does not belong" in response.json()["errorMessages"][0]["message"]
    for booking in (paid_one, other_one):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.PENDING_PAYMENT
        assert booking.payment_status == PaymentStatus.UNPAID


@pytest.mark.django_db
def test_payment_with_tampered_amount_is_409_and_changes_nothing(
    client_for, booking, create_intent, stripe_client, pay
):
    intent_id = create_intent(booking)
    # The intent's amount is changed at Stripe before paying (40.00 → 0.50).
    stripe_client.v1.payment_intents.update(intent_id, {"amount": 50})
    pay(intent_id)

    response = client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )

    assert response.status_code == 409
    assert "amount" in response.json()["errorMessages"][0]["message"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT
    assert Payment.objects.get(booking=booking).status == ChargeStatus.REQUIRES_PAYMENT


@pytest.mark.django_db
def test_webhook_with_tampered_amount_is_refused_and_changes_nothing(
    booking, create_intent, stripe_client, pay, stripe_events, post_event
):
    intent_id = create_intent(booking)
    stripe_client.v1.payment_intents.update(intent_id, {"amount": 50})
    pay(intent_id)

    response = post_event(stripe_events(intent_id, "payment_intent.succeeded"))

    assert response.status_code == 200  # recorded, so Stripe does not retry it for ever
    assert "amount" in response.json()["data"]["summary"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT


@pytest.mark.django_db
def test_payment_before_paying_at_stripe_is_409(client_for, booking, create_intent):
    intent_id = create_intent(booking)
    response = client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    assert response.status_code == 409
    assert "has not succeeded" in response.json()["errorMessages"][0]["message"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["confirmed", "cancelled", "expired", "lapsed"])
def test_create_payment_intent_for_a_booking_not_payable_is_409(client_for, booking, status):
    if status == "lapsed":
        lapse_hold(booking)  # still pending_payment in the table, but its hold is over
    else:
        Booking.objects.filter(pk=booking.pk).update(status=status)
    response = client_for(booking.patient).post(CREATE, {"bookingId": booking.pk}, format="json")
    assert response.status_code == 409
    assert response.json()["message"] == "Conflict"
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_create_payment_intent_is_throttled_by_the_payment_scope(client_for, booking, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "payment", "2/min")
    client = client_for(booking.patient)
    codes = [
        client.post(CREATE, {"bookingId": booking.pk}, format="json").status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
