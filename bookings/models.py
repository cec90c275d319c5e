from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class BookingStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No show"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PROCESSING = "processing", "Processing"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"


# "Is paid", the one definition: after a partial refund the appointment is still paid for.
PAID_PAYMENT_STATUSES = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})


def is_paid(payment_status: str) -> bool:
    return payment_status in PAID_PAYMENT_STATUSES


# Statuses that occupy a seat (a pending one only until its hold expires).
SEAT_HOLDING_STATUSES = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)


class Booking(models.Model):
    # Indexed by the newest-first indexes below, which lead with these columns: a second,
    # plain index only tempted a generic plan into sorting a busy doctor's whole list.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,
    )
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="doctor_bookings",
        db_index=False,
    )
    slot = models.ForeignKey("scheduling.Slot", on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(
        "scheduling.Service", on_delete=models.PROTECT, related_name="bookings"
    )
    # Copied from the service when booked: later price changes never touch it.
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=BookingStatus.choices, default=BookingStatus.PENDING_PAYMENT
    )
    # Derived from the booking's Payment (payments.models.Payment.booking_payment_status)
    # and written only by payments.services; kept here so booking rows read one table.
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    patient_phone = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "patient"],
                condition=Q(status__in=SEAT_HOLDING_STATUSES),
                name="booking_one_active_per_patient_slot",
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="booking_price_positive"),
            models.CheckConstraint(
                condition=~Q(status=BookingStatus.PENDING_PAYMENT) | Q(expires_at__isnull=False),
                name="booking_pending_has_expiry",
            ),
        ]
        indexes = [
            # The lists' whole order (newest first, then id): a page is read off the index
            # in order, so even a plan made for the average patient or doctor (a prepared
            # statement's generic plan) stays a short index scan for the busiest one.
            models.Index(
                fields=["patient", "-created_at", "-id"], name="booking_patient_newest_idx"
            ),
            models.Index(fields=["doctor", "-created_at", "-id"], name="booking_doctor_newest_idx"),
            models.Index(fields=["slot", "status"], name="booking_slot_status_idx"),
            models.Index(fields=["status", "expires_at"], name="booking_status_expiry_idx"),
            # Lapsed holds of one slot, counted by every availability read: only the
            # pending rows are indexed, so it stays small however many bookings exist.
            models.Index(
                fields=["slot", "expires_at"],
                condition=Q(status=BookingStatus.PENDING_PAYMENT),
                name="booking_pending_slot_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking #{self.pk} ({self.status})"

    @property
    def is_paid(self) -> bool:
        return is_paid(self.payment_status)
