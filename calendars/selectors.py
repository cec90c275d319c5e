from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from bookings.notifications import CALENDAR_KINDS
from calendars.models import CalendarFeed
from calendars.services import token_digest

# How far back a feed reaches; calendar apps keep what they already have.
FEED_PAST = timedelta(days=90)


def calendar_feed_owner(*, token: str) -> User | None:
    """The active user whose feed this token opens (compared by digest), or None."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_sha256=token_digest(token), user__is_active=True)
        .first()
    )
    return feed.user if feed else None


# Appointments that stay in a subscribed calendar: confirmed, and once attendance is
# recorded (completed or no-show) still there as the past event it was.
ATTENDED_OR_CONFIRMED = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)


def calendar_bookings(*, user: User) -> QuerySet[Booking]:
    """A patient's appointments, or a doctor's booked slots: confirmed, and cancelled
    ones that were confirmed (so subscribed calendars drop them), with each one's
    SEQUENCE (how many calendar changes it had, less one)."""
    mine = Q(doctor=user) if user.role == Role.DOCTOR else Q(patient=user)
    return (
        Booking.objects.filter(mine, slot__start__gte=timezone.now() - FEED_PAST)
        .filter(status__in=[*ATTENDED_OR_CONFIRMED, BookingStatus.CANCELLED])
        .annotate(
            calendar_changes=Count(
                "outbox_messages", filter=Q(outbox_messages__kind__in=CALENDAR_KINDS)
            )
        )
        .filter(Q(status__in=ATTENDED_OR_CONFIRMED) | Q(calendar_changes__gt=1))
        .select_related("patient", "doctor", "service", "slot")
        .order_by("slot__start", "id")
    )
