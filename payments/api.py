"""Payments API: parse → service/selector → serialize."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.permissions import IsPatient
from doctors_portal.api.responses import ok
from doctors_portal.api.throttling import OneTripScopedRateThrottle
from doctors_portal.errors import Conflict, PaymentError
from payments import selectors, services
from payments import stripe_gateway as gateway
from payments.serializers import (
    ConfirmPaymentSerializer,
    CreatePaymentIntentSerializer,
    PaymentIntentResponseSerializer,
    PaymentResponseSerializer,
    payment_data,
    payment_intent_data,
)
from payments.services import SyncOutcome


class PaymentViewSet(viewsets.ViewSet):
    """The booking's patient pays for it; Stripe's word decides whether it is paid."""

    permission_classes = [IsPatient]
    throttle_scope = "payment"

    def get_throttles(self):
        # Creating intents costs a Stripe call each: that is what the scope limits.
        if self.action == "create_payment_intent":
            return [OneTripScopedRateThrottle()]
        return []

    @extend_schema(
        summary="Create (or reuse) the PaymentIntent of a booking",
        request=CreatePaymentIntentSerializer,
        responses={
            200: PaymentIntentResponseSerializer,
            409: OpenApiResponse(
                description="Not payable (paid, cancelled, hold lapsed, also while Stripe "
                "was asked), or another call for this booking is with Stripe right now"
            ),
            502: OpenApiResponse(description="Stripe unreachable or too slow; nothing changed"),
        },
    )
    @action(detail=False, methods=["post"], url_path="create-payment-intent")
    def create_payment_intent(self, request):
        serializer = CreatePaymentIntentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.payment_intent_for_booking(
            patient=request.user, booking_id=serializer.validated_data["bookingId"]
        )
        data = payment_intent_data(payment)
        return ok(data, message="Payment intent ready", **data)

    @extend_schema(
        summary="Confirm a booking's payment from Stripe's record of it",
        request=ConfirmPaymentSerializer,
        responses={
            200: PaymentResponseSerializer,
            402: OpenApiResponse(description="The card was declined"),
            409: OpenApiResponse(
                description="Not succeeded or still processing (recorded), wrong amount, "
                "seat gone (refunded), or cancelled since"
            ),
            502: OpenApiResponse(description="Stripe unreachable; nothing changed"),
        },
    )
    @action(detail=False, methods=["post"], url_path="payment")
    def confirm(self, request):
        serializer = ConfirmPaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        booking = selectors.booking_payable_by(
            user=request.user, booking_id=serializer.validated_data["bookingID"]
        )
        if booking is None:
            raise NotFound("No such booking.")
        synced = services.payment_sync(
            intent_id=serializer.validated_data["transactionid"], booking_id=booking.pk
        )
        _raise_unless_paid(synced)
        return ok(payment_data(synced.payment), message="Payment confirmed")


def _raise_unless_paid(synced: services.PaymentSync) -> None:
    """POST payment answers 200 only for a paid booking; what Stripe said is recorded."""
    outcome = synced.outcome
    if outcome == SyncOutcome.DECLINED:
        raise PaymentError(synced.decline_message or "The card was declined.", path="transactionid")
    if outcome == SyncOutcome.PROCESSING:
        raise Conflict(
            "The payment is still processing; the booking is confirmed once it succeeds.",
            path="transactionid",
        )
    if outcome == SyncOutcome.NOT_COMPLETED:
        raise Conflict(
            f"The payment has not succeeded (Stripe status: {synced.stripe_status}).",
            path="transactionid",
        )
    if outcome == SyncOutcome.REFUNDED_CANCELLED:
        raise Conflict(
            "This booking was cancelled, so the payment of "
            f"{synced.payment.amount_refunded} {synced.payment.currency.upper()} was refunded.",
            path="bookingID",
        )
    if outcome == SyncOutcome.REFUNDED_SEAT_GONE:
        raise Conflict(
            "The hold had lapsed and the time was given to another patient, so the "
            f"payment of {synced.payment.amount_refunded} {synced.payment.currency.upper()} "
            "was refunded.",
            path="bookingID",
        )
    if not synced.booking_is_confirmed:
        # Paid once, but the booking has since been cancelled or refunded.
        raise Conflict(services.booking_payment_summary(synced.booking), path="bookingID")


class StripeWebhookView(APIView):
    """Stripe's events. No user: the signature over the raw body is the authentication."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    # Not in the client API's schema: only Stripe calls it, with a body Stripe's own
    # event schema describes, and no request a schema fuzzer makes can be validly signed.
    @extend_schema(exclude=True)
    def post(self, request):
        # The raw bytes, never request.data: the signature is over the exact body.
        event = gateway.verify_webhook(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
        receipt = services.stripe_event_apply(event=event)
        return ok(
            {
                "eventId": event.id,
                "type": event.type,
                "duplicate": receipt.duplicate,
                "summary": receipt.summary,
            },
            message="Event received",
        )
