"""Money is Decimal everywhere; minor units exist only at the Stripe edge."""

from decimal import Decimal

import pytest

from payments.models import Payment
from payments.stripe_gateway import from_minor_units, to_minor_units

# The suite's autouse cache reset (tests/conftest.py) needs the database, even here.
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "amount,currency,minor",
    [
        (Decimal("40.00"), "usd", 4000),
        (Decimal("0.50"), "USD", 50),
        (Decimal("1234.56"), "eur", 123456),
        (Decimal("4000"), "jpy", 4000),  # zero-decimal: ¥4000 is 4000, not 400000
        (Decimal("4000.00"), "jpy", 4000),
        (Decimal("1500"), "krw", 1500),
        (Decimal("1.234"), "kwd", 1234),  # three-decimal
    ],
)
def test_minor_units_conversion_both_ways(amount, currency, minor):
    assert to_minor_units(amount, currency) == minor
    back = from_minor_units(minor, currency)
    assert isinstance(back, Decimal)
    assert back == amount


def test_minor_units_keep_the_currency_exponent():
    assert str(from_minor_units(4000, "usd")) == "40.00"
    assert str(from_minor_units(4000, "jpy")) == "4000"


@pytest.mark.parametrize(
    "amount,currency", [(Decimal("40.005"), "usd"), (Decimal("4000.50"), "jpy")]
)
def test_minor_units_refuse_to_round_money(amount, currency):
    with pytest.raises(ValueError, match="decimals"):
        to_minor_units(amount, currency)


def test_minor_units_refuse_floats():
    with pytest.raises(TypeError, match="Decimal"):
        to_minor_units(40.0, "usd")


def test_jpy_booking_is_charged_in_whole_yen(
    patient, client_for, stripe_client, make_booking, stripe_settings
):
    from tests.factories import ServiceFactory, SlotFactory

    service = ServiceFactory(name="Yen consult", price=Decimal("4000.00"), currency="jpy")
    booking = make_booking(patient, SlotFactory(service=service))

    response = client_for(patient).post(
        "/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == "4000.00"
    at_stripe = stripe_client.v1.payment_intents.retrieve(response.json()["paymentIntentId"])
    assert (at_stripe.amount, at_stripe.currency) == (4000, "jpy")
    payment = Payment.objects.get(booking=booking)
    assert isinstance(payment.amount, Decimal)
    assert payment.amount == Decimal("4000.00")


def test_gateway_confirms_with_a_tokenised_card_and_reports_a_decline(
    booking, create_intent, stripe_client
):
    from doctors_portal.api.errors import PaymentError
    from payments.stripe_gateway import confirm_payment_intent

    def card(number):
        return stripe_client.v1.payment_methods.create(
            {
                "type": "card",
                "card": {"number": number, "exp_month": 1, "exp_year": 2035, "cvc": "123"},
            }
        ).id

    intent = confirm_payment_intent(
        intent_id=create_intent(booking), payment_method_id=card("4242424242424242")
    )
    assert intent.succeeded and intent.amount == Decimal("40.00")

    other = booking_create_for(booking)
    with pytest.raises(PaymentError):
        confirm_payment_intent(
            intent_id=create_intent(other), payment_method_id=card("4000000000000341")
        )


def booking_create_for(booking):
    from bookings.services import booking_create
    from tests.factories import SlotFactory

    return booking_create(patient=booking.patient, slot_id=SlotFactory().pk)
