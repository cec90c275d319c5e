"""Payments API: parse → service/selector → serialize."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.permissions import IsPatient
from doctors_portal.api.errors import Conflict, PaymentError
from doctors_portal.api.responses import ok
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


class PaymentViewSet(viewsets.ViewSet):
    """The booking's patient pays for it; Stripe's word decides whether it is paid."""

    permission_classes = [IsPatient]
    throttle_scope = "payment"

    def get_throttles(self):
        # Creating intents costs a Stripe call each: that is what the scope limits.
        if self.action == "create_payment_intent":
            return [ScopedRateThrottle()]
        return []

    @extend_schema(
        summary="Create (or reuse) the PaymentIntent of a booking",
        request=CreatePaymentIntentSerializer,
        responses={200: PaymentIntentResponseSerializer},
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
            409: OpenApiResponse(description="Not succeeded, wrong amount, or seat gone"),
            502: OpenApiResponse(description="Stripe unreachable; nothing changed"),
        },
    )
    @action(detail=False, methods=["post"], url_path="payment")
    def confirm(self, request):
        serializer = ConfirmPaymentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        intent_id = serializer.validated_data["transactionid"]
        booking = selectors.booking_payable_by(
            user=request.user, booking_id=serializer.validated_data["bookingID"]
        )
        if booking is None:
            raise NotFound("No such booking.")
        payment = selectors.payment_for_booking(booking=booking)
        if payment is None or payment.intent_id != intent_id:
            # Checked before asking Stripe: an intent of another booking never applies here.
            raise ValidationError(
                {"transactionid": ["This payment does not belong to this booking."]}
            )
        intent = gateway.retrieve_payment_intent(intent_id)
        if not intent.succeeded and intent.error_message:
            services.payment_record_failure(intent=intent)
            raise PaymentError(intent.error_message, path="transactionid")
        outcome = services.payment_confirm_from_intent(intent=intent, booking_id=booking.pk)
        if outcome.result == services.Outcome.REFUNDED_SEAT_GONE:
            raise Conflict(
                "The hold had lapsed and the time was given to another patient, so the "
                f"payment of {outcome.payment.amount_refunded} {outcome.payment.currency.upper()} "
                "was refunded.",
                path="bookingID",
            )
        return ok(payment_data(outcome.payment), message="Payment confirmed")


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
        result = services.stripe_event_apply(event=event)
        return ok(
            {
                "eventId": event.id,
                "type": event.type,
                "duplicate": result.duplicate,
                "outcome": result.outcome,
            },
            message="Event received",
        )
