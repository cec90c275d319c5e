"""Reads on payments, scoped to what the caller may see (a booking not theirs is absent)."""

from django.db.models import QuerySet

from accounts.models import Role, User
from bookings.models import Booking
from payments.models import Payment


def booking_payable_by(*, user: User, booking_id: int) -> Booking | None:
    """The booking if `user` is its patient; None (answered as 404) otherwise."""
    if not user.is_authenticated or user.role != Role.PATIENT:
        return None
    return Booking.objects.filter(pk=booking_id, patient=user).first()


def payment_for_booking(*, booking: Booking) -> Payment | None:
    return Payment.objects.filter(booking=booking).first()


def payment_list_for_admin() -> QuerySet[Payment]:
    return Payment.objects.select_related("booking", "booking__patient").prefetch_related("refunds")
