"""Reads on bookings, already scoped to the caller: a booking the caller may not see
is simply not in the queryset, so the API answers 404 (no existence leaks)."""

from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus
from bookings.shapes import BOOKING_ROW
from doctors_portal.db.compiled import CompiledQuery, Page
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus


def _with_relations(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    return queryset.select_related("patient", "doctor", "service", "slot")


def _visible(*, viewer_id: int, sees_all: bool) -> QuerySet[Booking]:
    """Who sees which booking: an administrator every one, anyone else those they are the
    patient or the doctor of."""
    bookings = Booking.objects.all()
    if not sees_all:
        bookings = bookings.filter(Q(patient_id=viewer_id) | Q(doctor_id=viewer_id))
    return bookings


def _viewer(user: User) -> dict | None:
    """_visible's arguments for this caller; None for one who sees no booking."""
    if not user.is_authenticated or not user.is_active:
        return None
    return {"viewer_id": user.pk, "sees_all": user.is_admin}


def _booking_id(raw) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def booking_visible_to(*, user: User) -> QuerySet[Booking]:
    viewer = _viewer(user)
    if viewer is None:
        return Booking.objects.none()
    return _with_relations(_visible(**viewer))


def booking_get(*, user: User, booking_id) -> Booking | None:
    booking_id = _booking_id(booking_id)
    if booking_id is None:
        return None
    return booking_visible_to(user=user).filter(pk=booking_id).first()


# A booking as the API shows it is read as one `.values()` row with its patient, doctor,
# slot and service (BOOKING_ROW.columns), because compiling a five-model select and
# building five instances per row cost most of a read's time.
_BOOKING_ROW = CompiledQuery(
    lambda *, booking_id, **viewer: _visible(**viewer).filter(pk=booking_id).order_by(),
    BOOKING_ROW.columns,
    booking_id=int,
    viewer_id=int,
)


def booking_row_get(*, user: User, booking_id) -> dict | None:
    """booking_get as a row of BOOKING_ROW.columns."""
    booking_id = _booking_id(booking_id)
    viewer = _viewer(user)
    if booking_id is None or viewer is None:
        return None
    rows = _BOOKING_ROW.rows(booking_id=booking_id, **viewer)
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


# The API's pages of a patient's bookings, as rows of BOOKING_ROW.columns.
_PATIENT_BOOKING_ROWS = CompiledQuery(
    lambda *, patient_id: booking_list_for_patient(patient=User(pk=patient_id)),
    BOOKING_ROW.columns,
    patient_id=int,
)


def booking_page_for_patient(*, patient: User, limit: int, offset: int = 0) -> Page:
    """One page of booking_list_for_patient as rows of BOOKING_ROW.columns, and the total."""
    return _PATIENT_BOOKING_ROWS.page(limit=limit, offset=offset, patient_id=patient.pk)


def booking_list_for_doctor(
    *,
    doctor: User,
    day: date | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> QuerySet[Booking]:
    return _doctor_bookings(
        **_doctor_booking_arguments(
            doctor=doctor, day=day, status=status, now=now or timezone.now()
        )
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


# The API's pages of a doctor's bookings, as rows of BOOKING_ROW.columns: the arguments
# of booking_list_for_doctor, with the day as its bounds (see _doctor_booking_arguments).
_DOCTOR_BOOKING_ROWS = CompiledQuery(
    _doctor_bookings,
    BOOKING_ROW.columns,
    doctor_id=int,
    since=datetime,
    until=datetime,
    now=datetime,
)


def booking_page_for_doctor(
    *,
    doctor: User,
    day: date | None = None,
    status: str | None = None,
    now: datetime,
    limit: int,
    offset: int = 0,
) -> Page:
    """One page of booking_list_for_doctor as rows of BOOKING_ROW.columns, and the total."""
    return _DOCTOR_BOOKING_ROWS.page(
        limit=limit,
        offset=offset,
        **_doctor_booking_arguments(doctor=doctor, day=day, status=status, now=now),
    )


def _doctor_booking_arguments(
    *, doctor: User, day: date | None, status: str | None, now: datetime
) -> dict:
    """_doctor_bookings's arguments for booking_list_for_doctor's filters."""
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
