"""Reads on bookings, already scoped to the caller: a booking the caller may not see
is simply not in the queryset, so the API answers 404 (no existence leaks)."""

from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus


def _with_relations(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    return queryset.select_related("patient", "doctor", "service", "slot")


def booking_visible_to(*, user: User) -> QuerySet[Booking]:
    if not user.is_authenticated or not user.is_active:
        return Booking.objects.none()
    if user.role == Role.ADMIN:
        return _with_relations(Booking.objects.all())
    return _with_relations(Booking.objects.filter(Q(patient=user) | Q(doctor=user)))


def booking_get(*, user: User, booking_id) -> Booking | None:
    try:
        booking_id = int(booking_id)
    except (TypeError, ValueError):
        return None
    return booking_visible_to(user=user).filter(pk=booking_id).first()


# What a booking row of the API is built from (bookings.serializers.booking_row): read as
# one `.values()` row with its patient, doctor, slot and service, because compiling a
# five-model select and building five instances per row cost most of a read's time.
ROW_VALUES = (
    "id",
    "status",
    "payment_status",
    "price",
    "currency",
    "expires_at",
    "created_at",
    "patient_phone",
    "patient_id",
    "patient__name",
    "patient__email",
    "patient__phone",
    "doctor_id",
    "doctor__name",
    "doctor__email",
    "slot__start",
    "slot__end",
    "service_id",
    "service__name",
)


def booking_rows(queryset: QuerySet[Booking]) -> QuerySet:
    """The bookings of `queryset` as ROW_VALUES dicts, in the queryset's order."""
    return queryset.values(*ROW_VALUES)


def booking_row_get(*, user: User, booking_id) -> dict | None:
    """booking_get as a ROW_VALUES dict (one row by primary key: no ordering to compile)."""
    try:
        booking_id = int(booking_id)
    except (TypeError, ValueError):
        return None
    if not user.is_authenticated or not user.is_active:
        return None
    bookings = Booking.objects.filter(pk=booking_id)
    if user.role != Role.ADMIN:
        bookings = bookings.filter(Q(patient=user) | Q(doctor=user))
    return next(iter(booking_rows(bookings.order_by())[:1]), None)


def _status_filter(status: str, now: datetime) -> Q:
    # A pending booking whose hold lapsed is shown, and filtered, as expired.
    lapsed = Q(status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now)
    if status == BookingStatus.PENDING_PAYMENT:
        return Q(status=status) & ~lapsed
    if status == BookingStatus.EXPIRED:
        return Q(status=status) | lapsed
    return Q(status=status)


def booking_list_for_patient(*, patient: User) -> QuerySet[Booking]:
    return _with_relations(Booking.objects.filter(patient=patient)).order_by("-created_at", "-id")


def booking_list_for_doctor(
    *,
    doctor: User,
    day: date | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Booking]:
    now = now or timezone.now()
    queryset = Booking.objects.filter(doctor=doctor)
    if day is not None:
        start, end = timefmt.day_bounds(day)
        queryset = queryset.filter(slot__start__gte=start, slot__start__lt=end)
    if status:
        queryset = queryset.filter(_status_filter(status, now))
    return _with_relations(queryset).order_by("-created_at", "-id")


def user_get_by_email(*, email: str, role: str) -> User | None:
    return User.objects.filter(email__iexact=(email or "").strip(), role=role).first()


def slot_find_by_label(*, doctor: User, day, label) -> Slot | None:
    """The doctor's (not cancelled) slot at this reference date and label."""
    interval = timefmt.label_to_interval(day, label)
    return (
        Slot.objects.filter(doctor=doctor, start=interval.start, end=interval.end)
        .exclude(status=SlotStatus.CANCELLED)
        .first()
    )
