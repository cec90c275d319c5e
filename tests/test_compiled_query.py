"""CompiledQuery (doctors_portal.db.compiled): the hot reads compiled once give exactly
what the ORM gives for the same queryset, on SQLite and on PostgreSQL."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import Role, User
from bookings import selectors as booking_selectors
from bookings.models import Booking, BookingStatus
from bookings.shapes import BOOKING_ROW
from doctors_portal.db.compiled import CompiledQuery, CompileError
from doctors_portal.errors import NotFoundAt
from scheduling import selectors as scheduling_selectors
from scheduling import timefmt
from tests.factories import (
    AdminFactory,
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bookings_world():
    """Two doctors, three patients, bookings in every status over three days."""
    service = ServiceFactory(name="Teeth Cleaning")
    doctors = [DoctorFactory(profile__specialty=service) for _ in range(2)]
    patients = [PatientFactory() for _ in range(3)]
    now = timezone.now()
    statuses = [
        BookingStatus.CONFIRMED,
        BookingStatus.PENDING_PAYMENT,
        BookingStatus.CANCELLED,
        BookingStatus.EXPIRED,
    ]
    for i in range(24):
        slot = SlotFactory(
            doctor=doctors[i % 2],
            service=service,
            start=now.replace(microsecond=0) + timedelta(days=1 + i % 3, hours=i),
            capacity=3,
        )
        BookingFactory(
            patient=patients[i % 3],
            slot=slot,
            status=statuses[i % 4],
            # Every other pending hold has lapsed: shown and filtered as expired.
            expires_at=now + timedelta(minutes=-5 if i % 8 == 1 else 15),
            created_at=now - timedelta(minutes=i),
        )
    return {"doctors": doctors, "patients": patients, "service": service, "now": now}


def orm_page(queryset, fields, limit, offset):
    return list(queryset.values(*fields)[offset : offset + limit]), queryset.count()


@pytest.mark.parametrize("limit,offset", [(10, 0), (5, 5), (100, 0), (10, 20), (10, 40)])
def test_patient_pages_equal_the_orms(bookings_world, limit, offset):
    for patient in bookings_world["patients"]:
        expected = orm_page(
            booking_selectors.booking_list_for_patient(patient=patient),
            BOOKING_ROW.columns,
            limit,
            offset,
        )
        got = booking_selectors.booking_page_for_patient(
            patient=patient, limit=limit, offset=offset
        )
        assert got == expected
        assert got.rows == expected[0] and got.total == expected[1]


@pytest.mark.parametrize("status", [None, *BookingStatus.values])
@pytest.mark.parametrize("by_day", [False, True])
def test_doctor_pages_equal_the_orms_for_every_filter(bookings_world, status, by_day):
    now = bookings_world["now"]
    day = timefmt.clinic_today(now + timedelta(days=2)) if by_day else None
    for doctor in bookings_world["doctors"]:
        expected = orm_page(
            booking_selectors.booking_list_for_doctor(
                doctor=doctor, day=day, status=status, now=now
            ),
            BOOKING_ROW.columns,
            5,
            0,
        )
        got = booking_selectors.booking_page_for_doctor(
            doctor=doctor, day=day, status=status, now=now, limit=5
        )
        assert got == expected


def test_booking_row_is_the_orms_row_and_scoped_to_the_viewer(bookings_world):
    patient, other = bookings_world["patients"][:2]
    admin = AdminFactory()
    for booking in Booking.objects.all():
        expected = (
            booking_selectors.with_patient_no_shows(Booking.objects.filter(pk=booking.pk))
            .values(*BOOKING_ROW.columns)
            .get()
        )
        assert booking_selectors.booking_row_get(user=admin, booking_id=booking.pk) == expected
        owner = booking_selectors.booking_row_get(user=booking.patient, booking_id=booking.pk)
        assert owner == expected
        assert booking_selectors.booking_row_get(user=booking.doctor, booking_id=booking.pk)
        stranger = other if booking.patient_id == patient.pk else patient
        assert booking_selectors.booking_row_get(user=stranger, booking_id=booking.pk) is None


@pytest.mark.parametrize("booking_id", [2**63, -(2**63) - 1, 10**30])
def test_an_id_beyond_64_bits_matches_nothing_instead_of_failing(bookings_world, booking_id):
    admin = AdminFactory()
    assert booking_selectors.booking_row_get(user=admin, booking_id=booking_id) is None
    assert booking_selectors.booking_page_for_patient(patient=User(pk=booking_id), limit=10) == (
        [],
        0,
    )


def test_an_id_beyond_64_bits_in_the_url_is_404(bookings_world, client_for):
    response = client_for(AdminFactory()).get(f"/api/v1/booking/{10**30}")
    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.parametrize("role", [None, *Role.values])
@pytest.mark.parametrize("ordering", [None, "name", "-createdAt", "email"])
@pytest.mark.parametrize("search", [None, "example", "DOC", "Zoë", "50%_"])
def test_user_pages_equal_the_orms(role, ordering, search):
    service = ServiceFactory()
    for i in range(7):
        DoctorFactory(profile__specialty=service) if i % 2 else PatientFactory()
    PatientFactory(name="ZOË 50%_ off")
    AdminFactory()
    arguments = {"user_type": role, "ordering": ordering, "search_term": search}
    expected = orm_page(
        account_selectors.user_list(**arguments), account_selectors.USER_VALUES, 4, 1
    )
    assert account_selectors.user_page(limit=4, offset=1, **arguments) == expected
    if role is None and search in ("Zoë", "50%_"):
        assert expected[1] == 1  # folded case; % and _ as themselves


def test_availability_rows_equal_the_orms(bookings_world):
    now = bookings_world["now"]
    day = timefmt.clinic_today(now + timedelta(days=2))
    start, end = timefmt.day_bounds(day)
    services = list(scheduling_selectors.service_list())
    assert [s.pk for s in scheduling_selectors._active_services()] == [s.pk for s in services]
    expected = list(
        scheduling_selectors._free_slot_rows(
            start_from=max(start, now),
            day_end=end,
            now=now,
            service_ids=tuple(s.pk for s in services),
        ).values_list(*scheduling_selectors._FREE_SLOT_FIELDS)
    )
    got = scheduling_selectors._FREE_SLOT_ROWS.rows(
        start_from=max(start, now),
        day_end=end,
        now=now,
        service_ids=tuple(s.pk for s in services),
    )
    assert got == expected
    assert len(got) > 0


def test_no_active_service_is_no_rows_and_no_error(bookings_world):
    got = scheduling_selectors._FREE_SLOT_ROWS.rows(
        start_from=bookings_world["now"],
        day_end=bookings_world["now"] + timedelta(days=1),
        now=bookings_world["now"],
        service_ids=(),
    )
    assert got == []


def test_compiled_once_then_only_bound(bookings_world, django_assert_num_queries):
    patient = bookings_world["patients"][0]
    query = CompiledQuery(
        lambda *, patient_id: Booking.objects.filter(patient_id=patient_id).order_by("id"),
        ["id"],
        as_tuples=True,
        patient_id=int,
    )
    first = query.rows(patient_id=patient.pk)
    with django_assert_num_queries(1):
        again = query.rows(patient_id=patient.pk)
    assert (
        first
        == again
        == list(Booking.objects.filter(patient=patient).order_by("id").values_list("id"))
    )
    other = bookings_world["patients"][1]
    assert query.rows(patient_id=other.pk) == list(
        Booking.objects.filter(patient=other).order_by("id").values_list("id")
    )
    assert len(query._cache) == 1


def test_a_value_the_orm_rewrites_is_refused_not_compiled_in():
    by_email = CompiledQuery(
        lambda *, email: User.objects.filter(email__icontains=email), ["id"], email=str
    )
    with pytest.raises(CompileError):
        by_email.rows(email="someone@example.com")


def test_a_value_derived_from_a_parameter_is_refused():
    shifted = CompiledQuery(
        lambda *, since: Booking.objects.filter(created_at__gte=since + timedelta(days=1)),
        ["id"],
        since=datetime,
    )
    with pytest.raises(CompileError):
        shifted.rows(since=timezone.now())


def test_a_sliced_builder_is_refused():
    sliced = CompiledQuery(lambda: Booking.objects.order_by("id")[:5], ["id"])
    with pytest.raises(CompileError):
        sliced.rows()


def test_parameters_are_ints_strings_datetimes_or_dates():
    with pytest.raises(TypeError):
        CompiledQuery(lambda *, share: Booking.objects.all(), ["id"], share=float)


def test_a_date_parameter_is_bound_not_compiled_in(bookings_world, django_assert_num_queries):
    # A clinic's "today" (the licence rule of a bookable doctor) is a date: compiled once,
    # each day then only bound.
    query = CompiledQuery(
        lambda *, day: Booking.objects.filter(created_at__date__gte=day).order_by("id"),
        ["id"],
        as_tuples=True,
        day=date,
    )
    today = timezone.now().date()
    assert query.rows(day=today - timedelta(days=1)) == list(
        Booking.objects.order_by("id").values_list("id")
    )
    with django_assert_num_queries(1):
        assert query.rows(day=today + timedelta(days=1)) == []
    assert len(query._cache) == 1


def test_count_binds_its_own_parameters(bookings_world):
    # The free-slot read binds `now` in its SELECT (the free seats) as well as in its
    # WHERE; its count has only the WHERE's.
    now = bookings_world["now"]
    day = timefmt.clinic_today(now + timedelta(days=2))
    start, end = timefmt.day_bounds(day)
    arguments = {
        "start_from": max(start, now),
        "day_end": end,
        "now": now,
        "service_ids": tuple(s.pk for s in scheduling_selectors.service_list()),
    }
    rows = scheduling_selectors._FREE_SLOT_ROWS.rows(**arguments)
    assert scheduling_selectors._FREE_SLOT_ROWS.count(**arguments) == len(rows) > 0


def test_constants_are_written_into_postgresql_statements():
    from django.db import connection

    account_selectors.user_page(user_type="Doctor", limit=5)
    filters = account_selectors.user_list_filters(user_type="Doctor", ordering=None)
    del filters["search"]  # the one parameter
    constants = tuple(sorted(filters.items()))
    compiled = next(
        c
        for (alias, vendor, variant, paged), c in account_selectors._USER_ROWS._cache.items()
        if vendor == connection.vendor and variant == constants and paged
    )
    if connection.vendor == "postgresql":
        # Seen by the planner even in a prepared statement's generic plan.
        assert "'Doctor'" in compiled.sql
        assert compiled.slots == []
    else:
        assert (False, "Doctor") in compiled.slots


class _ReadsGoTo:
    """A database router sending every read to one alias, and noting what it was asked."""

    def __init__(self, alias):
        self.alias = alias
        self.asked = []

    def db_for_read(self, model, **hints):
        self.asked.append(model)
        return self.alias


def test_compiled_reads_take_their_database_from_the_router(bookings_world, settings):
    from django.db import router
    from django.utils.connection import ConnectionDoesNotExist

    patient = bookings_world["patients"][0]
    users = User.objects.count()
    routed = _ReadsGoTo("default")
    settings.DATABASE_ROUTERS = [routed]
    assert router.routers == [routed]
    page = booking_selectors.booking_page_for_patient(patient=patient, limit=3)
    assert page.total == 8 and len(page.rows) == 3
    assert account_selectors.user_page(limit=2).total == users
    assert routed.asked == [Booking, User]
    # A replica the router names is the one asked: here one that does not exist.
    settings.DATABASE_ROUTERS = [_ReadsGoTo("replica")]
    with pytest.raises(ConnectionDoesNotExist):
        booking_selectors.booking_row_get(user=patient, booking_id=Booking.objects.first().pk)


def test_a_patients_standing_compiled_matches_the_orm_in_every_state():
    """bookings.seats._STANDING, the booking write's one read: every flag, compiled once,
    as the ORM's own statement gives it."""
    from bookings import seats
    from bookings.models import WaitlistEntry, WaitlistStatus
    from scheduling import timefmt
    from tests.factories import BookingFactory, PatientFactory, SlotFactory

    now = timezone.now()
    slot = SlotFactory(start=now + timedelta(days=2), end=now + timedelta(days=2, hours=1))
    day = timefmt.clinic_today(slot.start)
    patient, other, waiting = PatientFactory(), PatientFactory(), PatientFactory()
    fields = seats._STANDING.fields

    def both(who):
        arguments = dict(
            patient_id=who.pk, slot_id=slot.pk, doctor_id=slot.doctor_id, day=day, now=now
        )
        (compiled,) = seats._STANDING.rows(**arguments)
        (orm,) = seats._standing(**arguments).values_list(*fields)
        assert compiled == orm
        return dict(zip(fields, compiled, strict=True))

    assert both(patient) == dict.fromkeys(fields, False) | {
        "holds": 0,
        "earlier_expiry": None,
        "no_shows": 0,
    }
    hold = BookingFactory(patient=patient, slot=slot, expires_at=now + timedelta(minutes=9))
    BookingFactory(patient=other, slot=slot, expires_at=now - timedelta(minutes=1))
    WaitlistEntry.objects.create(
        patient=waiting, slot=slot, doctor=slot.doctor, day=day, status=WaitlistStatus.WAITING
    )
    WaitlistEntry.objects.create(
        patient=other,
        slot=None,
        doctor=slot.doctor,
        day=day,
        status=WaitlistStatus.OFFERED,
        offer_slot=slot,
        offered_at=now,
        offer_expires_at=now + timedelta(minutes=5),
    )
    mine = both(patient)
    assert mine["booked"] and mine["holds"] == 1 and mine["earlier_expiry"] == hold.expires_at
    assert mine["lapsed"] and mine["waiting"] and not mine["offer"] and not mine["in_line"]
    theirs = both(other)
    assert theirs["offer"] and theirs["in_line"] and not theirs["booked"]
    assert theirs["holds"] == 0  # their hold lapsed
    assert both(waiting)["in_line"]
    hold.status = BookingStatus.CONFIRMED
    hold.save(update_fields=["status"])
    assert both(patient)["holds"] == 0 and both(patient)["booked"]
    for _ in range(2):
        BookingFactory(patient=patient, status=BookingStatus.NO_SHOW)
    BookingFactory(patient=patient, status=BookingStatus.CANCELLED)
    assert both(patient)["no_shows"] == 2 and both(other)["no_shows"] == 0


def test_the_patients_lock_compiled_matches_the_orm(django_assert_num_queries):
    """bookings.seats.patient_lock: one statement, the ORM's row; erased accounts are not
    live; the name, email and phone on the instance are the row's."""
    from django.db import transaction

    from bookings import seats

    patient = PatientFactory(phone="+8801700000001")
    stale = User.objects.get(pk=patient.pk)
    User.objects.filter(pk=patient.pk).update(name="Renamed", phone="+8801700000002")
    fields = seats._PATIENT_LOCK.fields
    with transaction.atomic():
        with django_assert_num_queries(1):
            assert seats.patient_lock(patient=stale)
        orm = User.objects.select_for_update().filter(pk=patient.pk).values_list(*fields).get()
        assert seats._PATIENT_LOCK.rows(patient_id=patient.pk) == [orm]
        assert (stale.name, stale.phone) == ("Renamed", "+8801700000002")
        assert not seats.patient_lock(patient=User(pk=2**40))
        User.objects.filter(pk=patient.pk).update(deleted_at=timezone.now())
        assert not seats.patient_lock(patient=stale)


@pytest.mark.parametrize("profiled", [True, False])
def test_the_slots_lock_compiled_matches_the_orm(django_assert_num_queries, profiled):
    """scheduling.locks.slot_lock: one statement, the slot with its service, doctor and
    doctor's profile as the ORM's select_related builds them, nothing read later."""
    from django.db import transaction

    from accounts.models import DoctorProfile
    from scheduling.locks import slot_lock
    from scheduling.models import Slot

    slot = SlotFactory(start=timezone.now() + timedelta(days=2), capacity=3)
    if not profiled:
        DoctorProfile.objects.filter(user_id=slot.doctor_id).delete()

    def fields(obj):
        return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}

    with transaction.atomic():
        orm = (
            Slot.objects.select_for_update(of=("self",))
            .select_related("service", "doctor__doctor_profile")
            .get(pk=slot.pk)
        )
        with django_assert_num_queries(1):
            locked = slot_lock(slot_id=slot.pk)
            assert fields(locked) == fields(orm)
            assert fields(locked.service) == fields(orm.service)
            assert fields(locked.doctor) == fields(orm.doctor)
            profile = getattr(locked.doctor, "doctor_profile", None)
            assert (profile is None) is (not profiled)
            if profiled:
                assert fields(profile) == fields(orm.doctor.doctor_profile)
                assert profile.user is locked.doctor
        assert not locked._state.adding and locked._state.db == orm._state.db
        with pytest.raises(NotFoundAt):
            slot_lock(slot_id=2**40)
        with pytest.raises(NotFoundAt):
            slot_lock(slot_id=2**70)  # out of the id range: no such slot, as the ORM says


@pytest.mark.django_db(transaction=True)
def test_a_compiled_lock_outside_a_transaction_is_refused():
    """As the ORM's select_for_update: a lock outside a transaction would end at once."""
    from django.db import transaction

    from bookings import seats
    from scheduling.locks import slot_lock

    slot = SlotFactory(start=timezone.now() + timedelta(days=2))
    with transaction.atomic():
        assert slot_lock(slot_id=slot.pk).pk == slot.pk  # compiled here, if not before
    with pytest.raises(transaction.TransactionManagementError):
        slot_lock(slot_id=slot.pk)
    with pytest.raises(transaction.TransactionManagementError):
        seats.patient_lock(patient=PatientFactory())


def _weekly_hours_world():
    """Two doctors with weekly hours and time off (ended, running, ahead)."""
    from datetime import time

    from scheduling.models import TimeOff, WeeklyRule

    now = timezone.now()
    today = timefmt.clinic_today(now)
    services = [ServiceFactory(name="Check-up"), ServiceFactory(name="X-ray")]
    doctors = [DoctorFactory(name="Dr. Nadia Karim"), DoctorFactory(name="Omar Faruk")]
    for i, (doctor, svc) in enumerate([(d, s) for d in doctors for s in services]):
        WeeklyRule.objects.create(
            doctor=doctor,
            service=svc,
            weekdays="mon,wed" if i % 2 else "tue",
            start_time=time(8 + 2 * (3 - i)),
            end_time=time(9 + 2 * (3 - i)),
            slot_minutes=15 + i,
            capacity=1 + i,
            valid_from=today,
            valid_until=today + timedelta(days=30) if i % 2 else None,
            generated_until=today if i else None,
        )
        for days in (-3, 0, 5):
            TimeOff.objects.create(
                doctor=doctor,
                start=now + timedelta(days=days - 1, hours=i),
                end=now + timedelta(days=days, hours=1),
                reason=f"off {i} {days}",
            )
    return doctors, now


def shown_of(obj, name, attrs):
    related = getattr(obj, name)
    return [(f"{name}.{attr}", getattr(related, attr)) for attr in attrs]


def _as_dicts(objects, related: dict) -> list[dict]:
    out = []
    for obj in objects:
        row = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
        for name, attrs in related.items():
            row.update(shown_of(obj, name, attrs))
        out.append(row)
    return out


def test_weekly_hours_and_time_off_compiled_equal_the_orms_select_related_reads():
    """scheduling.selectors._RULES and _TIME_OFFS (GET schedules, GET time-off, the
    dashboard): the same rules and time off, in the same order, with the doctor's email and
    name and the rule's whole service, as the select_related reads they replaced."""
    from scheduling.models import TimeOff, WeeklyRule

    doctors, now = _weekly_hours_world()
    service_fields = [f.attname for f in scheduling_selectors.Service._meta.concrete_fields]
    rule_related = {"doctor": ("pk", "email", "name"), "service": service_fields}
    off_related = {"doctor": ("pk", "email", "name")}
    for doctor in [*doctors, None]:
        rules = WeeklyRule.objects.select_related("doctor", "service")
        offs = TimeOff.objects.filter(end__gt=now).select_related("doctor")
        if doctor is not None:
            rules, offs = rules.filter(doctor=doctor), offs.filter(doctor=doctor)
        expected_rules = rules.order_by("doctor_id", "start_time", "valid_from", "id")
        got_rules = scheduling_selectors.schedule_list(doctor=doctor)
        assert _as_dicts(got_rules, rule_related) == _as_dicts(expected_rules, rule_related)
        assert [r.weekday_list for r in got_rules] == [r.weekday_list for r in expected_rules]
        got_offs = scheduling_selectors.time_off_list(doctor=doctor, now=now)
        expected_offs = offs.order_by("start", "id")
        assert _as_dicts(got_offs, off_related) == _as_dicts(expected_offs, off_related)
        assert len(got_rules) == (2 if doctor else 4) and len(got_offs) == (4 if doctor else 8)


def test_a_service_by_id_compiled_is_the_orms():
    """scheduling.selectors.service_find_active by id (?specialty=, ?service=)."""
    active, inactive = ServiceFactory(name="Dental"), ServiceFactory(name="Old", is_active=False)
    found = scheduling_selectors.service_find_active(ref=str(active.pk))
    expected = scheduling_selectors.Service.objects.get(pk=active.pk)
    fields = [f.attname for f in expected._meta.concrete_fields]
    assert [getattr(found, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert found == expected and found._state.db == "default" and not found._state.adding
    assert scheduling_selectors.service_find_active(ref=str(inactive.pk)) is None
    assert scheduling_selectors.service_find_active(ref="9" * 18) is None
    assert scheduling_selectors.service_find_active(ref="dental") == expected


def test_waitlist_rows_compiled_equal_the_orms_in_every_state():
    """bookings.selectors._WAITLIST_ROWS (GET waitlist, one entry after a write): waiting
    by slot and by day with places in line, offered, left, someone else's unseen."""
    from bookings.models import WaitlistEntry, WaitlistStatus

    now = timezone.now()
    service = ServiceFactory(name="Consultation")
    slots = [
        SlotFactory(service=service, start=now + timedelta(days=2, hours=h), capacity=1)
        for h in range(3)
    ]
    patients = [PatientFactory() for _ in range(3)]
    day = timefmt.clinic_today(slots[0].start)
    for i, patient in enumerate(patients):
        for j, slot in enumerate(slots):
            WaitlistEntry.objects.create(
                patient=patient,
                slot=slot if j < 2 else None,
                doctor=slot.doctor,
                day=day,
                created_at=now + timedelta(seconds=i - j),
                status=WaitlistStatus.LEFT if (i, j) == (1, 0) else WaitlistStatus.WAITING,
            )
    WaitlistEntry.objects.create(
        patient=patients[0],
        doctor=slots[0].doctor,
        day=day,
        status=WaitlistStatus.OFFERED,
        offer_slot=slots[0],
        offered_at=now,
        offer_expires_at=now + timedelta(minutes=5),
    )
    fields = booking_selectors._WAITLIST_FIELDS
    places = set()
    for patient in patients:
        orm = booking_selectors._waitlist_entries(patient_id=patient.pk, entry_id=0)
        expected = list(orm.values(*fields))
        assert booking_selectors.waitlist_rows(user=patient) == expected
        places |= {row["place"] for row in expected}
        for row in expected:
            (one,) = booking_selectors.waitlist_rows(user=patient, entry_id=row["id"])
            assert one == row
        theirs = WaitlistEntry.objects.exclude(patient=patient).first()
        assert booking_selectors.waitlist_rows(user=patient, entry_id=theirs.pk) == []
    assert places == {None, 1, 2, 3}  # left or offered; first, second, third in line
