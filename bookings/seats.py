"""The seat ledger: a slot's seats and the holds on them (ARCHITECTURE invariants 1 and 3).

In the style of saleor's lock_objects.py: every writer that changes seats locks its rows
through here, so the lock order is written once. Lock order, everywhere: the patient's
user row (when a booking is made: their holds are counted under it), then the slot row,
then the booking row, then (payments) the payment row.

`Slot.seats_taken` counts pending_payment and confirmed bookings and is only changed
here, under the slot's lock; a check constraint keeps it within capacity, so even a bug
cannot overbook. A pending booking whose hold has lapsed still counts in `seats_taken`
until someone releases it, but readers never count it as taken (see the selectors), and
every writer that needs a seat releases lapsed holds first. So a seat comes free the
moment a hold lapses, with no job running.
"""

from django.db.models import F

from accounts.models import User
from bookings.models import Booking, BookingStatus
from doctors_portal.errors import Conflict
from scheduling.availability_cache import availability_changed
from scheduling.holds import Holds
from scheduling.locks import slot_lock
from scheduling.models import Slot


class SeatNoLongerAvailable(Conflict):
    code = "seat_no_longer_available"
    default_detail = "This time is no longer available. Please choose another slot."


def patient_lock(*, patient: User) -> bool:
    """Lock the patient's row first, so one patient's bookings are made one at a time.
    Whether the account, as read under the lock, is still live: a request that waited
    here while the account was erased must not go on with the user it loaded before."""
    row = (
        User.objects.select_for_update()
        .filter(pk=patient.pk)
        .values_list("is_active", "deleted_at")
        .first()
    )
    return row is not None and row[0] and row[1] is None


def booking_lock(*, booking_id: int) -> tuple[Slot, Booking]:
    """Lock a booking's slot, then the booking: the order every seat writer uses."""
    slot_id = Booking.objects.values_list("slot_id", flat=True).get(pk=booking_id)
    slot = slot_lock(slot_id=slot_id)
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot", "service")
        .get(pk=booking_id)
    )
    return slot, booking


def holds_release_lapsed(*, slot: Slot, now) -> int:
    """Under the slot's lock: mark lapsed holds expired and give their seats back."""
    released = Booking.objects.filter(
        slot=slot, status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
    ).update(status=BookingStatus.EXPIRED, updated_at=now)
    if released:
        Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - released)
        slot.seats_taken -= released
    return released


# What scheduling asks of holds (scheduling.holds), registered by BookingsConfig.ready.
HOLDS = Holds(
    lapsed=lambda *, now: Booking.objects.filter(
        status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
    ),
    running=lambda *, now: Booking.objects.filter(
        status=BookingStatus.PENDING_PAYMENT, expires_at__gt=now
    ),
    confirmed=lambda: Booking.objects.filter(status=BookingStatus.CONFIRMED),
    release_lapsed=holds_release_lapsed,
)


def seat_take(*, slot: Slot) -> None:
    """Conditional update: succeeds only while a seat is free, whatever else is running."""
    taken = Slot.objects.filter(pk=slot.pk, seats_taken__lt=F("capacity")).update(
        seats_taken=F("seats_taken") + 1
    )
    if not taken:
        raise SeatNoLongerAvailable("This slot is fully booked.", path="slotId")
    slot.seats_taken += 1
    availability_changed()


def seat_release(*, slot: Slot) -> None:
    """Under the slot's lock: give one seat back (a seat-holding booking ended)."""
    Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - 1)
    slot.seats_taken -= 1
    availability_changed()
