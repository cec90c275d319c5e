"""The availability cache ends only the answers a write touches (scheduling/
availability_cache.py): a change on one clinic day ends that day's answers, the upcoming
window's and the by-service answers covering the day, and leaves every other day's cached;
a change whose days are unknown ends everything. Against a real Redis."""

import threading
import time
from datetime import date, timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from accounts import services as account_services
from bookings import services as booking_services
from bookings.models import Booking
from scheduling import schedules
from scheduling import services as slot_services
from tests.conftest import bearer_client
from tests.factories import PatientFactory, ServiceFactory
from tests.scheduling.helpers import clinic_day, commits, post_slots, slot_at, wordy
from tests.scheduling.test_availability_cache import cached, shown_slot_ids  # noqa: F401
from tests.scheduling.test_availability_compose import composed, direct

# The availability alias on Redis, whatever this run's settings say.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached")]

URL = "/api/v1/appointmentOptions"


@pytest.fixture
def two_days(doctor):
    """Days A and B, each with two one-seat slots of one service."""
    service = ServiceFactory(name="Teeth Cleaning")
    a, b = clinic_day(2), clinic_day(3)
    slots = {
        day: [
            slot_at(day, f"{9 + i:02d}:00-{9 + i:02d}:30", doctor=doctor, service=service)
            for i in range(2)
        ]
        for day in (a, b)
    }
    return a, b, service, slots


def asks(day, service):
    """Every cached answer covering `day`: the date, the date of one service, the upcoming
    window, the upcoming window of one service."""
    return [
        {"date": day.isoformat()},
        {"date": day.isoformat(), "service": service.pk},
        {},
        {"service": service.pk},
    ]


def shown(client, params) -> set[int]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return shown_slot_ids(response.json()["data"])


@commits
def test_a_booking_on_one_day_leaves_the_other_days_answers_cached(
    api_client, two_days, django_assert_num_queries
):
    a, b, service, slots = two_days
    for params in [*asks(a, service), *asks(b, service)[:2]]:
        shown(api_client, params)
    taken = slots[a][0]
    booking_services.booking_create(patient=PatientFactory(), slot_id=taken.pk)
    # Day B's answers stay in the cache: served without a query (but the service's own
    # lookup, which any request naming a service makes).
    for params, queries in zip(asks(b, service)[:2], (0, 1), strict=True):
        with django_assert_num_queries(queries):
            assert shown(api_client, params) == {s.pk for s in slots[b]}
    # The first answer covering A computes day A again (its slots and its holds; the
    # services are those of the window's other days, still cached); every other answer
    # covering A is composed from that one day.
    with django_assert_num_queries(2):
        assert taken.pk not in shown(api_client, asks(a, service)[2])
    for params, queries in zip(asks(a, service), (0, 1, 0, 1), strict=True):
        with django_assert_num_queries(queries):
            assert taken.pk not in shown(api_client, params)


@commits
def test_a_cancel_gives_the_seat_back_in_every_answer_covering_its_day(api_client, two_days):
    a, _b, service, slots = two_days
    patient = PatientFactory()
    booking = booking_services.booking_create(patient=patient, slot_id=slots[a][1].pk)
    for params in asks(a, service):
        assert slots[a][1].pk not in shown(api_client, params)
    booking_services.booking_cancel(booking_id=booking.pk, by=patient)
    for params in asks(a, service):
        assert slots[a][1].pk in shown(api_client, params)


def versions(*days) -> list:
    return [caches["availability"].get(f"version:{day.isoformat()}") for day in days]


@commits
def test_a_reschedule_ends_both_days_and_no_other(api_client, doctor, two_days):
    a, b, service, slots = two_days
    c = clinic_day(4)
    slot_at(c, "09:00-09:30", doctor=doctor, service=service)
    for day in (a, b, c):
        shown(api_client, {"date": day.isoformat()})
    before = versions(a, b, c)
    assert None not in before
    booking = booking_services.booking_create(patient=PatientFactory(), slot_id=slots[a][0].pk)
    booking_services.booking_reschedule(booking_id=booking.pk, slot_id=slots[b][0].pk, by=doctor)
    after = versions(a, b, c)
    assert after[0] != before[0] and after[1] != before[1]
    assert after[2] == before[2]
    assert slots[a][0].pk in shown(api_client, {"date": a.isoformat()})
    assert slots[b][0].pk not in shown(api_client, {"date": b.isoformat()})


@commits
def test_slot_writes_end_the_days_of_their_slots(api_client, client_for, doctor, two_days):
    a, b, service, slots = two_days
    for day in (a, b):
        shown(api_client, {"date": day.isoformat()})
    # Published on A: A's answer shows it, B's version stays.
    kept = versions(b)
    entry = {"date": wordy(a), "slot": ["14:00-14:30"]}
    assert post_slots(client_for(doctor), doctor, entry, service=service.name).status_code == 201
    assert len(shown(api_client, {"date": a.isoformat()})) == 3
    assert versions(b) == kept
    # Withdrawn on A (the doctor's time off over it): gone from A, B untouched.
    day_start = slots[a][0].start - timedelta(hours=9)
    schedules.time_off_create(
        doctor=doctor, by=doctor, start=day_start, end=day_start + timedelta(days=1)
    )
    assert shown(api_client, {"date": a.isoformat()}) == set()
    assert versions(b) == kept
    # Cancelled on B by its doctor: B's answer drops it.
    slot_services.slot_update(slot_id=slots[b][1].pk, by=doctor, status="cancelled")
    assert shown(api_client, {"date": b.isoformat()}) == {slots[b][0].pk}


@commits
def test_a_change_whose_days_are_unknown_ends_every_answer(
    api_client, doctor, two_days, django_assert_num_queries
):
    a, b, _service, _slots = two_days
    for day in (a, b):
        shown(api_client, {"date": day.isoformat()})
    account_services.user_update(actor=doctor, user=doctor, name="Dr. Renamed")
    for day in (a, b):
        with django_assert_num_queries(3):
            shown(api_client, {"date": day.isoformat()})


# Exactness under concurrency: no answer ever shows a seat that a committed booking took.

DAYS = 4
SLOTS_PER_DAY = 4
BOOKERS = 4
READERS = 4


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_no_read_after_a_booking_commits_shows_its_seat(doctor):
    service = ServiceFactory(name="Teeth Cleaning")
    days = [clinic_day(1 + n) for n in range(DAYS)]
    slots = [
        slot_at(day, f"{9 + i:02d}:00-{9 + i:02d}:30", doctor=doctor, service=service)
        for day in days
        for i in range(SLOTS_PER_DAY)
    ]  # one seat each: every booking takes the slot's last seat
    asked = [{"date": day.isoformat()} for day in days]
    asked += [{"date": day.isoformat(), "service": service.pk} for day in days]
    asked += [{}, {"service": service.pk}]
    # Bookers take the slots day after day, each on a fresh patient's account.
    plans = [slots[i::BOOKERS] for i in range(BOOKERS)]
    clients = [[bearer_client(PatientFactory()) for _ in plan] for plan in plans]
    committed: dict[int, float] = {}  # slot id -> when its booking's answer came back
    reads: list[tuple[float, dict, set[int]]] = []
    lock = threading.Lock()
    booking_done = threading.Event()
    start = threading.Barrier(BOOKERS + READERS)

    def book(plan, patients):
        try:
            start.wait(timeout=30)
            for slot, client in zip(plan, patients, strict=True):
                response = client.post("/api/v1/bookings", {"slotId": slot.pk}, format="json")
                assert response.status_code == 201, response.content
                with lock:
                    committed[slot.pk] = time.monotonic()
        finally:
            connection.close()

    def read(offset):
        from rest_framework.test import APIClient

        client = APIClient()
        try:
            start.wait(timeout=30)
            n, last_pass = offset, None
            # Until the bookers are done, then one more pass over every answer.
            while last_pass is None or n < last_pass:
                if last_pass is None and booking_done.is_set():
                    last_pass = n + len(asked)
                params = asked[n % len(asked)]
                began = time.monotonic()
                response = client.get(URL, params)
                assert response.status_code == 200
                with lock:
                    reads.append((began, params, shown_slot_ids(response.json()["data"])))
                n += 1
        finally:
            connection.close()

    bookers = [
        threading.Thread(target=book, args=(plan, patients))
        for plan, patients in zip(plans, clients, strict=True)
    ]
    readers = [threading.Thread(target=read, args=(i * 3,)) for i in range(READERS)]
    for thread in [*bookers, *readers]:
        thread.start()
    for thread in bookers:
        thread.join(timeout=120)
    booking_done.set()
    for thread in readers:
        thread.join(timeout=120)
    assert len(committed) == len(slots)
    assert Booking.objects.count() == len(slots)
    stale = [
        (params, slot_id)
        for began, params, ids in reads
        for slot_id, at in committed.items()
        if began > at and slot_id in ids
    ]
    after_some_booking = [r for r in reads if r[0] > min(committed.values())]
    print(f"{len(reads)} reads, {len(after_some_booking)} after the first booking committed")
    assert len(after_some_booking) > len(asked)  # the race was run, not only its ends
    assert stale == []
    # What the race left in the cache composes every answer as the database renders it.
    now = timezone.now()
    for params in asked:
        form = {"day": date.fromisoformat(params["date"]) if "date" in params else None}
        form["service_id"] = params.get("service")
        assert composed(now, **form) == direct(now, **form), params
