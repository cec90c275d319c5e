"""Reads on bookings, already scoped to the caller: a booking the caller may not see
is simply not in the queryset, so the API answers 404 (no existence leaks)."""

from datetime import date, datetime

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from bookings.shapes import BOOKING_ROW
from doctors_portal.db.compiled import CompiledQuery, Page
from doctors_portal.ids import MAX_ID, is_id_text
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus
from scheduling.selectors import bookable_slots, with_free_seats


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
    """The id in a route (`[^/]+`), or None for what names no booking: another spelling of
    the digits (int() reads "٣" as 3) or beyond the largest id."""
    text = str(raw)
    if not is_id_text(text) or int(text) > MAX_ID:
        return None
    return int(text)


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


def patient_no_shows(*, patient_id) -> Coalesce:
    """A patient's no-show count as one count subquery (booking_patient_no_show_idx):
    `patient_id` an id, or an OuterRef for a count per row."""
    no_shows = (
        Booking.objects.filter(patient_id=patient_id, status=BookingStatus.NO_SHOW)
        .order_by()
        .values("patient_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(no_shows, output_field=IntegerField()), Value(0))


def with_patient_no_shows(queryset: QuerySet[Booking]) -> QuerySet[Booking]:
    """Each row's patient's no-show count (`patient_no_shows`), as one correlated count
    in the same statement, never a query per row."""
    return queryset.annotate(patient_no_shows=patient_no_shows(patient_id=OuterRef("patient_id")))


# A booking as the API shows it is read as one `.values()` row with its patient, doctor,
# slot and service (BOOKING_ROW.columns), because compiling a five-model select and
# building five instances per row cost most of a read's time.
_BOOKING_ROW = CompiledQuery(
    lambda *, booking_id, **viewer: _visible(**viewer).filter(pk=booking_id).order_by(),
    BOOKING_ROW.columns,
    annotate=with_patient_no_shows,
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


def booking_row_held(*, booking: Booking) -> dict:
    """booking_row_get's row of a booking booking_create just made, from the objects in
    memory: its slot (locked, with its doctor and service), its patient (name, email and
    phone as read under the patient's lock) and their no-show count (read with their
    standing). The row booking_row_get would read after the commit, one statement fewer."""
    slot, patient = booking.slot, booking.patient
    return {
        "id": booking.pk,
        "status": str(booking.status),
        "expires_at": booking.expires_at,
        "payment_status": str(booking.payment_status),
        "price": booking.price,
        "currency": booking.currency,
        "service__name": slot.service.name,
        "doctor__email": slot.doctor.email,
        "slot__start": slot.start,
        "slot__end": slot.end,
        "created_at": booking.created_at,
        "patient_id": booking.patient_id,
        "patient__name": patient.name,
        "patient__email": patient.email,
        "patient_phone": booking.patient_phone,
        "patient__phone": patient.phone,
        "patient_no_shows": booking.patient_no_shows,
        "doctor_id": booking.doctor_id,
        "doctor__name": slot.doctor.name,
        "service_id": booking.service_id,
    }


def _status_filter(status: str, now: datetime) -> Q:
    # A pending booking whose hold lapsed is shown, and filtered, as expired.
    lapsed = Q(status=BookingStatus.PENDING_PAYMENT, expires_at__lte=now)
    if status == BookingStatus.PENDING_PAYMENT:
        return Q(status=status) & ~lapsed
    if status == BookingStatus.EXPIRED:
        return Q(status=status) | lapsed
    return Q(status=status)


def booking_list_for_patient(*, patient: User) -> QuerySet[Booking]:
    return with_patient_no_shows(
        _with_relations(Booking.objects.filter(patient=patient)).order_by("-created_at", "-id")
    )


# The API's pages of a patient's bookings, as rows of BOOKING_ROW.columns.
_PATIENT_BOOKING_ROWS = CompiledQuery(
    lambda *, patient_id: _with_relations(Booking.objects.filter(patient_id=patient_id)).order_by(
        "-created_at", "-id"
    ),
    BOOKING_ROW.columns,
    annotate=with_patient_no_shows,
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
    return with_patient_no_shows(
        _doctor_bookings(
            **_doctor_booking_arguments(
                doctor=doctor, day=day, status=status, now=now or timezone.now()
            )
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
    annotate=with_patient_no_shows,
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


# The waitlist ---------------------------------------------------------------------


def _count(queryset: QuerySet) -> Subquery:
    counted = queryset.order_by().values("status").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _place() -> Case:
    """A waiting entry's place in its line (1 = next to be offered), in the same
    statement: those waiting before it for the same seats (bookings.seats.waitlist_line:
    a slot's line holds the slot's entries and its doctor's day's entries)."""
    waiting_before = WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING).filter(
        Q(created_at__lt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__lt=OuterRef("pk"))
    )
    for_slot = waiting_before.filter(
        Q(slot_id=OuterRef("slot_id"))
        | Q(slot__isnull=True, doctor_id=OuterRef("doctor_id"), day=OuterRef("day"))
    )
    for_day = waiting_before.filter(doctor_id=OuterRef("doctor_id"), day=OuterRef("day"))
    return Case(
        When(~Q(status=WaitlistStatus.WAITING), then=Value(None)),
        When(slot__isnull=True, then=_count(for_day) + 1),
        default=_count(for_slot) + 1,
        output_field=IntegerField(),
    )


_WAITLIST_FIELDS = (
    "id",
    "status",
    "slot_id",
    "doctor_id",
    "doctor__name",
    "day",
    "slot_start",
    "service_name",
    "offer_slot_id",
    "offer_start",
    "offer_end",
    "offer_expires_at",
    "booking_id",
    "created_at",
    "place",
)


def _waitlist_entries(*, patient_id: int, entry_id: int, one: bool = False) -> QuerySet:
    entries = WaitlistEntry.objects.filter(patient_id=patient_id)
    if one:
        entries = entries.filter(pk=entry_id)
    return entries.annotate(
        slot_start=F("slot__start"),
        service_name=Coalesce(F("slot__service__name"), F("offer_slot__service__name")),
        offer_start=F("offer_slot__start"),
        offer_end=F("offer_slot__end"),
        place=_place(),
    ).order_by("-created_at", "-id")


# Compiled once per variant (the list, one entry): the place in line's two correlated
# counts cost the ORM several times what PostgreSQL spends on a patient's entries.
_WAITLIST_ROWS = CompiledQuery(_waitlist_entries, _WAITLIST_FIELDS, patient_id=int, entry_id=int)


def waitlist_rows(*, user: User, entry_id: int | None = None) -> list[dict]:
    """The caller's waitlist entries (newest first), or one of them, as WAITLIST_ENTRY
    rows: one statement, each entry's place in line included."""
    if not user.is_authenticated:
        return []
    return _WAITLIST_ROWS.rows(patient_id=user.pk, entry_id=entry_id or 0, one=entry_id is not None)


def waitlist_open_for(*, user: User) -> dict[int, str]:
    """slot id -> 'waiting' or 'offered', for the pages' buttons."""
    if not user.is_authenticated:
        return {}
    rows = WaitlistEntry.objects.filter(
        patient=user, status__in=(WaitlistStatus.WAITING, WaitlistStatus.OFFERED)
    ).values_list("slot_id", "offer_slot_id", "status")
    out = {}
    for slot_id, offer_slot_id, status in rows:
        if slot_id:
            out.setdefault(slot_id, status)
        if offer_slot_id:
            out[offer_slot_id] = status
    return out


def waitlist_entry_id(*, user: User, raw) -> int | None:
    """The id of the caller's own entry `raw`, or None (someone else's is not found)."""
    entry_id = _booking_id(raw)
    if entry_id is None or not user.is_authenticated or not -(2**63) <= entry_id < 2**63:
        return None
    return (
        WaitlistEntry.objects.filter(pk=entry_id, patient=user).values_list("pk", flat=True).first()
    )


def reschedule_choices(*, booking: Booking, now: datetime, limit: int = 60) -> list[Slot]:
    """Free future times the booking may move to: the same service, its own doctor's first,
    soonest first (the page's choices; the service decides)."""
    slots = (
        with_free_seats(bookable_slots(now=now).filter(service_id=booking.service_id), now=now)
        .filter(free_seats__gt=0)
        .exclude(pk=booking.slot_id)
        .select_related("doctor")
        .order_by("start", "id")[: limit * 2]
    )
    ordered = sorted(slots, key=lambda s: (s.doctor_id != booking.doctor_id, s.start, s.pk))
    return ordered[:limit]


def waitlist_offer_standing(*, user: User, slot_id: int, now: datetime) -> bool:
    """Whether a seat of this slot is held for this patient by a waitlist offer."""
    return (
        user.is_authenticated
        and WaitlistEntry.objects.filter(
            patient=user,
            offer_slot_id=slot_id,
            status=WaitlistStatus.OFFERED,
            offer_expires_at__gt=now,
        ).exists()
    )
