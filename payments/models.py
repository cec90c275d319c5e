"""Payment, Refund and StripeEvent, in the style of saleor's payment module.

A Payment's `status` (ChargeStatus) only moves forward, through its guard methods.
A booking's `payment_status` is derived from it by `Payment.booking_payment_status`,
and only `payments.services` writes that derivation onto the booking.
"""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from bookings.models import PaymentStatus, is_paid


class ChargeStatus(models.TextChoices):
    """Where one Stripe PaymentIntent stands: charged, not yet, or refunded."""

    REQUIRES_PAYMENT = "requires_payment", "Requires payment"
    PROCESSING = "processing", "Processing"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    CANCELLED = "cancelled", "Cancelled"


# How far along each status is; a payment never moves to a lower rank. Failed and
# processing share a rank: a processing payment may fail, a failed card may be retried.
CHARGE_STATUS_RANK = {
    ChargeStatus.REQUIRES_PAYMENT: 0,
    ChargeStatus.CANCELLED: 0,
    ChargeStatus.FAILED: 1,
    ChargeStatus.PROCESSING: 1,
    ChargeStatus.SUCCEEDED: 2,
    ChargeStatus.PARTIALLY_REFUNDED: 3,
    ChargeStatus.REFUNDED: 4,
}

# The booking's view of each charge status (API.md's `paymentStatus`).
BOOKING_PAYMENT_STATUS = {
    ChargeStatus.REQUIRES_PAYMENT: PaymentStatus.UNPAID,
    ChargeStatus.CANCELLED: PaymentStatus.UNPAID,
    ChargeStatus.PROCESSING: PaymentStatus.PROCESSING,
    ChargeStatus.FAILED: PaymentStatus.FAILED,
    ChargeStatus.SUCCEEDED: PaymentStatus.PAID,
    ChargeStatus.PARTIALLY_REFUNDED: PaymentStatus.PARTIALLY_REFUNDED,
    ChargeStatus.REFUNDED: PaymentStatus.REFUNDED,
}


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
        max_length=24, choices=ChargeStatus.choices, default=ChargeStatus.REQUIRES_PAYMENT
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

    @property
    def booking_payment_status(self) -> PaymentStatus:
        """The one derivation of a booking's payment state (API.md `paymentStatus`)."""
        return BOOKING_PAYMENT_STATUS[ChargeStatus(self.status)]

    def is_paid(self) -> bool:
        return is_paid(self.booking_payment_status)

    def is_charged(self) -> bool:
        """Stripe took the money at some point (refunded since, or not)."""
        return CHARGE_STATUS_RANK[ChargeStatus(self.status)] >= CHARGE_STATUS_RANK["succeeded"]

    # Guards: every status change asks one of these first.

    def can_process(self) -> bool:
        return self.status in (ChargeStatus.REQUIRES_PAYMENT, ChargeStatus.FAILED)

    def can_succeed(self) -> bool:
        return self.status in (
            ChargeStatus.REQUIRES_PAYMENT,
            ChargeStatus.PROCESSING,
            ChargeStatus.FAILED,
        )

    def can_fail(self) -> bool:
        # A late failure event never un-pays a payment that succeeded.
        return self.status in (ChargeStatus.REQUIRES_PAYMENT, ChargeStatus.PROCESSING)

    def can_refund(self) -> bool:
        return self.is_charged() and self.refundable_amount > 0

    def refunded_status(self) -> ChargeStatus:
        """The charge status that `amount_refunded` implies for a charged payment."""
        if self.amount_refunded >= self.amount:
            return ChargeStatus.REFUNDED
        if self.amount_refunded > 0:
            return ChargeStatus.PARTIALLY_REFUNDED
        return ChargeStatus.SUCCEEDED


class RefundStatus(models.TextChoices):
    """Stripe's refund statuses."""

    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


# Refund statuses that mean money is (being) returned; failed and canceled ones are not.
COUNTED_REFUND_STATUSES = frozenset(
    {RefundStatus.PENDING, RefundStatus.REQUIRES_ACTION, RefundStatus.SUCCEEDED}
)


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    refund_id = models.CharField(max_length=255, unique=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=32, choices=RefundStatus.choices, default=RefundStatus.SUCCEEDED
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.refund_id} {self.amount}"

    @property
    def is_counted(self) -> bool:
        return self.status in COUNTED_REFUND_STATUSES


class StripeEventAppendOnly(Exception):
    """A StripeEvent row was about to be changed or deleted: the log is append-only."""


class StripeEvent(models.Model):
    """Append-only log of every Stripe event applied, with what applying it did.

    One row per event id (unique), written once in the transaction of the effect.
    """

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)
    # What applying it did: a SyncOutcome, "refused: …", "ignored: …".
    summary = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["type", "-received_at"], name="stripe_event_type_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise StripeEventAppendOnly(f"Stripe event {self.event_id} is already recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise StripeEventAppendOnly(f"Stripe event {self.event_id} cannot be deleted.")


class PaymentIntentClaim(models.Model):
    """A create-payment-intent call for this booking is with Stripe right now.

    Written and committed under the booking's lock before Stripe is asked (no lock or
    connection is held while it answers), removed when the answer is stored or the call
    fails. A second call meanwhile is refused (409) instead of creating a second intent;
    a claim older than the Stripe call's bound is a call that died and is taken over
    (payments.services.payment_intent_for_booking).
    """

    booking = models.OneToOneField(
        "bookings.Booking", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Whose claim it is: only its own call removes it, never one that took it over.
    token = models.CharField(max_length=32)
    claimed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"booking {self.booking_id} since {self.claimed_at:%H:%M:%S}"
