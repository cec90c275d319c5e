"""Shared set-up of the reschedule, attendance and waitlist tests."""

from datetime import timedelta

from django.utils import timezone

from bookings import services
from bookings.models import Booking, PaymentStatus
from tests.factories import SlotFactory


def hour_slot(doctor, service, *, hours_ahead: int, capacity: int = 1):
    start = (timezone.now() + timedelta(hours=hours_ahead)).replace(
        minute=0, second=0, microsecond=0
    )
    return SlotFactory(
        doctor=doctor,
        service=service,
        start=start,
        end=start + timedelta(hours=1),
        capacity=capacity,
    )


def paid_booking(patient, slot) -> Booking:
    """A confirmed booking with the payment state payments.services derives when paid."""
    booking = services.booking_create(patient=patient, slot_id=slot.pk)
    services.booking_confirm_paid(booking_id=booking.pk)
    Booking.objects.filter(pk=booking.pk).update(payment_status=PaymentStatus.PAID)
    booking.refresh_from_db()
    return booking


def post(client, path, body=None):
    return client.post(f"/api/v1/{path}", body if body is not None else {}, format="json")


def confirmed_booking(patient, slot) -> Booking:
    """Confirmed without a recorded payment (so cancelling it needs no Stripe refund)."""
    booking = services.booking_create(patient=patient, slot_id=slot.pk)
    return services.booking_confirm_paid(booking_id=booking.pk)
