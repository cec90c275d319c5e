"""Every write on bookings. Seats are taken, given back and locked through the seat
ledger, bookings.seats (ARCHITECTURE invariants 1 and 3), which owns the lock order.

Bookings never imports payments: a paid booking's refund on cancellation is done by the
refunder payments registers (`booking_refunder_register`, from payments' AppConfig).
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.credentials import clinic_today, user_bookable
from accounts.models import Role, User, is_admin
from bookings.models import SEAT_HOLDING_STATUSES, Booking, BookingStatus
from bookings.notifications import notify_booking_cancelled
from bookings.seats import (
    SeatNoLongerAvailable,
    booking_lock,
    holds_release_lapsed,
    patient_lock,
    seat_release,
    seat_take,
    slot_lock,
)
from doctors_portal.errors import Conflict, DomainError, Forbidden, NotFoundAt
from scheduling.models import Slot, SlotStatus


class AccountGone(Forbidden):
    code = "account_gone"
    default_detail = "This account is deactivated or deleted; it cannot book."


def _slot_is_bookable(slot: Slot, *, now) -> bool:
    """Published, of an active service, and its doctor bookable (accounts.credentials:
    active, verified, licence not expired today)."""
    return (
        slot.status == SlotStatus.PUBLISHED
        and slot.service.is_active
        and user_bookable(slot.doctor, today=clinic_today(now))
    )


def _check_hold_cap(*, patient: User, now) -> None:
    """At most MAX_ACTIVE_HOLDS_PER_PATIENT unpaid holds a patient. Under the patient's
    row lock (booking_create takes it first), so two bookings of one patient at once are
    counted one after the other."""
    held = Booking.objects.filter(
        patient=patient, status=BookingStatus.PENDING_PAYMENT, expires_at__gt=now
    ).count()
    if held >= settings.MAX_ACTIVE_HOLDS_PER_PATIENT:
        raise Conflict("Pay for or cancel a held appointment first", path="slotId")


def _hold_expiry(*, patient: User, slot: Slot, now):
    """BOOKING_HOLD_MINUTES from now, unless an earlier unpaid hold of this patient on this
    slot is still within its time: then that hold's end, so cancelling and booking again
    never renews a hold."""
    earlier = (
        Booking.objects.filter(
            patient=patient, slot=slot, confirmed_at__isnull=True, expires_at__gt=now
        )
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return earlier or now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)


@transaction.atomic
def booking_create(*, patient: User, slot_id: int, patient_phone: str = "", now=None) -> Booking:
    """Hold a seat on a slot for a patient, pending payment, for BOOKING_HOLD_MINUTES."""
    if patient.role != Role.PATIENT:
        raise Forbidden("Only patients can book appointments.")
    now = now or timezone.now()
    # The patient before the slot (the seat ledger's order): their bookings queue here.
    if not patient_lock(patient=patient):
        raise AccountGone()
    slot = slot_lock(slot_id=slot_id)
    if not _slot_is_bookable(slot, now=now):
        raise NotFoundAt("No such slot.", path="slotId")
    if slot.start <= now:
        raise DomainError(errors={"slotId": ["This slot has already started."]})
    holds_release_lapsed(slot=slot, now=now)
    if Booking.objects.filter(
        slot=slot, patient=patient, status__in=SEAT_HOLDING_STATUSES
    ).exists():
        raise Conflict("You already have a booking for this slot.", path="slotId")
    _check_hold_cap(patient=patient, now=now)
    expires_at = _hold_expiry(patient=patient, slot=slot, now=now)
    seat_take(slot=slot)
    try:
        with transaction.atomic():
            return Booking.objects.create(
                patient=patient,
                doctor=slot.doctor,
                slot=slot,
                service=slot.service,
                price=slot.service.price,
                currency=slot.service.currency,
                status=BookingStatus.PENDING_PAYMENT,
                expires_at=expires_at,
                patient_phone=patient_phone or patient.phone,
                created_at=now,
            )
    except IntegrityError:
        raise Conflict("You already have a booking for this slot.", path="slotId") from None


@transaction.atomic
def booking_confirm_paid(*, booking_id: int, now=None) -> Booking:
    """Turn a booking into a confirmed appointment once Stripe confirmed its payment.

    Idempotent. A hold that lapsed but whose seat is still free is confirmed; if the
    seat went to someone else (or the booking was cancelled) SeatNoLongerAvailable
    is raised and nothing changes, so the caller can refund.
    """
    now = now or timezone.now()
    slot, booking = booking_lock(booking_id=booking_id)
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        return booking
    if booking.status == BookingStatus.EXPIRED:
        holds_release_lapsed(slot=slot, now=now)
        if Booking.objects.filter(
            slot=slot, patient=booking.patient_id, status__in=SEAT_HOLDING_STATUSES
        ).exists():
            raise SeatNoLongerAvailable()
        seat_take(slot=slot)
    elif booking.status != BookingStatus.PENDING_PAYMENT:
        raise SeatNoLongerAvailable("This booking was cancelled; it cannot be confirmed.")
    # Its payment_status is the payment's to say (payments.services writes it).
    booking.status = BookingStatus.CONFIRMED
    booking.confirmed_at = now
    booking.save(update_fields=["status", "confirmed_at", "updated_at"])
    return booking


@dataclass(frozen=True)
class CancellationResult:
    booking: Booking
    refunded: bool
    refund_amount: Decimal
    refund_reason: str


def booking_refund_policy(
    *, booking: Booking, by: User, now, by_clinic: bool = False
) -> tuple[Decimal, str]:
    """How much of a paid booking is refunded when `by` cancels it now, and why.
    `by_clinic`: the clinic cancels on the patient's behalf (an erasure), whoever asked."""
    if not booking.is_paid:
        return Decimal("0"), "Nothing was paid, so nothing is refunded."
    if by_clinic or by.role == Role.DOCTOR or is_admin(by):
        return booking.price, "Cancelled by the clinic: the full amount is refunded."
    hours = settings.CANCELLATION_REFUND_HOURS
    if booking.slot.start - now >= timedelta(hours=hours):
        return booking.price, f"Cancelled at least {hours} hours ahead: full refund."
    return Decimal("0"), f"Cancelled less than {hours} hours before the start: no refund."


class Refunder(Protocol):
    def __call__(self, *, booking: Booking, amount: Decimal, reason: str) -> Decimal: ...


# Who refunds a paid booking that is cancelled. Payments builds on bookings and
# registers itself when the app registry is ready; bookings never imports payments.
_refunders: list[Refunder] = []


def booking_refunder_register(refunder: Refunder) -> None:
    """Name the function that refunds a cancelled paid booking (one; set again, replaced)."""
    _refunders[:] = [refunder]


def _refund_paid_booking(*, booking: Booking, amount: Decimal, reason: str) -> Decimal:
    if not _refunders:
        # Fail closed: a paid booking is never cancelled without its refund.
        raise Conflict("Refunds cannot be made right now; the booking is unchanged.")
    return _refunders[0](booking=booking, amount=amount, reason=reason)


def booking_cancel_refusal(*, booking: Booking, now) -> str:
    """Why this booking cannot be cancelled now, or '' when it can (pages show the same)."""
    if booking.status not in SEAT_HOLDING_STATUSES:
        return f"A booking that is {booking.get_status_display().lower()} cannot be cancelled."
    if booking.slot.start <= now:
        return "This appointment has already started; it can no longer be cancelled."
    return ""


@transaction.atomic
def booking_cancel(
    *, booking_id: int, by: User, now=None, by_clinic: bool = False
) -> CancellationResult:
    """Cancel a booking and free its seat; refund a paid one by the refund policy.

    The refund is asked of Stripe inside this transaction: if Stripe fails, the
    cancellation rolls back and the booking is exactly as it was.
    """
    now = now or timezone.now()
    slot, booking = booking_lock(booking_id=booking_id)
    refusal = booking_cancel_refusal(booking=booking, now=now)
    if refusal:
        raise Conflict(refusal)
    amount, reason = booking_refund_policy(booking=booking, by=by, now=now, by_clinic=by_clinic)
    refunded = Decimal("0")
    if amount > 0:
        refunded = _refund_paid_booking(booking=booking, amount=amount, reason=reason)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])
    seat_release(slot=slot)
    notify_booking_cancelled(booking=booking, refund_amount=refunded, reason=reason)
    return CancellationResult(
        booking=booking, refunded=refunded > 0, refund_amount=refunded, refund_reason=reason
    )


def booking_expire_lapsed(*, now=None) -> int:
    """Mark every lapsed hold `expired` for the record (seats are free already)."""
    now = now or timezone.now()
    slot_ids = set(
        Booking.objects.filter(
            status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
        ).values_list("slot_id", flat=True)
    )
    released = 0
    for slot_id in slot_ids:
        with transaction.atomic():
            released += holds_release_lapsed(slot=slot_lock(slot_id=slot_id), now=now)
    return released
