"""Reads on bookings, already scoped to the caller: a booking the caller may not see
is simply not in the queryset, so the API answers 404 (no existence leaks)."""

from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from doctors_portal.db.compiled import CompiledQuery
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


def _booking_row_by_id(*, booking_id: int, viewer_id: int, sees_all: bool) -> QuerySet:
    bookings = Booking.objects.filter(pk=booking_id)
    if not sees_all:
        bookings = bookings.filter(Q(patient_id=viewer_id) | Q(doctor_id=viewer_id))
    return bookings.order_by()  # one row by primary key: nothing to order


_BOOKING_ROW = CompiledQuery(_booking_row_by_id, ROW_VALUES, booking_id=int, viewer_id=int)


def booking_row_get(*, user: User, booking_id) -> dict | None:
    """booking_get as a ROW_VALUES dict."""
    try:
        booking_id = int(booking_id)
    except (TypeError, ValueError):
        return None
    if not user.is_authenticated or not user.is_active:
        return None
    rows = _BOOKING_ROW.rows(
        booking_id=booking_id, viewer_id=user.pk, sees_all=user.role == Role.ADMIN
    )
    return rows[0] if rows else None


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


# The API's pages of a patient's bookings, as ROW_VALUES dicts.
PATIENT_BOOKING_ROWS = CompiledQuery(
    lambda *, patient_id: booking_list_for_patient(patient=User(pk=patient_id)),
    ROW_VALUES,
    patient_id=int,
)


def booking_list_for_doctor(
    *,
    doctor: User,
    day: date | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Booking]:
    return _doctor_bookings(
        **doctor_booking_arguments(doctor=doctor, day=day, status=status, now=now or timezone.now())
    )


def _doctor_bookings(
    *, doctor_id: int, since, until, status: str | None, now: datetime, by_day: bool
) -> QuerySet[Booking]:
    queryset = Booking.objects.filter(doctor_id=doctor_id)
    if by_day:
        queryset = queryset.filter(slot__start__gte=since, slot__start__lt=until)
    if status:
        queryset = queryset.filter(_status_filter(status, now))
    return _with_relations(queryset).order_by("-created_at", "-id")


# The API's pages of a doctor's bookings, as ROW_VALUES dicts: the arguments of
# booking_list_for_doctor, with the day as its bounds (see doctor_booking_arguments).
DOCTOR_BOOKING_ROWS = CompiledQuery(
    _doctor_bookings,
    ROW_VALUES,
    doctor_id=int,
    since=datetime,
    until=datetime,
    now=datetime,
)


def doctor_booking_arguments(
    *, doctor: User, day: date | None, status: str | None, now: datetime
) -> dict:
    """DOCTOR_BOOKING_ROWS's arguments for booking_list_for_doctor's filters."""
    since, until = timefmt.day_bounds(day) if day is not None else (now, now)
    return {
        "doctor_id": doctor.pk,
        "since": since,
        "until": until,
        "now": now,
        "status": status or None,
        "by_day": day is not None,
    }


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
