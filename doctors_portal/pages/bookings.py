"""A booking as the pages show it: a view-model built beside the booking, which stays as
the selector loaded it (nothing is written onto another app's model)."""

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone

from bookings import services
from bookings.models import Booking, BookingStatus
from bookings.shapes import shown_status
from scheduling import timefmt

CANCELLABLE = (BookingStatus.PENDING_PAYMENT, BookingStatus.CONFIRMED)


@dataclass(frozen=True)
class BookingCard:
    """The labels and minutes a page shows for a booking. The booking's own fields (pk,
    price, patient, slot, ...) read through, so templates write `card.pk` as before."""

    booking: Booking
    shown_status: str
    shown_status_label: str
    date_text: str
    label: str
    day: date
    minutes_left: int | None
    can_cancel: bool

    def __getattr__(self, name):
        if name == "booking":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.booking, name)


def hold_minutes(booking: Booking, now: datetime | None = None) -> int:
    left = (booking.expires_at - (now or timezone.now())).total_seconds()
    return max(1, math.ceil(left / 60))


def booking_card(booking: Booking, now: datetime) -> BookingCard:
    """Presentation only: what a page shows for `booking` at `now`."""
    status = shown_status(booking.status, booking.expires_at, now)
    return BookingCard(
        booking=booking,
        shown_status=status,
        shown_status_label=BookingStatus(status).label,
        date_text=timefmt.format_date(booking.slot.start),
        label=timefmt.format_label(booking.slot.start, booking.slot.end),
        day=timefmt.clinic_today(booking.slot.start),
        minutes_left=hold_minutes(booking) if status == BookingStatus.PENDING_PAYMENT else None,
        # The rule (not after the start) is the cancel service's; a lapsed hold shows no button.
        can_cancel=status in CANCELLABLE
        and not services.booking_cancel_refusal(booking=booking, now=now),
    )
