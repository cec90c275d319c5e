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

Waitlist offers are seats of the same ledger: an offer to the first patient in line
takes a seat (`seat_take`) for WAITLIST_CLAIM_MINUTES, so nobody else can book it; the
offered patient's booking takes over that seat instead of a new one. A lapsed offer is
like a lapsed hold: readers count it as free, and the next writer on the slot
(`seats_settle`) gives it back and offers it to the next in line.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connections, router
from django.db.models import Count, Exists, F, IntegerField, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import User
from bookings.models import (
    SEAT_HOLDING_STATUSES,
    WAITLIST_OPEN_STATUSES,
    Booking,
    BookingStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from bookings.notifications import notify_waitlist_offer
from bookings.selectors import patient_no_shows
from doctors_portal.db.compiled import CompiledQuery
from doctors_portal.errors import Conflict
from scheduling import timefmt
from scheduling.availability_cache import availability_changed
from scheduling.holds import Holds
from scheduling.locks import slot_lock
from scheduling.models import Slot, SlotStatus


class SeatNoLongerAvailable(Conflict):
    code = "seat_no_longer_available"
    default_detail = "This time is no longer available. Please choose another slot."


# Compiled once per process, like the slot's lock (scheduling.locks).
_PATIENT_LOCK = CompiledQuery(
    lambda *, patient_id: User.objects.select_for_update().filter(pk=patient_id).order_by(),
    ("is_active", "deleted_at", "name", "email", "phone"),
    as_tuples=True,
    patient_id=int,
)


def patient_lock(*, patient: User) -> bool:
    """Lock the patient's row first, so one patient's bookings are made one at a time.
    Whether the account, as read under the lock, is still live: a request that waited
    here while the account was erased must not go on with the user it loaded before.
    The name, email and phone on `patient` are refreshed as read under the lock (no one
    changes them before the transaction ends): what a booking made now shows."""
    rows = _PATIENT_LOCK.rows(patient_id=patient.pk)
    if not rows:
        return False
    is_active, deleted_at, patient.name, patient.email, patient.phone = rows[0]
    return is_active and deleted_at is None


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


def slots_lock(*, slot_ids: Iterable[int], path: str = "slotId") -> dict[int, Slot]:
    """Lock several slots, always in id order (two writers never wait on each other)."""
    return {pk: slot_lock(slot_id=pk, path=path) for pk in sorted(set(slot_ids))}


def booking_lock_moving(*, booking_id: int, to_slot_id: int) -> tuple[Slot, Slot, Booking]:
    """For a move: the booking's patient, then its slot and `to_slot_id` in id order,
    then the booking. Raises Conflict if the booking moved while we queued for locks."""
    patient_id, slot_id = Booking.objects.values_list("patient_id", "slot_id").get(pk=booking_id)
    patient_lock(patient=User(pk=patient_id))
    slots = slots_lock(slot_ids=(slot_id, to_slot_id))
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot", "service")
        .get(pk=booking_id)
    )
    if booking.slot_id != slot_id:
        raise Conflict("This booking was just changed; reload it and try again.")
    return slots[slot_id], slots[to_slot_id], booking


def _lapsed_offers(*, slot, now) -> QuerySet[WaitlistEntry]:
    """`slot` a Slot, its id or an OuterRef to one (scheduling.holds' hook)."""
    return WaitlistEntry.objects.filter(
        offer_slot=slot, status=WaitlistStatus.OFFERED, offer_expires_at__lte=now
    )


def holds_release_lapsed(*, slot: Slot, now) -> int:
    """Under the slot's lock: mark lapsed holds expired and lapsed waitlist offers lapsed,
    and give their seats back (seats_settle then offers them down the line)."""
    released = Booking.objects.filter(
        slot=slot, status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
    ).update(status=BookingStatus.EXPIRED, updated_at=now)
    released += _lapsed_offers(slot=slot, now=now).update(
        status=WaitlistStatus.LAPSED, updated_at=now
    )
    if released:
        Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - released)
        slot.seats_taken -= released
    return released


def _seat_take_sql(connection) -> str:
    # Slot.objects.filter(pk=, seats_taken__lt=F("capacity")).update(seats_taken=F() + 1)
    # as written once: the ORM spent 0.4 ms building it, PostgreSQL 0.2 ms running it
    # (bench/NOTES.md, "The booking write, issue 16's fourth session").
    q, meta = connection.ops.quote_name, Slot._meta
    table, pk = q(meta.db_table), q(meta.pk.column)
    taken, capacity = (q(meta.get_field(f).column) for f in ("seats_taken", "capacity"))
    # Quoted names of the model only; the id is a bound parameter.
    return f"UPDATE {table} SET {taken} = {taken} + 1 WHERE {pk} = %s AND {taken} < {capacity}"  # noqa: S608


def seat_take(*, slot: Slot) -> None:
    """Conditional update: succeeds only while a seat is free, whatever else is running."""
    connection = connections[router.db_for_write(Slot)]
    with connection.cursor() as cursor:
        cursor.execute(_seat_take_sql(connection), [slot.pk])
        taken = cursor.rowcount
    if not taken:
        raise SeatNoLongerAvailable("This slot is fully booked.", path="slotId")
    slot.seats_taken += 1
    availability_changed(slots=[slot])


def seat_release(*, slot: Slot) -> None:
    """Under the slot's lock: give one seat back (a seat-holding booking ended)."""
    Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - 1)
    slot.seats_taken -= 1
    availability_changed(slots=[slot])


def waitlist_line(*, slot: Slot) -> QuerySet[WaitlistEntry]:
    """Who waits for a seat of this slot, first come first: those in line for the slot,
    and those in line for any slot of its doctor on its clinic day."""
    return WaitlistEntry.objects.filter(
        _line_q(slot_id=slot.pk, doctor_id=slot.doctor_id, day=timefmt.clinic_today(slot.start)),
        status=WaitlistStatus.WAITING,
    ).order_by("created_at", "id")


def _line_q(*, slot_id: int, doctor_id: int, day) -> Q:
    """Entries for the slot, or for any slot of its doctor on its clinic day."""
    return Q(slot_id=slot_id) | Q(slot__isnull=True, doctor_id=doctor_id, day=day)


def offer_for(*, slot: Slot, patient: User, now) -> WaitlistEntry | None:
    """The patient's standing offer of a seat of this slot, if any (under the slot's lock)."""
    return (
        WaitlistEntry.objects.select_for_update()
        .filter(
            offer_slot=slot,
            patient=patient,
            status=WaitlistStatus.OFFERED,
            offer_expires_at__gt=now,
        )
        .first()
    )


def waitlist_closed_by_booking_q(*, slot: Slot) -> Q:
    """The open waitlist entries a booking of this slot ends for its patient: their place
    in the slot's line or in the line of its doctor's day, and their offer of it."""
    day = timefmt.clinic_today(slot.start)
    return _line_q(slot_id=slot.pk, doctor_id=slot.doctor_id, day=day) | Q(offer_slot_id=slot.pk)


@dataclass(frozen=True)
class PatientStanding:
    """A patient about to take a seat of a slot: what they have on it, their unpaid holds
    in all, and what the slot has to settle (seats_settle_for)."""

    booked: bool  # a seat-holding booking of this slot (a lapsed hold is not one)
    holds: int  # unpaid holds still within their time, on any slot
    earlier_expiry: datetime | None  # the end of an earlier unpaid hold of this slot
    offer: bool  # a standing waitlist offer to them of a seat of this slot
    in_line: bool  # an open waitlist entry of theirs that a booking of this slot ends
    lapsed: bool  # the slot has lapsed holds or offers to give back
    waiting: bool  # someone waits in the slot's line (for it, or for its doctor's day)
    no_shows: int  # the patient's no-shows, for the answer's row (selectors.booking_row_held)


def _standing(*, patient_id: int, slot_id: int, doctor_id: int, day, now) -> QuerySet[User]:
    # One statement of subqueries on the patient's row, where each was a statement of its
    # own. After the slot's lock, never in its SELECT ... FOR UPDATE: that statement's
    # subqueries would see the data as it was before the lock was waited for.
    # The patient's id as a constant, not the outer row's: each subquery then reads the
    # patient's own index entries, whatever the planner guesses of a correlated one.
    mine = Booking.objects.filter(patient_id=patient_id).order_by()
    holds = (
        mine.filter(status=BookingStatus.PENDING_PAYMENT, expires_at__gt=now)
        .values("patient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    entries = WaitlistEntry.objects.filter(patient_id=patient_id, status__in=WAITLIST_OPEN_STATUSES)
    booked = mine.filter(slot_id=slot_id).filter(
        Q(status=BookingStatus.CONFIRMED)
        | Q(status=BookingStatus.PENDING_PAYMENT, expires_at__gt=now)
    )
    lapsed_holds = Booking.objects.filter(
        slot_id=slot_id, status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now
    )
    line = _line_q(slot_id=slot_id, doctor_id=doctor_id, day=day)
    return User.objects.filter(pk=patient_id).annotate(
        booked=Exists(booked),
        holds=Coalesce(Subquery(holds, output_field=IntegerField()), 0),
        earlier_expiry=Subquery(
            mine.filter(slot_id=slot_id, confirmed_at__isnull=True, expires_at__gt=now)
            .order_by("expires_at")
            .values("expires_at")[:1]
        ),
        offer=Exists(
            entries.filter(
                offer_slot_id=slot_id, status=WaitlistStatus.OFFERED, offer_expires_at__gt=now
            )
        ),
        in_line=Exists(entries.filter(line | Q(offer_slot_id=slot_id))),
        lapsed=Exists(lapsed_holds) | Exists(_lapsed_offers(slot=slot_id, now=now)),
        waiting=Exists(WaitlistEntry.objects.filter(line, status=WaitlistStatus.WAITING)),
        no_shows=patient_no_shows(patient_id=patient_id),
    )


# Compiled once per process (doctors_portal/db/compiled.py): building this statement's
# seven subqueries cost the ORM three times what PostgreSQL spends running it, the largest
# part of a booking write (bench/NOTES.md, "The booking write").
_STANDING = CompiledQuery(
    _standing,
    ("booked", "holds", "earlier_expiry", "offer", "in_line", "lapsed", "waiting", "no_shows"),
    as_tuples=True,
    patient_id=int,
    slot_id=int,
    doctor_id=int,
    day=date,
    now=datetime,
)


def _patient_standing(*, patient: User, slot: Slot, now) -> PatientStanding:
    (row,) = _STANDING.rows(
        patient_id=patient.pk,
        slot_id=slot.pk,
        doctor_id=slot.doctor_id,
        day=timefmt.clinic_today(slot.start),
        now=now,
    )
    return PatientStanding(*row)


def seats_settle_for(*, slot: Slot, patient: User, now) -> PatientStanding:
    """seats_settle (under the patient's and the slot's locks) for a patient about to take
    a seat, and what they have on the slot. Each step of the settling runs only when the
    one read says there is something to do: usually there is not, and the write saves
    three statements (the two releases and the search of the line)."""
    standing = _patient_standing(patient=patient, slot=slot, now=now)
    if standing.lapsed:
        holds_release_lapsed(slot=slot, now=now)
    if standing.waiting:
        offered = seats_offer_free(slot=slot, now=now)
        # Next in line for a seat of it, the patient was just offered one.
        if any(entry.patient_id == patient.pk for entry in offered):
            standing = replace(standing, offer=True, in_line=True)
    return standing


def seats_offer_free(*, slot: Slot, now) -> list[WaitlistEntry]:
    """Under the slot's lock: each free seat of a bookable future slot is offered to the
    first patient in line (who has no booking on it yet), held for WAITLIST_CLAIM_MINUTES,
    and the offer mailed through the outbox."""
    if slot.start <= now or slot.status != SlotStatus.PUBLISHED:
        return []
    offered = []
    while slot.seats_taken < slot.capacity:
        entry = (
            waitlist_line(slot=slot)
            .filter(patient__is_active=True)
            .exclude(
                patient__in=Booking.objects.filter(
                    slot=slot, status__in=SEAT_HOLDING_STATUSES
                ).values("patient_id")
            )
            .exclude(
                patient__in=WaitlistEntry.objects.filter(
                    offer_slot=slot, status=WaitlistStatus.OFFERED
                ).values("patient_id")
            )
            .select_for_update(of=("self",))
            .first()
        )
        if entry is None:
            break
        seat_take(slot=slot)
        entry.status = WaitlistStatus.OFFERED
        entry.offer_slot = slot
        entry.offered_at = now
        entry.offer_expires_at = now + timedelta(minutes=settings.WAITLIST_CLAIM_MINUTES)
        entry.save(
            update_fields=["status", "offer_slot", "offered_at", "offer_expires_at", "updated_at"]
        )
        notify_waitlist_offer(entry=entry, now=now)
        offered.append(entry)
    return offered


def seats_settle(*, slot: Slot, now) -> None:
    """Under the slot's lock, before reading or changing its seats: lapsed holds and
    offers give their seats back, and free seats go to the waitlist first."""
    holds_release_lapsed(slot=slot, now=now)
    seats_offer_free(slot=slot, now=now)


def offer_release(*, entry: WaitlistEntry, slot: Slot, now, status: str) -> None:
    """Under the offer slot's lock: end a standing offer (left, erased) and give its seat
    down the line."""
    entry.status = status
    entry.save(update_fields=["status", "updated_at"])
    seat_release(slot=slot)
    seats_offer_free(slot=slot, now=now)


def waitlist_close_for_slots(*, slots: list[Slot], now) -> int:
    """Under the slots' locks, when they are withdrawn: their lines close and standing
    offers of them give their seats back. A constant number of statements however many."""
    if not slots:
        return 0
    offers = WaitlistEntry.objects.filter(offer_slot__in=slots, status=WaitlistStatus.OFFERED)
    standing = dict(
        offers.filter(offer_expires_at__gt=now)
        .order_by()
        .values("offer_slot")
        .annotate(n=Count("pk"))
        .values_list("offer_slot", "n")
    )
    closed = offers.update(status=WaitlistStatus.CLOSED, updated_at=now)
    for slot in slots:
        if standing.get(slot.pk):
            Slot.objects.filter(pk=slot.pk).update(seats_taken=F("seats_taken") - standing[slot.pk])
            slot.seats_taken -= standing[slot.pk]
    closed += WaitlistEntry.objects.filter(slot__in=slots, status=WaitlistStatus.WAITING).update(
        status=WaitlistStatus.CLOSED, updated_at=now
    )
    return closed


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
    lapsed_offers=_lapsed_offers,
    slots_withdrawn=waitlist_close_for_slots,
)
