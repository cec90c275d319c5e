"""Every appointmentOptions answer composed from the cached clinic days (scheduling/
availability_cache.py) is byte for byte the answer rendered straight from the database at
the same instant: dated, undated (the window) and by service, across several days, with a
first day cut at now, a last day cut at the window's end, a lapsed hold, a booking and a
licence that expires at midnight. Against a real Redis."""

from contextlib import contextmanager
from datetime import datetime, time, timedelta

import orjson
import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from bookings import services as booking_services
from bookings.models import BookingStatus
from doctors_portal.api.renderers import json_bytes
from scheduling import availability_cache, selectors, timefmt
from scheduling.serializers import availability_out
from tests.factories import (
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)
from tests.scheduling.helpers import commits
from tests.scheduling.test_availability_cache import cached  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached")]

URL = "/api/v1/appointmentOptions"


def direct(now, *, day=None, service_id=None) -> bytes:
    if day is None:
        items = selectors.availability_upcoming(now=now, service_id=service_id)
    else:
        items = selectors.availability_for_date(day=day, now=now, service_id=service_id)
    return json_bytes([availability_out(item) for item in items])


def composed(now, *, day=None, service_id=None) -> bytes:
    return availability_cache.availability_answer(day=day, now=now, service_id=service_id)


def shown(answer: bytes) -> set[int]:
    return {s["id"] for item in orjson.loads(answer) for s in item["slots"]}


@contextmanager
def another_process():
    """What runs inside sees none of this process's own days and answers (another worker
    shares only Redis with it); this process's come back after."""
    kept = [(memo, dict(memo)) for memo in (availability_cache._local, availability_cache._answers)]
    for memo, _ in kept:
        memo.clear()
    try:
        yield
    finally:
        for memo, items in kept:
            memo.clear()
            memo.update(items)


def forms(now, world) -> list[dict]:
    """The window and every day of `world`, each of every service and of each one."""
    days = [None, *world["days"](now)]
    return [{"day": d, "service_id": s} for d in days for s in [None, *world["services"]]]


def assert_every_answer_exact(now, world, *, num_queries=None, assert_num_queries=None):
    """Each form composed (in `num_queries` queries in all, if given) equals it rendered
    directly."""
    asked = forms(now, world)
    if num_queries is None:
        got = [composed(now, **form) for form in asked]
    else:
        with assert_num_queries(num_queries):
            got = [composed(now, **form) for form in asked]
    for form, answer in zip(asked, got, strict=True):
        assert answer == direct(now, **form), (now, form)


@pytest.fixture
def world():
    """From a clinic-local 10:00: slots today (one started, one starting in 20 s), on most
    days of the window (some with a seat taken, one held until 30 s from now), around the
    window's end (10 s before, 20 s after, 2 h after on the same day, the next day), three
    doctors (one whose licence ends today), three services (one with no slot), and one slot
    at a day's local midnight."""
    tz = timefmt.clinic_tz()
    today = timefmt.clinic_today(timezone.now()) + timedelta(days=1)
    t0 = datetime.combine(today, time(10, 0), tzinfo=tz)
    services = [ServiceFactory(name=n) for n in ("Teeth Cleaning", "Cavity Protection", "Empty")]
    doctors = [DoctorFactory(), DoctorFactory(), DoctorFactory()]
    expiring = doctors[2].doctor_profile
    expiring.license_expires_on = today
    expiring.save(update_fields=["license_expires_on"])

    def at(delta, doctor, service, **fields):
        start = t0 + delta
        fields.setdefault("capacity", 2)
        return SlotFactory(
            doctor=doctors[doctor],
            service=services[service],
            start=start,
            end=start + timedelta(minutes=30),
            **fields,
        )

    hour, end = timedelta(hours=1), timedelta(days=14)
    at(-2 * hour, 0, 0)
    at(timedelta(seconds=20), 1, 0)
    at(hour, 0, 0, seats_taken=1)
    at(3 * hour, 2, 0)
    at(5 * hour, 1, 1)
    for n in range(1, 14):
        at(timedelta(days=n, hours=-1), n % 3, n % 2, seats_taken=n % 2)
        at(timedelta(days=n, hours=2), (n + 1) % 3, 0)
    # At the very start of a day (its local midnight): listed for that date; the cut of a
    # day at its start keeps it (the storm of bench/bench.py found it dropped).
    at(timedelta(days=3, hours=-10), 1, 0)
    held = at(timedelta(days=2, hours=4), 0, 1, capacity=1, seats_taken=1)
    with time_machine.travel(t0, tick=False):
        BookingFactory(
            slot=held,
            status=BookingStatus.PENDING_PAYMENT,
            expires_at=t0 + timedelta(seconds=30),
        )
    booked = at(timedelta(days=5, hours=3), 1, 0, capacity=1)
    at(end - timedelta(seconds=10), 0, 0)
    at(end + timedelta(seconds=20), 1, 1)
    at(end + 2 * hour, 2, 0)
    at(end + timedelta(days=1), 0, 0)

    def days(now):
        first = timefmt.clinic_today(now)
        later = [first + timedelta(days=n) for n in (2, 3, 5)]
        return [first, *later, first + end]

    return {
        "t0": t0,
        "days": days,
        "services": [s.pk for s in services],
        "held": held,
        "booked": booked,
    }


@commits
def test_every_composed_answer_is_the_direct_render(world, django_assert_num_queries):
    t0 = world["t0"]
    with time_machine.travel(t0, tick=False) as clock:
        assert_every_answer_exact(t0, world)  # computed
        # 25 s later, all from the cache: a slot of the first day has started, one beyond
        # the window's end has come within it, and the hold has not lapsed yet.
        clock.shift(timedelta(seconds=25))
        now = timezone.now()
        assert_every_answer_exact(
            now, world, num_queries=0, assert_num_queries=django_assert_num_queries
        )
        # The hold lapses: only its day is computed again (its slots and holds; the services
        # are those of the days still true).
        clock.shift(timedelta(seconds=10))
        now = timezone.now()
        with django_assert_num_queries(2):
            composed(now)
        assert world["held"].pk in {
            slot["id"] for item in orjson.loads(composed(now)) for slot in item["slots"]
        }
        assert_every_answer_exact(now, world)
        # A booking on day 5 ends that day only; every form still equals the database's.
        booking_services.booking_create(patient=PatientFactory(), slot_id=world["booked"].pk)
        with django_assert_num_queries(2):
            composed(now)
        assert_every_answer_exact(now, world)


def test_a_licence_ending_at_midnight_leaves_every_answer(world):
    t0 = world["t0"]
    midnight = datetime.combine(t0.date() + timedelta(days=1), time(0), tzinfo=timefmt.clinic_tz())
    with time_machine.travel(midnight - timedelta(seconds=20), tick=False) as clock:
        assert_every_answer_exact(timezone.now(), world)
        clock.shift(timedelta(seconds=40))  # within MAX_AGE: only the expiry ends the days
        assert_every_answer_exact(timezone.now(), world)


def test_the_response_is_the_one_without_a_cache(world, api_client, settings):
    """Through the API, envelope and all: with Redis (cold, then cached) and without."""
    asks = [{}, {"service": world["services"][0]}]
    asks += [{"date": day.isoformat()} for day in world["days"](world["t0"])]
    with time_machine.travel(world["t0"] + timedelta(seconds=5), tick=False):
        with_cache = [[api_client.get(URL, p).content for p in asks] for _ in range(2)]
        dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
        with override_settings(CACHES={**settings.CACHES, "availability": dummy}):
            without = [api_client.get(URL, p).content for p in asks]
    assert with_cache[0] == with_cache[1] == without


@commits
def test_a_day_another_process_computed_is_fetched_not_computed(world, django_assert_num_queries):
    t0, booked = world["t0"], world["booked"]
    with time_machine.travel(t0, tick=False):
        composed(t0)  # every day of the window held in this process
        with another_process():  # books, and computes the booked day
            booking_services.booking_create(patient=PatientFactory(), slot_id=booked.pk)
            composed(t0)
        with django_assert_num_queries(0):  # back in the first, which holds the old day
            got = composed(t0)
        assert got == direct(t0)
        assert booked.pk not in shown(got)


# The composed answers this process keeps (availability_cache._composed): the same bytes
# only while the same entries are cut at the same places.


def test_a_second_read_of_days_still_true_is_the_answer_already_composed(
    world, django_assert_num_queries
):
    t0 = world["t0"]
    with time_machine.travel(t0, tick=False):
        first = composed(t0)
        with django_assert_num_queries(0):
            again = composed(t0)
        assert again is first  # not composed again
        assert again == direct(t0)
        assert composed(t0, service_id=world["services"][0]) == direct(
            t0, service_id=world["services"][0]
        )


@commits
def test_a_booking_committed_in_another_process_is_seen_by_the_answer_kept_here(world):
    t0, booked = world["t0"], world["booked"]
    with time_machine.travel(t0, tick=False):
        assert booked.pk in shown(composed(t0))
        with another_process():
            booking_services.booking_create(patient=PatientFactory(), slot_id=booked.pk)
        got = composed(t0)
        assert booked.pk not in shown(got)
        assert got == direct(t0)


def test_a_slot_that_starts_leaves_the_answer_kept_here(world, django_assert_num_queries):
    t0 = world["t0"]
    with time_machine.travel(t0, tick=False) as clock:
        before = shown(composed(t0))
        clock.shift(timedelta(seconds=21))  # the slot at t0 + 20 s has started
        now = timezone.now()
        with django_assert_num_queries(0):  # the same days, cut elsewhere
            got = composed(now)
        assert got == direct(now)
        assert len(before - shown(got)) == 1
        # and one 20 s beyond the window's end has come within it
        assert len(shown(got) - before) == 1


def test_a_hold_that_lapses_gives_its_seat_back_to_the_answer_kept_here(world):
    t0, held = world["t0"], world["held"]
    with time_machine.travel(t0, tick=False) as clock:
        assert held.pk not in shown(composed(t0))
        clock.shift(timedelta(seconds=31))  # the hold lapses at t0 + 30 s
        now = timezone.now()
        got = composed(now)
        assert held.pk in shown(got)
        assert got == direct(now)


@commits
def test_a_booking_made_while_its_day_is_computed_is_seen_by_the_next_read(world, monkeypatch):
    t0, booked = world["t0"], world["booked"]

    with time_machine.travel(t0, tick=False):
        composed(t0)
        availability_cache.availability_changed(days=[timefmt.clinic_today(booked.start)])
        real = selectors.free_slots_between

        def racing(*args, **kwargs):
            rows = real(*args, **kwargs)  # the day as it was before the booking
            monkeypatch.setattr(selectors, "free_slots_between", real)
            booking_services.booking_create(patient=PatientFactory(), slot_id=booked.pk)
            return rows

        monkeypatch.setattr(selectors, "free_slots_between", racing)
        assert booked.pk in shown(composed(t0))  # it began before the booking
        # Stored under the versions read before computing, which the booking replaced.
        assert booked.pk not in shown(composed(t0))
        assert composed(t0) == direct(t0)
