"""The outbox: one row per notification decided, written in the transaction of the
change it reports and delivered by the worker (doctors_portal/outbox.py).

Invariant 10: `key` is unique, and for booking mails it is made of (booking, kind,
offset), so a notification is queued once however often the change is replayed.
"""

from django.conf import settings
from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its first or next attempt
    SENDING = "sending", "Sending"  # claimed by a worker until `claimed_until`
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # gave up after OUTBOX_MAX_ATTEMPTS; retry from the admin
    SKIPPED = "skipped", "Skipped"  # no longer true at send time (a cancelled booking)


class OutboxKind(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed (patient)"
    BOOKING_NEW_FOR_DOCTOR = "booking_new_for_doctor", "New booking (doctor)"
    BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled (patient)"
    BOOKING_CANCELLED_FOR_DOCTOR = "booking_cancelled_for_doctor", "Booking cancelled (doctor)"
    PAYMENT_REFUNDED_SEAT_GONE = "payment_refunded_seat_gone", "Refunded, seat gone (patient)"
    REMINDER = "reminder", "Reminder (patient)"
    BOOKING_RESCHEDULED = "booking_rescheduled", "Booking rescheduled (patient)"
    BOOKING_RESCHEDULED_FOR_DOCTOR = "booking_rescheduled_for_doctor", "Booking moved (doctor)"
    WAITLIST_OFFER = "waitlist_offer", "Waitlist offer (patient)"
    ACCOUNT_VERIFY_EMAIL = "account_verify_email", "Verify email"
    ACCOUNT_PASSWORD_RESET = "account_password_reset", "Password reset"
    ACCOUNT_TAKEOVER_NOTICE = "account_takeover_notice", "Takeover notice"


class OutboxMessage(models.Model):
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, choices=OutboxKind.choices)
    booking = models.ForeignKey(
        "bookings.Booking",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    # Account mails have no booking; erasing the user erases their queued mails.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    offset = models.CharField(max_length=16, blank=True, default="")
    # What the mail needs beyond the rows it names (ids and amounts, no rendered text).
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the row was last given to the broker: the sweep gives it again only if it
    # has become due since, or that hand-over was lost; never once per tick.
    handed_over_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_attempt_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "offset"],
                condition=models.Q(booking__isnull=False),
                name="outbox_once_per_booking_kind_offset",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} [{self.status}] {self.key}"
