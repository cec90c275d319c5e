from accounts.throttles import AuthRateThrottle


class BookingRateThrottle(AuthRateThrottle):
    """The "booking" rate, per user (or client address): POST bookings and the booking
    page's POST count in the same bucket."""

    scope = "booking"
