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
            # A patient's no-shows, counted beside every booking row a doctor reads.
            models.Index(
                fields=["patient"],
                condition=Q(status=BookingStatus.NO_SHOW),
                name="booking_patient_no_show_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Booking #{self.pk} ({self.status})"

    @property
    def is_paid(self) -> bool:
        return is_paid(self.payment_status)


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Offered"  # holds a seat of `offer_slot` until `offer_expires_at`
    CLAIMED = "claimed", "Claimed"  # the patient booked the offered (or another) seat
    LAPSED = "lapsed", "Lapsed"  # the offer ran out; the seat went down the line
    LEFT = "left", "Left"  # the patient left the line (or was erased)
    CLOSED = "closed", "Closed"  # the slot was withdrawn


# Entries still in the line (waiting, or holding an offer).
WAITLIST_OPEN_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistEntry(models.Model):
    """A patient in line for a full slot, or for any slot of a doctor on a clinic day.

    An offer is a seat of the seat ledger (bookings.seats): `Slot.seats_taken` counts it
    while it stands, readers count a lapsed one as free (like a lapsed hold), and the
    next writer on the slot passes it down the line.
    """

    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    # Either a slot, or (doctor, day): any slot of that doctor on that clinic day.
    slot = models.ForeignKey(
        "scheduling.Slot",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="waitlist_entries",
    )
    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    day = models.DateField()
    status = models.CharField(
        max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    offer_slot = models.ForeignKey(
        "scheduling.Slot", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "slot"],
                condition=Q(status__in=WAITLIST_OPEN_STATUSES, slot__isnull=False),
                name="waitlist_one_open_per_patient_slot",
            ),
            models.UniqueConstraint(
                fields=["patient", "doctor", "day"],
                condition=Q(status__in=WAITLIST_OPEN_STATUSES, slot__isnull=True),
                name="waitlist_one_open_per_patient_day",
            ),
            models.CheckConstraint(
                condition=~Q(status=WaitlistStatus.OFFERED)
                | Q(offer_slot__isnull=False, offer_expires_at__isnull=False),
                name="waitlist_offer_has_slot_and_expiry",
            ),
        ]
        indexes = [
            # The line of one slot, and of one doctor's day, in order.
            models.Index(
                fields=["slot", "created_at", "id"],
                condition=Q(status=WaitlistStatus.WAITING),
                name="waitlist_slot_line_idx",
            ),
            models.Index(
                fields=["doctor", "day", "created_at", "id"],
                condition=Q(status=WaitlistStatus.WAITING),
                name="waitlist_day_line_idx",
            ),
            # Standing and lapsed offers of a slot, counted by every availability read.
            models.Index(
                fields=["offer_slot", "offer_expires_at"],
                condition=Q(status=WaitlistStatus.OFFERED),
                name="waitlist_offer_slot_idx",
            ),
            models.Index(fields=["patient", "created_at"], name="waitlist_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"Waitlist #{self.pk} ({self.status})"
