"""Emails about bookings: confirmed (with an .ics), new booking for the doctor,
cancellation and refund.

Call them through `send_after_commit` (or `transaction.on_commit`): a mail is only
sent once the change it reports is committed, and a mail that fails is logged and
never loses or rolls back the payment or booking it is about.
"""

import logging
from datetime import datetime
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from bookings.models import Booking

logger = logging.getLogger(__name__)

ICS_PRODID = "-//Doctors Portal//Appointments//EN"


def send_after_commit(send, **kwargs) -> None:
    # robust: a callback that raised would otherwise stop the other callbacks.
    transaction.on_commit(partial(send, **kwargs), robust=True)


def _load(booking_id: int) -> Booking:
    return Booking.objects.select_related("patient", "doctor", "service", "slot").get(pk=booking_id)


def _context(booking: Booking, **extra) -> dict:
    clinic_tz = ZoneInfo(settings.CLINIC_TIME_ZONE)
    start = timezone.localtime(booking.slot.start, clinic_tz)
    end = timezone.localtime(booking.slot.end, clinic_tz)
    return {
        "booking": booking,
        "patient": booking.patient,
        "doctor": booking.doctor,
        "service": booking.service,
        "start": start,
        "end": end,
        "when": f"{start:%A, %B} {start.day}, {start:%Y}, {start:%I:%M %p}-{end:%I:%M %p}",
        "time_zone": settings.CLINIC_TIME_ZONE,
        "amount": f"{booking.price} {booking.currency.upper()}",
        **extra,
    }


def _deliver(*, template: str, subject: str, to: str, context: dict, ics: bytes = b"") -> bool:
    try:
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"emails/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
        )
        message.attach_alternative(
            render_to_string(f"emails/{template}.html", context), "text/html"
        )
        if ics:
            message.attach("appointment.ics", ics, "text/calendar; method=PUBLISH")
        message.send()
    except Exception:  # a broken mail server must never surface as a failed payment
        logger.exception("Could not send the %s email to %s", template, to)
        return False
    return True


def booking_calendar(booking: Booking, *, now: datetime | None = None) -> bytes:
    """The appointment as an iCalendar file, times in UTC."""
    calendar = Calendar()
    calendar.add("prodid", ICS_PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@doctors-portal")
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", booking.slot.start)
    event.add("dtend", booking.slot.end)
    event.add("summary", f"{booking.service.name} with Dr. {booking.doctor.name}")
    event.add(
        "description",
        f"Your {booking.service.name} appointment with Dr. {booking.doctor.name}. "
        f"Paid: {booking.price} {booking.currency.upper()}. Booking #{booking.pk}.",
    )
    organizer = vCalAddress(f"mailto:{booking.doctor.email}")
    organizer.params["cn"] = vText(f"Dr. {booking.doctor.name}")
    event.add("organizer", organizer)
    event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()


def send_booking_confirmed(*, booking_id: int) -> None:
    """To the patient, with the appointment as .ics; and to the doctor: a new booking."""
    booking = _load(booking_id)
    context = _context(booking)
    _deliver(
        template="booking_confirmed",
        subject=f"Your appointment is confirmed: {booking.service.name}, {context['when']}",
        to=booking.patient.email,
        context=context,
        ics=booking_calendar(booking),
    )
    _deliver(
        template="booking_new_for_doctor",
        subject=f"New booking: {booking.patient.name}, {context['when']}",
        to=booking.doctor.email,
        context=context,
    )


def send_booking_cancelled(*, booking_id: int, refund_amount: Decimal, reason: str = "") -> None:
    booking = _load(booking_id)
    refund = f"{refund_amount} {booking.currency.upper()}" if refund_amount > 0 else ""
    _deliver(
        template="booking_cancelled",
        subject=f"Your appointment was cancelled: {booking.service.name}",
        to=booking.patient.email,
        context=_context(booking, refund=refund, reason=reason),
    )


def send_payment_refunded_seat_gone(*, booking_id: int, refund_amount: Decimal) -> None:
    booking = _load(booking_id)
    _deliver(
        template="payment_refunded_seat_gone",
        subject=f"Your payment was refunded: {booking.service.name}",
        to=booking.patient.email,
        context=_context(booking, refund=f"{refund_amount} {booking.currency.upper()}"),
    )
