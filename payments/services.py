"""Every write on payments (built by the payments issue)."""

from decimal import Decimal

from bookings.models import Booking


def payment_refund_booking(*, booking: Booking, amount: Decimal, reason: str) -> Decimal:
    """Refund `amount` of a paid booking through Stripe; returns the amount refunded."""
    raise NotImplementedError("Refunds arrive with the payments issue.")
