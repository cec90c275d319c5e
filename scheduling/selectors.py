"""Reads on services and slots, already limited to what the caller may see.

Free seats are computed, never stored as such: `capacity - seats_taken` plus the
pending holds on that slot whose time ran out (they still sit in `seats_taken`
until a writer or `expire_holds` releases them, but they no longer hold a seat).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, Func, IntegerField, Min, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.credentials import bookable_doctor_q, clinic_today, doctor_bookable
from accounts.models import Role, User
from accounts.permissions import is_admin
from doctors_portal.db.compiled import CompiledQuery
from scheduling import timefmt
from scheduling.holds import holds
from scheduling.models import Service, Slot, SlotStatus, TimeOff, WeeklyRule


def service_list() -> QuerySet[Service]:
    return Service.objects.filter(is_active=True).order_by("name", "id")


def _row_count(rows: QuerySet) -> Coalesce:
    """How many rows a correlated queryset holds, as a column (0 for none)."""
    counted = rows.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def lapsed_holds_subquery(*, now: datetime) -> Subquery:
    """Seats in `seats_taken` that no longer hold anyone: lapsed unpaid holds, and lapsed
    waitlist offers (bookings.seats, through scheduling.holds). Both through small partial
    indexes."""
    slot = OuterRef("pk")
    lapsed = holds().lapsed(now=now).filter(slot=slot)
    lapsed_offers = holds().lapsed_offers(slot=slot, now=now)
    return _row_count(lapsed) + _row_count(lapsed_offers)


def with_free_seats(queryset: QuerySet[Slot], *, now: datetime) -> QuerySet[Slot]:
    return queryset.annotate(
        free_seats=F("capacity") - F("seats_taken") + lapsed_holds_subquery(now=now)
    )


def bookable_slots(*, now: datetime) -> QuerySet[Slot]:
    """Published future slots of bookable doctors (accounts.credentials: active,
    verified, licence not expired) for active services."""
    return Slot.objects.filter(
        bookable_doctor_q(today=clinic_today(now), prefix="doctor__"),
        status=SlotStatus.PUBLISHED,
        start__gt=now,
        service__is_active=True,
    )


@dataclass
class DoctorRef:
    """The few fields of a doctor that availability shows."""

    pk: int
    name: str
    email: str
    # The last day of their licence (None: no expiry recorded): the cached availability
    # answer is true only until then (scheduling.availability_cache).
    license_expires_on: date | None = None

    @property
    def id(self) -> int:
        return self.pk


@dataclass
class FreeSlot:
    """A slot with a free seat, read as plain values: the availability read builds a few
    hundred of these per request, and model instances would cost most of its time."""

    pk: int
    start: datetime
    end: datetime
    capacity: int
    free_seats: int
    service_id: int
    doctor: DoctorRef

    @property
    def id(self) -> int:
        return self.pk

    @property
    def doctor_id(self) -> int:
        return self.doctor.pk


@dataclass
class ServiceAvailability:
    service: Service
    slots: list[FreeSlot] = field(default_factory=list)

    @property
    def doctors(self) -> list[DoctorRef]:
        seen: dict[int, DoctorRef] = {}
        for slot in self.slots:
            seen.setdefault(slot.doctor.pk, slot.doctor)
        return list(seen.values())

    @property
    def available_spaces(self) -> int:
        return sum(slot.free_seats for slot in self.slots)


def _free_slot_rows(*, start_from: datetime, day_end: datetime, now: datetime, service_ids):
    return (
        with_free_seats(
            Slot.objects.filter(
                status=SlotStatus.PUBLISHED,
                start__gte=start_from,
                start__lt=day_end,
                service_id__in=service_ids,
            ),
            now=now,
        )
        # A slot's row only for a free seat: the full ones are most of a busy day, and
        # loading their timestamps cost more than the database spends on the filter.
        .filter(free_seats__gt=0)
        .order_by("start", "id")
    )


_FREE_SLOT_FIELDS = (
    "id",
    "start",
    "end",
    "capacity",
    "free_seats",
    "service_id",
    "doctor_id",
    "doctor__name",
    "doctor__email",
    "doctor__role",
    "doctor__is_active",
    "doctor__doctor_profile__is_verified",
    "doctor__doctor_profile__license_expires_on",
)


# The service ids are a constant: one compiled variant per set of active services.
_FREE_SLOT_ROWS = CompiledQuery(
    _free_slot_rows,
    _FREE_SLOT_FIELDS,
    as_tuples=True,
    start_from=datetime,
    day_end=datetime,
    now=datetime,
)
_SERVICE_FIELDS = tuple(field.attname for field in Service._meta.concrete_fields)
_ACTIVE_SERVICES = CompiledQuery(service_list, _SERVICE_FIELDS, as_tuples=True)


def _active_services() -> list[Service]:
    return [
        Service.from_db(DEFAULT_DB_ALIAS, _SERVICE_FIELDS, row) for row in _ACTIVE_SERVICES.rows()
    ]


def availability_for_date(*, day: date, now: datetime | None = None) -> list[ServiceAvailability]:
    """Every active service with its free slots on one clinic-local day: two queries.

    The slot query filters on slot columns only, so PostgreSQL drives it from a range
    scan of `start` (slot_start_status_idx) and joins each doctor by primary key; its
    cost follows the slots of that day, not the number of slots, doctors or users.
    Lapsed holds are counted through the partial index booking_pending_slot_idx. The
    doctor's role, activity and verification are then checked on the rows of the day
    that have a free seat.
    """
    now = now or timezone.now()
    return availability_between(*timefmt.day_bounds(day), now=now)


def publish_horizon(*, now: datetime) -> date:
    """The last clinic day on which slots are published, and so asked for."""
    return timefmt.clinic_today(now) + timedelta(days=settings.PUBLISH_HORIZON_DAYS)


def bookable_day(*, day: date, now: datetime) -> date:
    """`day` when the clinic books it (today to the publishing horizon); else DateOutOfRange."""
    if day < timefmt.clinic_today(now):
        raise timefmt.DateOutOfRange(day, past=True, detail="is in the past")
    if day > publish_horizon(now=now):
        raise timefmt.DateOutOfRange(
            day,
            past=False,
            detail=f"is more than {settings.PUBLISH_HORIZON_DAYS} days ahead",
        )
    return day


def upcoming_window(*, now: datetime) -> tuple[datetime, datetime]:
    """[now, now + BOOKING_HORIZON_DAYS): what appointmentOptions answers without a date."""
    return now, now + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def availability_upcoming(*, now: datetime | None = None) -> list[ServiceAvailability]:
    """Every active service with its free slots from now to the booking horizon (the same
    two queries as one day's, over a longer range of `start`)."""
    now = now or timezone.now()
    return availability_between(*upcoming_window(now=now), now=now)


def availability_between(
    start: datetime, end: datetime, *, now: datetime
) -> list[ServiceAvailability]:
    """Every active service with its free slots starting in [start, end), none started."""
    result = {service.pk: ServiceAvailability(service) for service in _active_services()}
    rows = _FREE_SLOT_ROWS.rows(
        start_from=max(start, now), day_end=end, now=now, service_ids=tuple(result)
    )
    doctors: dict[int, DoctorRef] = {}
    today = clinic_today(now)
    for pk, slot_start, slot_end, capacity, free, service_id, doctor_id, *doctor in rows:
        name, email, role, active, verified, expires_on = doctor
        if slot_start <= now or free <= 0:
            continue
        bookable = doctor_bookable(
            active=active, role=role, verified=verified, expires_on=expires_on, today=today
        )
        if not bookable:
            continue
        ref = doctors.get(doctor_id) or doctors.setdefault(
            doctor_id, DoctorRef(doctor_id, name, email, expires_on)
        )
        result[service_id].slots.append(
            FreeSlot(pk, slot_start, slot_end, capacity, free, service_id, ref)
        )
    return list(result.values())


def hold_next_lapse(*, start: datetime, end: datetime, now: datetime) -> datetime | None:
    """When the next unpaid hold on a slot starting in [start, end) lapses (its seat comes
    back)."""
    return (
        holds()
        .running(now=now)
        .filter(slot__start__gte=start, slot__start__lt=end)
        .aggregate(next=Min("expires_at"))["next"]
    )


def next_slot_start_from(*, at: datetime) -> datetime | None:
    """The start of the first published slot at or after `at` (one index probe)."""
    return (
        Slot.objects.filter(status=SlotStatus.PUBLISHED, start__gte=at)
        .order_by("start")
        .values_list("start", flat=True)
        .first()
    )


def doctor_get_by_email(*, email: str) -> User | None:
    return (
        User.objects.filter(email__iexact=(email or "").strip(), role=Role.DOCTOR)
        .select_related("doctor_profile", "doctor_profile__specialty")
        .first()
    )


def doctor_slots_public(*, doctor: User, now: datetime | None = None) -> list[Slot]:
    """A doctor's bookable future slots with a free seat, for anyone to see."""
    now = now or timezone.now()
    return list(
        with_free_seats(bookable_slots(now=now).filter(doctor=doctor), now=now)
        .filter(free_seats__gt=0)
        .order_by("start", "id")
    )


def doctor_slots_private(*, doctor: User, viewer, now: datetime | None = None) -> list[Slot] | None:
    """Every future slot of the doctor (any status), for the doctor themself and admins."""
    if not (is_admin(viewer) or (viewer.is_authenticated and viewer.pk == doctor.pk)):
        return None
    now = now or timezone.now()
    return list(
        with_free_seats(
            Slot.objects.filter(doctor=doctor, end__gt=now).select_related("service"), now=now
        ).order_by("start", "id")
    )


def slot_active_bookings(*, slot: Slot, now: datetime) -> int:
    seats_in_use = holds().confirmed() | holds().running(now=now)
    return seats_in_use.filter(slot=slot).count()


def schedule_list(*, doctor: User | None) -> list:
    """The doctor's weekly hours in the order of the week's hours (None: every doctor's,
    for admins)."""
    rules = WeeklyRule.objects.select_related("doctor", "service")
    if doctor is not None:
        rules = rules.filter(doctor=doctor)
    return list(rules.order_by("doctor_id", "start_time", "valid_from", "id"))


def time_off_list(*, doctor: User | None, now: datetime | None = None) -> list:
    """The doctor's time off that has not ended yet, soonest first (None: every doctor's)."""
    now = now or timezone.now()
    offs = TimeOff.objects.filter(end__gt=now).select_related("doctor")
    if doctor is not None:
        offs = offs.filter(doctor=doctor)
    return list(offs.order_by("start", "id"))


def slot_bookings_described(*, slots: list[Slot], now: datetime) -> list[str]:
    """One line per active booking on these slots (pending holds not lapsed, confirmed)."""
    seats_in_use = holds().confirmed() | holds().running(now=now)
    active = (
        seats_in_use.filter(slot__in=slots)
        .select_related("patient", "slot")
        .order_by("slot__start", "pk")
    )
    return [
        f"Booking #{b.pk}: {b.patient.name}, {timefmt.format_date(b.slot.start)} "
        f"{timefmt.format_label(b.slot.start, b.slot.end)} ({b.get_status_display()})."
        for b in active
    ]
