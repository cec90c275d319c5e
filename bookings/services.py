"""Every write on bookings. The seat rules (ARCHITECTURE invariants 1 and 3) live here.

Lock order, everywhere: the slot row first, then the booking row. `Slot.seats_taken`
counts pending_payment and confirmed bookings and is only changed under the slot's
lock; a check constraint keeps it within capacity, so even a bug here cannot
overbook. A pending booking whose hold has lapsed still counts in `seats_taken`
until someone releases it, but readers never count it as taken (see selectors),
and every writer that needs a seat releases lapsed holds first. So a seat comes
free the moment a hold lapses, with no job running.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import PermissionDenied, ValidationError

from accounts.models import Role, User, is_admin
from bookings.models import SEAT_HOLDING_STATUSES, Booking, BookingStatus
from bookings.notifications import send_booking_cancelled
from doctors_portal.api.errors import Conflict, NotFoundAt
from scheduling.availability_cache import availability_changed
from scheduling.models import Slot, SlotStatus


class SeatNoLongerAvailable(Conflict):
    default_detail = "This time is no longer available. Please choose another slot."


def slot_lock(*, slot_id: int, path: str = "slotId") -> Slot:
    """Lock a slot's row (with its service and doctor) before changing its seats."""
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("service", "doctor")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise NotFoundAt("No such slot.", path=path)
    return slot


def holds_release_lapsed(*, slot: Slot, now) -> int:
    """Under the slot's lock: mark lapsed holds expired and give their seats back."""
    released = Booking.objects.filter(
        slot=slot, status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
    ).update(status=BookingStatus.EXPIRED, updated_at=now)
    if released:
        Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - released)
        slot.seats_taken -= released
    return released


def _take_seat(*, slot: Slot) -> None:
    """Conditional update: succeeds only while a seat is free, whatever else is running."""
    taken = Slot.objects.filter(pk=slot.pk, seats_taken__lt=F("capacity")).update(
        seats_taken=F("seats_taken") + 1
    )
    if not taken:
        raise SeatNoLongerAvailable("This slot is fully booked.", path="slotId")
    slot.seats_taken += 1
    availability_changed()


def _slot_is_bookable(slot: Slot) -> bool:
    doctor = slot.doctor
    profile = getattr(doctor, "doctor_profile", None)
    return (
        slot.status == SlotStatus.PUBLISHED
        and slot.service.is_active
        and doctor.is_active
        and profile is not None
        and profile.is_verified
    )


@transaction.atomic
def booking_create(*, patient: User, slot_id: int, patient_phone: str = "", now=None) -> Booking:
    """Hold a seat on a slot for a patient, pending payment, for BOOKING_HOLD_MINUTES."""
    if patient.role != Role.PATIENT:
        raise PermissionDenied("Only patients can book appointments.")
    now = now or timezone.now()
    slot = slot_lock(slot_id=slot_id)
    if not _slot_is_bookable(slot):
        raise NotFoundAt("No such slot.", path="slotId")
    if slot.start <= now:
        raise ValidationError({"slotId": ["This slot has already started."]})
    holds_release_lapsed(slot=slot, now=now)
    if Booking.objects.filter(
        slot=slot, patient=patient, status__in=SEAT_HOLDING_STATUSES
    ).exists():
        raise Conflict("You already have a booking for this slot.", path="slotId")
    _take_seat(slot=slot)
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
                expires_at=now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES),
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
    slot_id = Booking.objects.values_list("slot_id", flat=True).get(pk=booking_id)
    slot = slot_lock(slot_id=slot_id)
    booking = Booking.objects.select_for_update().get(pk=booking_id)
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        return booking
    if booking.status == BookingStatus.EXPIRED:
        holds_release_lapsed(slot=slot, now=now)
        if Booking.objects.filter(
            slot=slot, patient=booking.patient_id, status__in=SEAT_HOLDING_STATUSES
        ).exists():
            raise SeatNoLongerAvailable()
        _take_seat(slot=slot)
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


def _refund_paid_booking(*, booking: Booking, amount: Decimal, reason: str) -> Decimal:
    # Payments builds on bookings, so the import points that way only at call time.
    from payments.services import payment_refund_booking

    return payment_refund_booking(booking=booking, amount=amount, reason=reason)


@transaction.atomic
def booking_cancel(
    *, booking_id: int, by: User, now=None, by_clinic: bool = False
) -> CancellationResult:
    """Cancel a booking and free its seat; refund a paid one by the refund policy.

    The refund is asked of Stripe inside this transaction: if Stripe fails, the
    cancellation rolls back and the booking is exactly as it was.
    """
    now = now or timezone.now()
    slot_id = Booking.objects.values_list("slot_id", flat=True).get(pk=booking_id)
    slot = slot_lock(slot_id=slot_id)
    booking = Booking.objects.select_for_update().select_related("slot").get(pk=booking_id)
    if booking.status not in SEAT_HOLDING_STATUSES:
        raise Conflict(
            f"A booking that is {booking.get_status_display().lower()} cannot be cancelled."
        )
    amount, reason = booking_refund_policy(booking=booking, by=by, now=now, by_clinic=by_clinic)
    refunded = Decimal("0")
    if amount > 0:
        refunded = _refund_paid_booking(booking=booking, amount=amount, reason=reason)
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.save(update_fields=["status", "cancelled_at", "cancelled_by", "updated_at"])
    Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - 1)
    availability_changed()
    transaction.on_commit(
        lambda: send_booking_cancelled(booking_id=booking_id, refund_amount=refunded, reason=reason)
    )
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
