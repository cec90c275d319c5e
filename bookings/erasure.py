"""Bookings' and slots' part of erasure and export (registered in BookingsConfig.ready
into accounts.lifecycle): future bookings cancelled by the clinic, a doctor's future
slots withdrawn, the phone copied onto each booking cleared."""

from __future__ import annotations

from django.db.models import Q

from accounts.models import Role, User
from bookings.models import PAID_PAYMENT_STATUSES, SEAT_HOLDING_STATUSES, Booking, WaitlistEntry
from bookings.seats import holds_release_lapsed, slot_lock, waitlist_close_for_slots
from bookings.services import booking_cancel, waitlist_leave_all_for_erasure
from scheduling.models import Slot, SlotStatus


def _future(user: User, now):
    return Booking.objects.filter(Q(patient=user) | Q(doctor=user)).filter(
        status__in=SEAT_HOLDING_STATUSES, slot__start__gt=now
    )


def _future_slots(doctor: User, now):
    return Slot.objects.filter(doctor=doctor, start__gt=now).exclude(status=SlotStatus.CANCELLED)


def bookings_cancel_for_erasure(*, actor: User, user: User, now) -> int:
    """Every future hold released and appointment cancelled, as patient or doctor, by
    the clinic: paid ones refunded in full, the other side told by the usual mails."""
    ids = list(_future(user, now).order_by("slot__start", "pk").values_list("pk", flat=True))
    for booking_id in ids:
        booking_cancel(booking_id=booking_id, by=actor, now=now, by_clinic=True)
    return len(ids)


def waitlist_leave_for_erasure(*, actor: User, user: User, now) -> int:
    """The user leaves every line; their standing offers go to the next in line."""
    return waitlist_leave_all_for_erasure(user=user, now=now)


def slots_withdraw_for_erasure(*, actor: User, user: User, now) -> int:
    slot_ids = list(_future_slots(user, now).values_list("pk", flat=True))
    for slot_id in slot_ids:
        slot = slot_lock(slot_id=slot_id)
        holds_release_lapsed(slot=slot, now=now)
        waitlist_close_for_slots(slots=[slot], now=now)
        slot.status = SlotStatus.CANCELLED
        slot.save(update_fields=["status", "updated_at"])
    return len(slot_ids)


def booking_copies_erase(*, user: User) -> None:
    Booking.objects.filter(patient=user).exclude(patient_phone="").update(patient_phone="")


def erasure_preview(*, user: User, now) -> dict:
    future = _future(user, now)
    mine = Booking.objects.filter(Q(patient=user) | Q(doctor=user))
    return {
        "future_bookings": future.count(),
        "refunded": future.filter(payment_status__in=PAID_PAYMENT_STATUSES).count(),
        "kept_bookings": mine.count() - future.count(),
        "slots_withdrawn": _future_slots(user, now).count(),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_sections(*, user: User) -> dict:
    """A patient's bookings in full; a doctor's slots and appointments without the
    patients (their data is theirs to export)."""
    as_patient = (
        Booking.objects.filter(patient=user)
        .select_related("slot", "service", "doctor")
        .order_by("slot__start", "pk")
    )
    sections = {
        "bookings": [
            {
                "id": b.pk,
                "service": b.service.name,
                "doctor": b.doctor.name,
                "start": _iso(b.slot.start),
                "end": _iso(b.slot.end),
                "status": b.status,
                "paymentStatus": b.payment_status,
                "price": str(b.price),
                "currency": b.currency,
                "phone": b.patient_phone,
                "createdAt": _iso(b.created_at),
                "confirmedAt": _iso(b.confirmed_at),
                "cancelledAt": _iso(b.cancelled_at),
            }
            for b in as_patient
        ]
    }
    sections["waitlist"] = [
        {
            "id": e.pk,
            "slotId": e.slot_id,
            "doctorId": e.doctor_id,
            "date": e.day.isoformat(),
            "status": e.status,
            "offerSlotId": e.offer_slot_id,
            "offeredAt": _iso(e.offered_at),
            "offerExpiresAt": _iso(e.offer_expires_at),
            "bookingId": e.booking_id,
            "createdAt": _iso(e.created_at),
        }
        for e in WaitlistEntry.objects.filter(patient=user).order_by("created_at", "pk")
    ]
    if user.role == Role.DOCTOR:
        sections["slots"] = [
            {
                "id": s.pk,
                "service": s.service.name,
                "start": _iso(s.start),
                "end": _iso(s.end),
                "capacity": s.capacity,
                "status": s.status,
            }
            for s in Slot.objects.filter(doctor=user).select_related("service")
        ]
        sections["appointments"] = [
            {"id": b.pk, "slotId": b.slot_id, "service": b.service.name, "status": b.status}
            for b in Booking.objects.filter(doctor=user).select_related("service")
        ]
    return sections


def register() -> None:
    from accounts import lifecycle

    lifecycle.erasure_step_register("waitlistLeft", waitlist_leave_for_erasure)
    lifecycle.erasure_step_register("bookingsCancelled", bookings_cancel_for_erasure)
    lifecycle.erasure_step_register("slotsWithdrawn", slots_withdraw_for_erasure)
    lifecycle.copy_eraser_register(booking_copies_erase)
    lifecycle.erasure_preview_register(erasure_preview)
    lifecycle.export_sections_register(export_sections)
