from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class PaymentState(models.TextChoices):
    REQUIRES_PAYMENT = "requires_payment", "Requires payment"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    CANCELLED = "cancelled", "Cancelled"


class Payment(models.Model):
    """One Stripe PaymentIntent for one booking. Amounts are Decimal in major units."""

    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.PROTECT, related_name="payment"
    )
    intent_id = models.CharField(max_length=255, unique=True)
    client_secret = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=24, choices=PaymentState.choices, default=PaymentState.REQUIRES_PAYMENT
    )
    amount_refunded = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    failure_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.intent_id} ({self.status})"

    @property
    def refundable_amount(self) -> Decimal:
        return self.amount - self.amount_refunded

    def is_paid(self) -> bool:
        return self.status in (
            PaymentState.SUCCEEDED,
            PaymentState.PARTIALLY_REFUNDED,
            PaymentState.REFUNDED,
        )

    def can_succeed(self) -> bool:
        return self.status in (
            PaymentState.REQUIRES_PAYMENT,
            PaymentState.PROCESSING,
            PaymentState.FAILED,
        )

    def can_fail(self) -> bool:
        # A late failure event never un-pays a payment that succeeded.
        return self.status in (PaymentState.REQUIRES_PAYMENT, PaymentState.PROCESSING)

    def can_refund(self) -> bool:
        return (
            self.status in (PaymentState.SUCCEEDED, PaymentState.PARTIALLY_REFUNDED)
            and self.refundable_amount > 0
        )


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=32, default="succeeded")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount}"


class StripeEvent(models.Model):
    """Append-only log of every Stripe event received; the unique id applies each once."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["type", "-received_at"], name="stripe_event_type_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
