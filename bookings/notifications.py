"""Mails about bookings, through the outbox (doctors_portal/outbox.py).

`notify_*` are called inside the transaction of the change they report: they only
write outbox rows, keyed (booking, kind, offset), so a replayed change queues
nothing twice. `render_*` build the mail at send time from the current rows; a
reminder renders to None (skipped) once its booking is cancelled or moved.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from accounts.names import display_name
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from doctors_portal.models import OutboxKind, OutboxMessage, OutboxStatus
from doctors_portal.outbox import booking_key, outbox_enqueue, reminder_offsets
from scheduling import timefmt

ICS_PRODID = "-//Doctors Portal//Appointments//EN"
# The kinds that carry the booking's calendar event; each one raises its SEQUENCE.
CALENDAR_KINDS = (
    OutboxKind.BOOKING_CONFIRMED,
    OutboxKind.BOOKING_RESCHEDULED,
    OutboxKind.BOOKING_CANCELLED,
)


# Queueing (inside the change's transaction) -------------------------------------


def _queue(*, booking: Booking, kind: str, offset: str = "", **params) -> None:
    outbox_enqueue(
        kind=kind,
        key=booking_key(booking_id=booking.pk, kind=kind, offset=offset),
        booking_id=booking.pk,
        offset=offset,
        params=params,
    )


def _next_sequence(booking: Booking) -> int:
    return OutboxMessage.objects.filter(booking=booking, kind__in=CALENDAR_KINDS).count()


def notify_booking_confirmed(*, booking: Booking) -> None:
    """To the patient (with the event, METHOD:REQUEST) and to the doctor: a new booking."""
    _queue(booking=booking, kind=OutboxKind.BOOKING_CONFIRMED, sequence=_next_sequence(booking))
    _queue(booking=booking, kind=OutboxKind.BOOKING_NEW_FOR_DOCTOR)


def notify_booking_cancelled(*, booking: Booking, refund_amount: Decimal, reason: str = "") -> None:
    """To the patient, with the refund (and METHOD:CANCEL); and to the doctor."""
    _queue(
        booking=booking,
        kind=OutboxKind.BOOKING_CANCELLED,
        refund_amount=str(refund_amount),
        reason=reason,
        sequence=_next_sequence(booking),
    )
    _queue(booking=booking, kind=OutboxKind.BOOKING_CANCELLED_FOR_DOCTOR)


def notify_booking_rescheduled(*, booking: Booking, old_start: datetime, old_end: datetime) -> None:
    """To the patient (the same event UID, SEQUENCE raised, METHOD:REQUEST) and to the
    doctor. The offset is the new SEQUENCE, so every move is told once. Reminders queued
    for the old time are retired: unsent ones are skipped, and every one is re-keyed so
    the reminders of the new time are queued afresh (the dedup key stays booking, kind,
    offset)."""
    sequence = _next_sequence(booking)
    common = {
        "old_start": old_start.isoformat(),
        "old_end": old_end.isoformat(),
        "start": booking.slot.start.isoformat(),
    }
    _queue(
        booking=booking,
        kind=OutboxKind.BOOKING_RESCHEDULED,
        offset=f"seq{sequence}",
        sequence=sequence,
        **common,
    )
    _queue(
        booking=booking,
        kind=OutboxKind.BOOKING_RESCHEDULED_FOR_DOCTOR,
        offset=f"seq{sequence}",
        **common,
    )
    reminders_retire(booking=booking, tag=f"seq{sequence}")


def reminders_retire(*, booking: Booking, tag: str) -> int:
    """The booking's reminders so far belong to a time it no longer has: unsent ones are
    skipped, and all are re-keyed out of the way (history kept) so the new time's
    reminders get their own (booking, kind, offset)."""
    old = OutboxMessage.objects.filter(booking=booking, kind=OutboxKind.REMINDER).exclude(
        offset__contains="#"
    )
    old.filter(status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED)).update(
        status=OutboxStatus.SKIPPED, last_error="The booking was moved."
    )
    retired = 0
    for message in old.only("pk", "key", "offset"):
        message.offset = f"{message.offset}#{tag}"[:16]
        message.key = f"{message.key}#{tag}"
        message.save(update_fields=["offset", "key"])
        retired += 1
    return retired


def notify_waitlist_offer(*, entry: WaitlistEntry, now: datetime) -> None:
    """To the patient first in line: a seat is held for them until the offer lapses."""
    outbox_enqueue(
        kind=OutboxKind.WAITLIST_OFFER,
        key=f"waitlist:{entry.pk}:offer",
        user_id=entry.patient_id,
        params={"entry_id": entry.pk, "slot_id": entry.offer_slot_id},
        now=now,
    )


def notify_payment_refunded_seat_gone(*, booking: Booking, refund_amount: Decimal) -> None:
    _queue(
        booking=booking,
        kind=OutboxKind.PAYMENT_REFUNDED_SEAT_GONE,
        refund_amount=str(refund_amount),
    )


def notify_reminders_due(*, now: datetime | None = None) -> int:
    """Queue the reminder now due for each confirmed upcoming booking (run by beat).

    Only the nearest offset that has come is queued, so a booking made 3 hours ahead
    gets its "24h" reminder at once and its "2h" one on time, never two together.
    Keys make it idempotent: two beats at once queue one row per booking and offset.
    """
    now = now or timezone.now()
    offsets = reminder_offsets()
    if not offsets:
        return 0
    horizon = offsets[-1][1]
    upcoming = Booking.objects.filter(
        status=BookingStatus.CONFIRMED, slot__start__gt=now, slot__start__lte=now + horizon
    ).values_list("pk", "slot__start")
    queued = 0
    for booking_id, start in upcoming:
        label = next(label for label, delta in offsets if start - now <= delta)
        outbox_enqueue(
            kind=OutboxKind.REMINDER,
            key=booking_key(booking_id=booking_id, kind=OutboxKind.REMINDER, offset=label),
            booking_id=booking_id,
            offset=label,
            params={"start": start.isoformat()},
            now=now,
        )
        queued += 1
    return queued


# Rendering (in the worker, at send time) ----------------------------------------


def _load(booking_id: int) -> Booking:
    return Booking.objects.select_related("patient", "doctor", "service", "slot").get(pk=booking_id)


def _context(booking: Booking, **extra) -> dict:
    clinic_tz = ZoneInfo(settings.CLINIC_TIME_ZONE)
    start = timezone.localtime(booking.slot.start, clinic_tz)
    end = timezone.localtime(booking.slot.end, clinic_tz)
    # The site's date and time texts (the reference's "10.00 AM-11.00 AM"), one format.
    when = timefmt.format_when(booking.slot.start, booking.slot.end)
    return {
        "booking": booking,
        "patient": booking.patient,
        "doctor": booking.doctor,
        "service": booking.service,
        "start": start,
        "end": end,
        "doctor_name": display_name(booking.doctor),
        "patient_name": display_name(booking.patient),
        "when": when,
        "time_zone": settings.CLINIC_TIME_ZONE,
        "amount": f"{booking.price} {booking.currency.upper()}",
        **extra,
    }


def _mail(
    *, template: str, subject: str, to: str, context: dict, ics: bytes = b"", method: str = ""
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    if ics:
        message.attach("appointment.ics", ics, f"text/calendar; method={method}")
    return message


def booking_uid(booking: Booking) -> str:
    """The booking's one iCalendar UID, the same in every mail and feed."""
    return f"booking-{booking.pk}@doctors-portal"


def booking_event(booking: Booking, *, sequence: int, now: datetime | None = None) -> Event:
    cancelled = booking.status == BookingStatus.CANCELLED
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", booking.slot.start)
    event.add("dtend", booking.slot.end)
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("summary", f"{booking.service.name} with {display_name(booking.doctor)}")
    event.add(
        "description",
        f"Your {booking.service.name} appointment with {display_name(booking.doctor)}. "
        f"Booking #{booking.pk}.",
    )
    organizer = vCalAddress(f"mailto:{booking.doctor.email}")
    organizer.params["cn"] = vText(display_name(booking.doctor))
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.patient.email}")
    attendee.params["cn"] = vText(display_name(booking.patient))
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    return event


def calendar_of(events: list[Event], *, method: str = "") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", ICS_PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def booking_calendar(
    booking: Booking, *, method: str = "REQUEST", sequence: int = 0, now=None
) -> bytes:
    """The appointment as an iCalendar file (times in UTC)."""
    return calendar_of([booking_event(booking, sequence=sequence, now=now)], method=method)


def render_booking_confirmed(message: OutboxMessage) -> EmailMultiAlternatives:
    booking = _load(message.booking_id)
    context = _context(booking)
    return _mail(
        template="booking_confirmed",
        subject=f"Your appointment is confirmed: {booking.service.name}, {context['when']}",
        to=booking.patient.email,
        context=context,
        ics=booking_calendar(booking, sequence=message.params.get("sequence", 0)),
        method="REQUEST",
    )


def render_booking_new_for_doctor(message: OutboxMessage) -> EmailMultiAlternatives:
    booking = _load(message.booking_id)
    context = _context(booking)
    return _mail(
        template="booking_new_for_doctor",
        subject=f"New booking: {booking.patient.name}, {context['when']}",
        to=booking.doctor.email,
        context=context,
    )


def _refund_text(booking: Booking, message: OutboxMessage) -> str:
    amount = Decimal(message.params.get("refund_amount", "0"))
    return f"{amount} {booking.currency.upper()}" if amount > 0 else ""


def render_booking_cancelled(message: OutboxMessage) -> EmailMultiAlternatives:
    booking = _load(message.booking_id)
    return _mail(
        template="booking_cancelled",
        subject=f"Your appointment was cancelled: {booking.service.name}",
        to=booking.patient.email,
        context=_context(
            booking,
            refund=_refund_text(booking, message),
            reason=message.params.get("reason", ""),
        ),
        ics=booking_calendar(booking, method="CANCEL", sequence=message.params.get("sequence", 1)),
        method="CANCEL",
    )


def render_booking_cancelled_for_doctor(message: OutboxMessage) -> EmailMultiAlternatives:
    booking = _load(message.booking_id)
    context = _context(booking)
    return _mail(
        template="booking_cancelled_for_doctor",
        subject=f"Booking cancelled: {booking.patient.name}, {context['when']}",
        to=booking.doctor.email,
        context=context,
    )


def render_payment_refunded_seat_gone(message: OutboxMessage) -> EmailMultiAlternatives:
    booking = _load(message.booking_id)
    return _mail(
        template="payment_refunded_seat_gone",
        subject=f"Your payment was refunded: {booking.service.name}",
        to=booking.patient.email,
        context=_context(booking, refund=_refund_text(booking, message)),
    )


def render_reminder(message: OutboxMessage) -> EmailMultiAlternatives | None:
    booking = _load(message.booking_id)
    moved = booking.slot.start.isoformat() != message.params.get("start")
    if booking.status != BookingStatus.CONFIRMED or moved or booking.slot.start <= timezone.now():
        return None  # cancelled, moved or already begun: the reminder is no longer true
    context = _context(booking, offset=message.offset)
    return _mail(
        template="booking_reminder",
        subject=f"Reminder: {booking.service.name}, {context['when']}",
        to=booking.patient.email,
        context=context,
    )


def _moved_context(booking: Booking, message: OutboxMessage) -> dict:
    old = datetime.fromisoformat(message.params["old_start"])
    old_end = datetime.fromisoformat(message.params["old_end"])
    return _context(
        booking, old_when=f"{timefmt.format_date(old)}, {timefmt.format_label(old, old_end)}"
    )


def _superseded(booking: Booking, message: OutboxMessage) -> bool:
    """Moved again (or cancelled) since: a later mail tells the truth instead."""
    return (
        booking.status == BookingStatus.CANCELLED
        or booking.slot.start.isoformat() != message.params.get("start")
    )


def render_booking_rescheduled(message: OutboxMessage) -> EmailMultiAlternatives | None:
    booking = _load(message.booking_id)
    if _superseded(booking, message):
        return None
    context = _moved_context(booking, message)
    return _mail(
        template="booking_rescheduled",
        subject=f"Your appointment was moved: {booking.service.name}, {context['when']}",
        to=booking.patient.email,
        context=context,
        ics=booking_calendar(booking, sequence=message.params.get("sequence", 1)),
        method="REQUEST",
    )


def render_booking_rescheduled_for_doctor(message: OutboxMessage) -> EmailMultiAlternatives | None:
    booking = _load(message.booking_id)
    if _superseded(booking, message):
        return None
    context = _moved_context(booking, message)
    return _mail(
        template="booking_rescheduled_for_doctor",
        subject=f"Booking moved: {booking.patient.name}, {context['when']}",
        to=booking.doctor.email,
        context=context,
    )


def render_waitlist_offer(message: OutboxMessage) -> EmailMultiAlternatives | None:
    entry = (
        WaitlistEntry.objects.select_related(
            "patient", "offer_slot", "offer_slot__service", "offer_slot__doctor"
        )
        .filter(pk=message.params.get("entry_id"))
        .first()
    )
    now = timezone.now()
    if entry is None or entry.status != WaitlistStatus.OFFERED or entry.offer_expires_at <= now:
        return None  # claimed, left or lapsed before it could be sent
    slot = entry.offer_slot
    context = {
        "patient_name": display_name(entry.patient),
        "doctor_name": display_name(slot.doctor),
        "service": slot.service,
        "when": f"{timefmt.format_date(slot.start)}, {timefmt.format_label(slot.start, slot.end)}",
        "time_zone": settings.CLINIC_TIME_ZONE,
        "until": timefmt.format_clock(entry.offer_expires_at),
        "minutes": settings.WAITLIST_CLAIM_MINUTES,
        "claim_path": reverse("pages:book", kwargs={"slot_id": slot.pk}),
        "slot": slot,
    }
    return _mail(
        template="waitlist_offer",
        subject=f"A seat is free for you: {slot.service.name}, {context['when']}",
        to=entry.patient.email,
        context=context,
    )
