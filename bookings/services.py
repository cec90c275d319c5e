"""Every write on bookings. Seats are taken, given back and locked through the seat
ledger, bookings.seats (ARCHITECTURE invariants 1 and 3), which owns the lock order.

Bookings never imports payments: a paid booking's refund on cancellation is done by the
refunder payments registers (`booking_refunder_register`, from payments' AppConfig).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.credentials import bookable_doctor_q, clinic_today, user_bookable
from accounts.models import Role, User, is_admin
from audit.created import audited_create
from bookings.models import (
    SEAT_HOLDING_STATUSES,
    WAITLIST_OPEN_STATUSES,
    Booking,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from bookings.notifications import notify_booking_cancelled, notify_booking_rescheduled
from bookings.seats import (
    PatientStanding,
    SeatNoLongerAvailable,
    booking_lock,
    booking_lock_moving,
    holds_release_lapsed,
    offer_for,
    offer_release,
    patient_lock,
    seat_release,
    seat_take,
    seats_offer_free,
    seats_settle,
    seats_settle_for,
    slot_lock,
    slots_lock,
    waitlist_closed_by_booking_q,
)
from doctors_portal.errors import Conflict, DomainError, Forbidden, NotFoundAt
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus
from scheduling.selectors import bookable_day


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


def _patient_live_lock(*, patient: User) -> None:
    """The patient before the slot (the seat ledger's order): their bookings and waitlist
    entries queue here. AccountGone if the account was erased while the request waited."""
    if not patient_lock(patient=patient):
        raise AccountGone()


def _slot_for_patient_locked(*, patient: User, slot_id: int, now) -> tuple[Slot, PatientStanding]:
    """Under the patient's lock: the slot locked and settled (lapsed holds and offers given
    back, free seats offered down its line), if the patient may take a seat of it; and
    what the patient has on it."""
    slot = slot_lock(slot_id=slot_id)
    if not _slot_is_bookable(slot, now=now):
        raise NotFoundAt("No such slot.", path="slotId")
    if slot.start <= now:
        raise DomainError(errors={"slotId": ["This slot has already started."]})
    standing = seats_settle_for(slot=slot, patient=patient, now=now)
    if standing.booked:
        raise Conflict("You already have a booking for this slot.", path="slotId")
    return slot, standing


@transaction.atomic
def booking_create(*, patient: User, slot_id: int, patient_phone: str = "", now=None) -> Booking:
    """Hold a seat on a slot for a patient, pending payment, for BOOKING_HOLD_MINUTES."""
    if patient.role != Role.PATIENT:
        raise Forbidden("Only patients can book appointments.")
    now = now or timezone.now()
    _patient_live_lock(patient=patient)
    slot, standing = _slot_for_patient_locked(patient=patient, slot_id=slot_id, now=now)
    # At most MAX_ACTIVE_HOLDS_PER_PATIENT unpaid holds a patient, counted under the
    # patient's row lock, so two bookings of one patient at once count one after the other.
    if standing.holds >= settings.MAX_ACTIVE_HOLDS_PER_PATIENT:
        raise Conflict("Pay for or cancel a held appointment first", path="slotId")
    # An earlier unpaid hold of this patient on this slot still within its time keeps its
    # end: cancelling and booking again never renews a hold.
    expires_at = standing.earlier_expiry or now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    # A standing waitlist offer to this patient already holds their seat: booking claims it.
    if not standing.offer:
        seat_take(slot=slot)
    try:
        # No savepoint of its own: a duplicate (the unique constraint; a late payment that
        # confirmed the patient's expired booking of this slot) ends this whole write.
        # The booking and its audit entry in one statement on PostgreSQL (audit.created).
        booking = Booking(
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
        audited_create(booking)
    except IntegrityError:
        raise Conflict("You already have a booking for this slot.", path="slotId") from None
    if standing.in_line:
        _waitlist_close_for_booking(booking=booking, slot=slot)
    # As with_patient_no_shows annotates a booking read back: the answer's row is built
    # from these objects (selectors.booking_row_held), not read again.
    booking.patient_no_shows = standing.no_shows
    return booking


def _waitlist_close_for_booking(*, booking: Booking, slot: Slot) -> None:
    """The patient got a seat of this slot: their place in its line (or in the line of its
    doctor's day) and their offer of it are done."""
    WaitlistEntry.objects.filter(
        waitlist_closed_by_booking_q(slot=slot),
        patient_id=booking.patient_id,
        status__in=WAITLIST_OPEN_STATUSES,
    ).update(status=WaitlistStatus.CLAIMED, booking=booking, updated_at=timezone.now())


def _clinic_day(slot: Slot):
    return timefmt.clinic_today(slot.start)


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
# And who closes an unpaid cancelled booking's open payment (its PaymentIntent).
_open_intent_closers: list[Callable[..., None]] = []


def booking_refunder_register(
    refunder: Refunder, *, open_intent_closer: Callable[..., None] | None = None
) -> None:
    """Name the function that refunds a cancelled paid booking, and the one that closes an
    unpaid one's open payment (one each; set again, replaced)."""
    _refunders[:] = [refunder]
    _open_intent_closers[:] = [open_intent_closer] if open_intent_closer else []


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
    for close in _open_intent_closers:  # an intent handed out must not charge it later
        close(booking=booking)
    seat_release(slot=slot)
    seats_settle(slot=slot, now=now)  # the freed seat goes to the waitlist first
    notify_booking_cancelled(booking=booking, refund_amount=refunded, reason=reason)
    return CancellationResult(
        booking=booking, refunded=refunded > 0, refund_amount=refunded, refund_reason=reason
    )


def booking_expire_lapsed(*, now=None) -> int:
    """Mark every lapsed hold `expired` and every lapsed waitlist offer `lapsed` for the
    record (readers count their seats as free already), and offer the seats to the next
    in line at once, so their mail goes out without waiting for the next writer."""
    now = now or timezone.now()
    slot_ids = set(
        Booking.objects.filter(
            status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
        ).values_list("slot_id", flat=True)
    ) | set(
        WaitlistEntry.objects.filter(
            status=WaitlistStatus.OFFERED, offer_expires_at__lte=now
        ).values_list("offer_slot_id", flat=True)
    )
    released = 0
    for slot_id in sorted(slot_ids):
        with transaction.atomic():
            slot = slot_lock(slot_id=slot_id)
            released += holds_release_lapsed(slot=slot, now=now)
            seats_offer_free(slot=slot, now=now)
    return released


# Reschedule ---------------------------------------------------------------------


def booking_reschedule_refusal(*, booking: Booking, by: User, now) -> str:
    """Why `by` cannot move this booking now, or '' when they can (pages show the same)."""
    if booking.status not in SEAT_HOLDING_STATUSES or (
        booking.status == BookingStatus.PENDING_PAYMENT and booking.expires_at <= now
    ):
        return "Only a held or confirmed appointment can be moved."
    if booking.slot.start <= now:
        return "This appointment has already started; it can no longer be moved."
    if by.pk == booking.patient_id and not is_admin(by):
        hours = settings.RESCHEDULE_CUTOFF_HOURS
        if booking.slot.start - now < timedelta(hours=hours):
            return (
                f"Appointments can be moved up to {hours} hours before the start; "
                "ask the clinic to move this one."
            )
    return ""


def _may_move(*, booking: Booking, by: User) -> bool:
    return is_admin(by) or by.pk in (booking.patient_id, booking.doctor_id)


@transaction.atomic
def booking_reschedule(*, booking_id: int, slot_id: int, by: User, now=None) -> Booking:
    """Move a booking to a free slot of the same service, keeping its payment and hold.

    One transaction: the patient, both slots in id order and the booking are locked
    (bookings.seats), the new seat taken (409 when full), the old one given back and
    offered down its waitlist. The calendar event keeps its UID with a higher SEQUENCE.
    """
    now = now or timezone.now()
    if not Slot.objects.filter(pk=slot_id).exists():
        raise NotFoundAt("No such slot.", path="slotId")
    old_slot, new_slot, booking = booking_lock_moving(booking_id=booking_id, to_slot_id=slot_id)
    if not _may_move(booking=booking, by=by):
        raise NotFoundAt("No such booking.", path="id")
    refusal = booking_reschedule_refusal(booking=booking, by=by, now=now)
    if refusal:
        raise Conflict(refusal)
    if new_slot.pk == old_slot.pk:
        raise DomainError(errors={"slotId": ["The booking is already at this time."]})
    if not _slot_is_bookable(new_slot, now=now):
        raise NotFoundAt("No such slot.", path="slotId")
    if new_slot.service_id != booking.service_id:
        raise DomainError(
            errors={"slotId": [f"Choose a time of the same service ({booking.service.name})."]}
        )
    if new_slot.start <= now:
        raise DomainError(errors={"slotId": ["This slot has already started."]})
    seats_settle(slot=new_slot, now=now)
    if Booking.objects.filter(
        slot=new_slot, patient_id=booking.patient_id, status__in=SEAT_HOLDING_STATUSES
    ).exists():
        raise Conflict("The patient already has a booking at that time.", path="slotId")
    offer = offer_for(slot=new_slot, patient=booking.patient, now=now)
    if offer is None:
        seat_take(slot=new_slot)
    old_start, old_end = old_slot.start, old_slot.end
    booking.slot = new_slot
    booking.doctor_id = new_slot.doctor_id
    booking.save(update_fields=["slot", "doctor", "updated_at"])
    _waitlist_close_for_booking(booking=booking, slot=new_slot)
    seat_release(slot=old_slot)
    seats_settle(slot=old_slot, now=now)
    notify_booking_rescheduled(booking=booking, old_start=old_start, old_end=old_end)
    return booking


# Attendance ---------------------------------------------------------------------

ATTENDANCE_STATUSES = (BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


@transaction.atomic
def booking_attendance_set(*, booking_id: int, status: str, by: User, now=None) -> Booking:
    """The booking's doctor (or an admin) records whether the patient came: a confirmed
    booking whose slot has started becomes completed or no_show, and leaves the ledger."""
    if status not in ATTENDANCE_STATUSES:
        raise DomainError(errors={"status": ["One of: completed, no_show."]})
    now = now or timezone.now()
    slot, booking = booking_lock(booking_id=booking_id)
    if not (is_admin(by) or by.pk == booking.doctor_id):
        if by.pk == booking.patient_id:
            raise Forbidden("Only the doctor or the clinic records attendance.")
        raise NotFoundAt("No such booking.", path="id")
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict(
            f"Attendance is recorded for confirmed appointments; this one is "
            f"{booking.get_status_display().lower()}."
        )
    if slot.start > now:
        raise Conflict("This appointment has not started yet.")
    booking.status = status
    booking.save(update_fields=["status", "updated_at"])
    seat_release(slot=slot)  # a past seat: nobody is offered it
    return booking


# Waitlist -----------------------------------------------------------------------


def _free_now(slot: Slot) -> bool:
    return slot.seats_taken < slot.capacity


@transaction.atomic
def waitlist_join(
    *, patient: User, slot_id: int | None = None, doctor_id: int | None = None, day=None, now=None
) -> WaitlistEntry:
    """Queue a patient for a full slot, or for any slot of a doctor on a clinic day whose
    every slot is full. 409 when a seat is free (book it instead)."""
    if patient.role != Role.PATIENT:
        raise Forbidden("Only patients can join a waitlist.")
    now = now or timezone.now()
    _patient_live_lock(patient=patient)
    if slot_id is not None:
        slot, standing = _slot_for_patient_locked(patient=patient, slot_id=slot_id, now=now)
        if standing.offer:
            raise Conflict("A seat of this slot is held for you: book it now.", path="slotId")
        if _free_now(slot):
            raise Conflict("This slot has a free seat: book it instead.", path="slotId")
        fields = {"slot": slot, "doctor_id": slot.doctor_id, "day": _clinic_day(slot)}
        path = "slotId"
    else:
        slots = _doctor_day_slots(doctor_id=doctor_id, day=day, now=now)
        for slot in slots:
            seats_settle(slot=slot, now=now)
        if any(_free_now(slot) for slot in slots):
            raise Conflict("This doctor has a free time that day: book it instead.", path="date")
        fields = {"slot": None, "doctor_id": doctor_id, "day": day}
        path = "date"
    # A rejoin is "already on it" even at the cap (the cap's count includes that entry).
    if _open_waitlist_entries(patient).filter(**fields).exists():
        raise Conflict(ALREADY_ON_WAITLIST, path=path)
    _waitlist_room_check(patient=patient, path=path)
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(patient=patient, created_at=now, **fields)
    except IntegrityError:
        raise Conflict(ALREADY_ON_WAITLIST, path=path) from None
    return entry


ALREADY_ON_WAITLIST = "You are already on this waitlist."


def _open_waitlist_entries(patient: User) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(patient=patient, status__in=WAITLIST_OPEN_STATUSES)


def _waitlist_room_check(*, patient: User, path: str) -> None:
    """At most WAITLIST_MAX_OPEN_PER_PATIENT open entries a patient (a line per slot of the
    clinic would let one patient sit on every offer), counted under the patient's row
    lock, so two joins of one patient at once count one after the other."""
    cap = settings.WAITLIST_MAX_OPEN_PER_PATIENT
    if _open_waitlist_entries(patient).count() >= cap:
        raise Conflict(f"You are on {cap} waitlists already: leave one first.", path=path)


def _doctor_day_slots(*, doctor_id, day, now) -> list[Slot]:
    """The doctor's bookable future slots of that clinic day, locked in id order."""
    if not User.objects.filter(bookable_doctor_q(today=clinic_today(now)), pk=doctor_id).exists():
        raise NotFoundAt("No such doctor.", path="doctorId")
    try:  # a day the clinic does not book (past, beyond the horizon or the calendar)
        since, until = timefmt.day_bounds(bookable_day(day=day, now=now))
    except timefmt.TimeFormatError as exc:
        raise DomainError(str(exc), path="date") from None
    ids = list(
        Slot.objects.filter(
            doctor_id=doctor_id,
            status=SlotStatus.PUBLISHED,
            start__gte=max(since, now),
            start__lt=until,
        ).values_list("pk", flat=True)
    )
    if not ids:
        raise NotFoundAt("This doctor has no times left that day.", path="date")
    return [s for s in slots_lock(slot_ids=ids).values() if _slot_is_bookable(s, now=now)]


@transaction.atomic
def waitlist_leave(*, entry_id: int, by: User, now=None) -> WaitlistEntry:
    """Leave the line; a standing offer is given to the next in line."""
    now = now or timezone.now()
    slot_id = (
        WaitlistEntry.objects.filter(pk=entry_id).values_list("offer_slot_id", flat=True).first()
    )
    slot = slot_lock(slot_id=slot_id) if slot_id else None
    entry = WaitlistEntry.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None or not (entry.patient_id == by.pk or is_admin(by)):
        raise NotFoundAt("No such waitlist entry.", path="id")
    if entry.status not in WAITLIST_OPEN_STATUSES:
        raise Conflict("You are no longer on this waitlist.")
    if entry.offer_slot_id != slot_id:
        raise Conflict("This entry was just changed; reload it and try again.")
    if entry.status == WaitlistStatus.OFFERED and entry.offer_expires_at > now:
        offer_release(entry=entry, slot=slot, now=now, status=WaitlistStatus.LEFT)
    else:
        entry.status = WaitlistStatus.LEFT
        entry.save(update_fields=["status", "updated_at"])
        if slot is not None:
            seats_settle(slot=slot, now=now)
    return entry


def waitlist_leave_all_for_erasure(*, user: User, now) -> int:
    """Erasure: every open entry of the user closed, their standing offers passed on."""
    ids = list(
        WaitlistEntry.objects.filter(patient=user, status__in=WAITLIST_OPEN_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for entry_id in ids:
        waitlist_leave(entry_id=entry_id, by=user, now=now)
    return len(ids)
