from rest_framework import serializers

from bookings.models import is_paid
from doctors_portal.api.fields import FlexibleIdField
from payments.models import Payment

BOOKING_ID_REQUIRED = (
    "bookingId is required: the amount is computed from the booking on the server, "
    "and a price sent by the client is never charged."
)


class CreatePaymentIntentSerializer(serializers.Serializer):
    """`{bookingId}`. Any `price` in the body is ignored: it is not a field here."""

    bookingId = FlexibleIdField(
        min_value=1,
        error_messages={"required": BOOKING_ID_REQUIRED, "null": BOOKING_ID_REQUIRED},
    )

    def to_internal_value(self, data):
        if isinstance(data, dict) and "bookingId" not in data:
            # Other spellings the reference's clients use.
            for alias in ("bookingID", "booking_id"):
                if alias in data:
                    data = {**data, "bookingId": data[alias]}
                    break
        return super().to_internal_value(data)


class ConfirmPaymentSerializer(serializers.Serializer):
    """`{transactionid, bookingID}` as the reference client sends them."""

    transactionid = serializers.RegexField(
        r"^pi_[A-Za-z0-9_]{1,250}$",
        error_messages={"invalid": "transactionid must be a Stripe PaymentIntent id (pi_…)."},
    )
    bookingID = FlexibleIdField(min_value=1)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            aliases = {
                "bookingID": ("bookingId", "booking_id"),
                "transactionid": ("transactionId",),
            }
            for field, names in aliases.items():
                if field not in data:
                    for alias in names:
                        if alias in data:
                            data = {**data, field: data[alias]}
                            break
        return super().to_internal_value(data)


def payment_intent_data(payment: Payment) -> dict:
    return {
        "clientSecret": payment.client_secret,
        "paymentIntentId": payment.intent_id,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "bookingId": payment.booking_id,
    }


def payment_data(payment: Payment) -> dict:
    booking = payment.booking
    return {
        "id": payment.pk,
        "_id": payment.pk,
        "bookingId": booking.pk,
        "bookingID": booking.pk,
        "transactionid": payment.intent_id,
        "paymentIntentId": payment.intent_id,
        "amount": str(payment.amount),
        "amountRefunded": str(payment.amount_refunded),
        "currency": payment.currency,
        "state": payment.status,
        "status": booking.status,
        "paymentStatus": booking.payment_status,
        "isPaid": is_paid(booking.payment_status),
        "succeededAt": payment.succeeded_at.isoformat() if payment.succeeded_at else None,
    }


class PaymentIntentResponseSerializer(serializers.Serializer):
    clientSecret = serializers.CharField()
    paymentIntentId = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    bookingId = serializers.IntegerField()


class PaymentResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    bookingId = serializers.IntegerField()
    transactionid = serializers.CharField()
    paymentIntentId = serializers.CharField()
    amount = serializers.CharField()
    amountRefunded = serializers.CharField()
    currency = serializers.CharField()
    state = serializers.CharField()
    status = serializers.CharField()
    paymentStatus = serializers.CharField()
    isPaid = serializers.BooleanField()
    succeededAt = serializers.DateTimeField(allow_null=True)
