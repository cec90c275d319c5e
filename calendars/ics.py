"""The feed and single-booking .ics bodies, from the same event builder the mails use."""

from django.http import HttpResponse

from bookings.models import Booking, BookingStatus
from bookings.notifications import booking_calendar, booking_event, calendar_of


def feed_body(bookings) -> bytes:
    events = [
        booking_event(b, sequence=max(getattr(b, "calendar_changes", 1) - 1, 0)) for b in bookings
    ]
    return calendar_of(events, method="PUBLISH")


def booking_download(booking: Booking) -> HttpResponse:
    cancelled = booking.status == BookingStatus.CANCELLED
    body = booking_calendar(booking, method="CANCEL" if cancelled else "PUBLISH")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appointment-{booking.pk}.ics"'
    return response


def feed_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
