"""Reads on services and slots, already limited to what the caller may see.

Free seats are computed, never stored as such: `capacity - seats_taken` plus the
pending holds on that slot whose time ran out (they still sit in `seats_taken`
until a writer or `expire_holds` releases them, but they no longer hold a seat).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Case,
    CharField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Lower, Substr
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts.credentials import bookable_doctor_q, clinic_today, doctor_bookable
from accounts.models import Role, User
from accounts.permissions import is_admin
from accounts.serializers import photo_url
from doctors_portal.db.compiled import CompiledQuery, Page
from doctors_portal.db.text import folded_contains
from doctors_portal.ids import is_id_text
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


def bookable_slots(*, now: datetime, today: date | None = None) -> QuerySet[Slot]:
    """Published future slots of bookable doctors (accounts.credentials: active,
    verified, licence not expired) for active services. `today` is the clinic's date at
    `now` (a compiled read passes it as its own parameter)."""
    return Slot.objects.filter(
        bookable_doctor_q(today=clinic_today(now) if today is None else today, prefix="doctor__"),
        status=SlotStatus.PUBLISHED,
        start__gt=now,
        service__is_active=True,
    )


def free_bookable_slots(*, now: datetime, today: date | None = None) -> QuerySet[Slot]:
    """bookable_slots with a free seat now (their `free_seats` annotated): what patients
    are offered."""
    return with_free_seats(bookable_slots(now=now, today=today), now=now).filter(free_seats__gt=0)


@dataclass
class DoctorRef:
    """The few fields of a doctor that availability shows."""

    role: ClassVar[str] = Role.DOCTOR  # for accounts.names.display_name

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


def availability_for_date(
    *, day: date, now: datetime | None = None, service_id: int | None = None
) -> list[ServiceAvailability]:
    """Every active service with its free slots on one clinic-local day: two queries.

    The slot query filters on slot columns only, so PostgreSQL drives it from a range
    scan of `start` (slot_start_status_idx) and joins each doctor by primary key; its
    cost follows the slots of that day, not the number of slots, doctors or users.
    Lapsed holds are counted through the partial index booking_pending_slot_idx. The
    doctor's role, activity and verification are then checked on the rows of the day
    that have a free seat.
    """
    now = now or timezone.now()
    return availability_between(*timefmt.day_bounds(day), now=now, service_id=service_id)


def publish_horizon(*, now: datetime) -> date:
    """The last clinic day on which slots are published, and so asked for."""
    return timefmt.clinic_today(now) + timedelta(days=settings.PUBLISH_HORIZON_DAYS)


def publish_until(*, now: datetime) -> datetime:
    """The end of publish_horizon's day: no slot is published to start at or after it, so
    a search for a doctor's next free time stops there instead of reading every full slot
    the doctor has (bench/NOTES.md, doctors/:id at 1M)."""
    return timefmt.day_bounds(publish_horizon(now=now))[1]


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


def availability_upcoming(
    *, now: datetime | None = None, service_id: int | None = None
) -> list[ServiceAvailability]:
    """Every active service with its free slots from now to the booking horizon (the same
    two queries as one day's, over a longer range of `start`)."""
    now = now or timezone.now()
    return availability_between(*upcoming_window(now=now), now=now, service_id=service_id)


def availability_between(
    start: datetime, end: datetime, *, now: datetime, service_id: int | None = None
) -> list[ServiceAvailability]:
    """Every active service (or only `service_id`'s) with its free slots starting in
    [start, end), none started."""
    result = [
        ServiceAvailability(service)
        for service in _active_services()
        if service_id is None or service.pk == service_id
    ]
    if not result:
        return []
    slots = free_slots_between(
        start, end, now=now, service_ids=[item.service.pk for item in result]
    )
    for item in result:
        item.slots = slots.get(item.service.pk, [])
    return result


def free_slots_between(
    start: datetime, end: datetime, *, now: datetime, service_ids: list[int]
) -> dict[int, list[FreeSlot]]:
    """The free slots of these services starting in [start, end), none started, by service
    (a service without any is absent), each list in start order."""
    rows = _FREE_SLOT_ROWS.rows(
        start_from=max(start, now), day_end=end, now=now, service_ids=tuple(service_ids)
    )
    result: dict[int, list[FreeSlot]] = {}
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
        slot = FreeSlot(pk, slot_start, slot_end, capacity, free, service_id, ref)
        listed = result.get(service_id)
        if listed is None:
            result[service_id] = [slot]
        else:
            listed.append(slot)
    return result


def _running_holds(*, start: datetime, end: datetime, now: datetime):
    return holds().running(now=now).filter(slot__start__gte=start, slot__start__lt=end).order_by()


# Compiled once per process: every computed day of availability asks it.
_RUNNING_HOLDS = CompiledQuery(
    _running_holds,
    ("slot__start", "expires_at"),
    as_tuples=True,
    start=datetime,
    end=datetime,
    now=datetime,
)


def hold_lapses_between(
    *, start: datetime, end: datetime, now: datetime
) -> list[tuple[datetime, datetime]]:
    """(slot start, lapse) of every unpaid hold still running on a slot starting in
    [start, end): when each one's seat comes back. Few rows: only holds not yet lapsed."""
    return [tuple(row) for row in _RUNNING_HOLDS.rows(start=start, end=end, now=now)]


def _email_q(email: str, *, prefix: str = "") -> Q:
    """Users (or rows reaching one through `prefix`) with this email in any case: compared
    as LOWER(email) = LOWER(value), the expression of the unique index user_email_ci_unique
    (`__iexact` compares UPPER() on PostgreSQL, which no index holds: a scan of every
    user). The value reaches the SQL as one bound parameter (a compiled read's marker)."""
    return Q(Exact(Lower(f"{prefix}email"), Lower(Value(email, output_field=CharField()))))


def _email_or_none(email: str | None) -> str | None:
    """The email as asked for, or None when no user can have it (PostgreSQL cannot even
    compare a NUL; longer than the column holds)."""
    text = (email or "").strip()
    return text if text and "\x00" not in text and len(text) <= 254 else None


def doctor_get_by_email(*, email: str) -> User | None:
    text = _email_or_none(email)
    if text is None:
        return None
    return (
        User.objects.filter(_email_q(text), role=Role.DOCTOR)
        .select_related("doctor_profile", "doctor_profile__specialty")
        .first()
    )


def doctor_slots_public(
    *, doctor: User, now: datetime | None = None, limit: int | None = None
) -> list[Slot]:
    """A doctor's bookable future slots with a free seat up to the publishing horizon, for
    anyone to see (the first `limit` of them), with their service and doctor."""
    now = now or timezone.now()
    slots = (
        free_bookable_slots(now=now)
        .filter(doctor=doctor, start__lt=publish_until(now=now))
        .select_related("service", "doctor")
        .order_by("start", "id")
    )
    return list(slots[:limit] if limit else slots)


# slot/:email (API.md "Services and slots"), bounded to upcoming_window and paged (issue 16).
# The doctor is found by email inside the slots' statement (no lookup first): one statement
# answers the public page, its total and the doctor's stored email.


def _doctor_free_slots(*, email: str, now: datetime, today: date, until: datetime):
    return (
        free_bookable_slots(now=now, today=today)
        .filter(_email_q(email, prefix="doctor__"), start__lt=until)
        .order_by("start", "id")
    )


def _doctor_own_slots(*, email: str, now: datetime, until: datetime):
    """Every slot of the (active) doctor not over yet that starts before `until`, any status."""
    return with_free_seats(
        Slot.objects.filter(
            _email_q(email, prefix="doctor__"),
            doctor__role=Role.DOCTOR,
            doctor__is_active=True,
            end__gt=now,
            start__lt=until,
        ),
        now=now,
    ).order_by("start", "id")


# Compiled once per process (see _DIRECTORY): the free-seat subqueries cost the ORM more to
# compile than PostgreSQL spends running the page.
_DOCTOR_FREE_SLOTS = CompiledQuery(
    _doctor_free_slots,
    ("id", "start", "end", "doctor__email"),
    as_tuples=True,
    email=str,
    now=datetime,
    today=date,
    until=datetime,
)
_DOCTOR_OWN_SLOTS = CompiledQuery(
    _doctor_own_slots,
    ("id", "start", "end", "capacity", "free_seats", "status", "service_id", "doctor__email"),
    as_tuples=True,
    email=str,
    now=datetime,
    until=datetime,
)


@dataclass
class DoctorSlotsPage:
    """One page of a doctor's slots in the upcoming window: `free` (id, start, end) of
    the bookable ones with a free seat, for anyone; `own` (id, start, end, capacity,
    free_seats, status, service_id) of every status, for the doctor and admins (else
    None). Each list is paged alike and has its own total."""

    email: str
    free: list[tuple]
    total: int
    own: list[tuple] | None = None
    own_total: int | None = None


def doctor_slots_page(
    *, email: str, viewer, limit: int, offset: int = 0, now: datetime | None = None
) -> DoctorSlotsPage | None:
    """A page of the slots of the active doctor with this email (any case) starting in
    upcoming_window (what appointmentOptions offers without a date); None when there is no
    such doctor. One statement for the public page; one more for the doctor's or an
    admin's own list, and one more when both pages are empty (is there such a doctor?)."""
    text = _email_or_none(email)
    if text is None:
        return None
    now = now or timezone.now()
    _start, until = upcoming_window(now=now)
    free, total = _DOCTOR_FREE_SLOTS.page(
        limit=limit, offset=offset, email=text, now=now, today=clinic_today(now), until=until
    )
    stored = free[0][-1] if free else None
    own = own_total = None
    if is_admin(viewer) or (viewer.is_authenticated and viewer.email.lower() == text.lower()):
        own, own_total = _DOCTOR_OWN_SLOTS.page(
            limit=limit, offset=offset, email=text, now=now, until=until
        )
        stored = stored or (own[0][-1] if own else None)
        own = [row[:-1] for row in own]
    if stored is None:  # both pages empty: is there such a doctor at all?
        doctor = doctor_get_by_email(email=text)
        if doctor is None or not doctor.is_active:
            return None
        stored = doctor.email
    return DoctorSlotsPage(stored, [row[:-1] for row in free], total, own, own_total)


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


# The doctors directory (API.md "Doctors and schedules": doctors, doctors/:id) -----------

MAX_DIRECTORY_SEARCH = 100  # characters of ?q=; a longer term is a 400


@dataclass
class DoctorCard:
    """A bookable doctor as the directory shows them, with their next free time."""

    role: ClassVar[str] = Role.DOCTOR  # for accounts.names.display_name

    pk: int
    name: str
    picture_link: str  # User.image: a link the doctor typed
    photo: str  # User.photo's name: an uploaded picture, "" if none
    bio: str
    specialty_id: int | None
    specialty_name: str | None
    next_available: datetime | None

    @property
    def id(self) -> int:
        return self.pk

    @property
    def image(self) -> str:
        """What every user's `image` shows (accounts.serializers.user_out): the uploaded
        photo's route when there is one, else the link."""
        return photo_url(self.pk, self.photo) if self.photo else self.picture_link


_CARD_FIELDS = (
    "id",
    "name",
    "image",
    "photo",
    "doctor_profile__bio",
    "doctor_profile__specialty_id",
    "doctor_profile__specialty__name",
    "next_available",
)


def next_free_start_subquery(
    *, now: datetime, today: date, until: datetime | None = None
) -> Subquery:
    """The start of the doctor's (OuterRef "pk") first free bookable slot before `until`
    (publish_until), or NULL: the free seats of appointmentOptions (published, future,
    bookable doctor, active service, unpaid holds that have not lapsed taken). An index
    range of slot_doctor_start_idx from now to `until`, stopping at the first slot with a
    free seat: a doctor booked up far ahead costs at most the horizon's full slots, not
    every slot they ever had. `today` is the clinic's date at `now`."""
    first_free = (
        free_bookable_slots(now=now, today=today)
        .filter(doctor=OuterRef("pk"))
        .order_by("start", "id")
    )
    if until is not None:
        first_free = first_free.filter(start__lt=until)
    return Subquery(first_free.values("start")[:1])


# The directory's ?specialty= and appointmentOptions' ?service= name a service by id on
# nearly every request: compiled once (the ORM built the one-row read for 0.3-0.5 ms).
_ACTIVE_SERVICE_BY_ID = CompiledQuery(
    lambda *, service_id: service_list().filter(pk=service_id),
    _SERVICE_FIELDS,
    as_tuples=True,
    service_id=int,
)


def service_find_active(*, ref: str) -> Service | None:
    """An active service named by id or by name (any case); None when there is none."""
    text = (ref or "").strip()
    if not text or "\x00" in text:
        return None
    if is_id_text(text):
        if len(text) > 18:
            return None
        rows = _ACTIVE_SERVICE_BY_ID.rows(service_id=int(text))
        return Service.from_db(DEFAULT_DB_ALIAS, _SERVICE_FIELDS, rows[0]) if rows else None
    return service_list().filter(name__iexact=text).first()


def _directory(
    *,
    now: datetime,
    today: date,
    until: datetime,
    specialty_id: int,
    q: str,
    by_specialty: bool = False,
    searching: bool = False,
    doctor_id: int = 0,
    one: bool = False,
) -> QuerySet[User]:
    """Bookable doctors (accounts.credentials: active, verified, licence not expired on
    `today`, the clinic's date at `now`), or the one `doctor_id`, by name, each with their
    next free time: the builder of the compiled reads below (the flags are constants, the
    rest is bound). Live doctors of a role are read off user_live_role_created_idx."""
    doctors = User.objects.filter(bookable_doctor_q(today=today), deleted_at__isnull=True)
    if one:
        doctors = doctors.filter(pk=doctor_id)
    if by_specialty:
        doctors = doctors.filter(doctor_profile__specialty_id=specialty_id)
    if searching:
        # The term reaches the SQL as one bound value (the database folds and escapes it).
        doctors = doctors.filter(folded_contains("name", "doctor_profile__specialty__name", term=q))
    # The bound for one doctor only: a page's generic plan with it ran 1.9x slower at 100k
    # slots (3.1 against 1.6 ms in process; bench/NOTES.md, the run of the fourth session).
    bound = until if one else None
    next_free = next_free_start_subquery(now=now, today=today, until=bound)
    return doctors.annotate(next_available=next_free).order_by(_name_without_title(), "id")


def _name_without_title():
    """The name a doctor is sorted by: without a typed "Dr." / "Dr" title (the one
    accounts.names.display_name drops), so "Dr. Nadia" sorts under N, not D."""
    return Case(
        When(name__istartswith="dr. ", then=Substr("name", 5)),
        When(name__istartswith="dr ", then=Substr("name", 4)),
        default=F("name"),
    )


# Compiled once per variant (ARCHITECTURE: bench/NOTES.md, "the ORM compiled the same SQL
# on every request"): the nested free-seat subqueries cost the ORM about 10 ms to compile,
# a hundred times what PostgreSQL spends running them for a page.
_DIRECTORY = CompiledQuery(
    _directory,
    _CARD_FIELDS,
    as_tuples=True,
    now=datetime,
    today=date,
    until=datetime,
    specialty_id=int,
    q=str,
    doctor_id=int,
)


def doctor_directory_page(
    *,
    specialty: Service | None = None,
    q: str = "",
    limit: int,
    offset: int = 0,
    now: datetime | None = None,
) -> Page:
    """One page of bookable doctors by name (a specialty, a search in their name or
    specialty, case folded on every database), each with their next free time: one
    statement (the page with nextAvailable as a subquery, and the total)."""
    term = (q or "").strip()
    now = now or timezone.now()
    rows, total = _DIRECTORY.page(
        limit=limit,
        offset=offset,
        now=now,
        today=clinic_today(now),
        until=publish_until(now=now),
        specialty_id=specialty.pk if specialty else 0,
        q=term,
        doctor_id=0,
        by_specialty=specialty is not None,
        searching=bool(term),
    )
    return Page([DoctorCard(*row) for row in rows], total)


def doctor_card_get(*, doctor_id: int, now: datetime | None = None) -> DoctorCard | None:
    """One bookable doctor with their next free time; None for anyone else."""
    now = now or timezone.now()
    rows = _DIRECTORY.rows(
        now=now,
        today=clinic_today(now),
        until=publish_until(now=now),
        specialty_id=0,
        q="",
        doctor_id=doctor_id,
        one=True,
    )
    return DoctorCard(*rows[0]) if rows else None


def first_free_day(*, now: datetime | None = None) -> date | None:
    """The clinic date of the first free bookable slot up to the publishing horizon."""
    now = now or timezone.now()
    start = (
        free_bookable_slots(now=now)
        .filter(start__lt=publish_until(now=now))
        .order_by("start", "id")
        .values_list("start", flat=True)
        .first()
    )
    return timefmt.clinic_today(start) if start else None


# Weekly hours and time off (GET schedules, GET time-off, the doctor's dashboard): each list
# compiled once per variant (a doctor's or everyone's), its select_related instances built
# as a queryset builds them (CompiledQuery as_models). Building the select_related read
# cost the ORM more than PostgreSQL spends on the few rows (bench/NOTES.md, issue 16).
def _rules(*, doctor_id: int, everyone: bool = False) -> QuerySet[WeeklyRule]:
    rules = WeeklyRule.objects.select_related("doctor", "service")
    if not everyone:
        rules = rules.filter(doctor_id=doctor_id)
    return rules.order_by("doctor_id", "start_time", "valid_from", "id")


def _time_offs(*, doctor_id: int, now: datetime, everyone: bool = False) -> QuerySet[TimeOff]:
    offs = TimeOff.objects.filter(end__gt=now).select_related("doctor")
    if not everyone:
        offs = offs.filter(doctor_id=doctor_id)
    return offs.order_by("start", "id")


_RULES = CompiledQuery(_rules, (), as_models=True, doctor_id=int)
_TIME_OFFS = CompiledQuery(_time_offs, (), as_models=True, doctor_id=int, now=datetime)


def schedule_list(*, doctor: User | None) -> list[WeeklyRule]:
    """The doctor's weekly hours in the order of the week's hours (None: every doctor's,
    for admins), each with its service and doctor: one statement."""
    return _RULES.rows(doctor_id=doctor.pk if doctor else 0, everyone=doctor is None)


def time_off_list(*, doctor: User | None, now: datetime | None = None) -> list[TimeOff]:
    """The doctor's time off that has not ended yet, soonest first (None: every doctor's),
    each with its doctor: one statement."""
    return _TIME_OFFS.rows(
        doctor_id=doctor.pk if doctor else 0, now=now or timezone.now(), everyone=doctor is None
    )


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
