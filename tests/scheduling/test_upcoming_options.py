"""appointmentOptions without a date (how the reference client asks): every service with its
free slots from now to BOOKING_HORIZON_DAYS ahead, computed and cached alike."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bookings.models import BookingStatus
from scheduling import availability_cache, timefmt
from tests.factories import BookingFactory, DoctorFactory, ServiceFactory, SlotFactory
from tests.scheduling.helpers import commits
from tests.scheduling.test_availability_cache import cached, shown_slot_ids  # noqa: F401

pytestmark = pytest.mark.django_db


def upcoming(client) -> dict:
    response = client.get("/api/v1/appointmentOptions")
    assert response.status_code == 200, response.json()
    return response.json()


def slot_in(delta: timedelta, **fields):
    start = timezone.now() + delta
    return SlotFactory(start=start, end=start + timedelta(minutes=30), **fields)


@pytest.fixture
def week(doctor):
    """Free slots spread over the window, and some that must not show."""
    service = ServiceFactory(name="Teeth Cleaning")
    other = ServiceFactory(name="Oral Surgery")
    shown = [
        slot_in(timedelta(hours=2), doctor=doctor, service=service, capacity=2),
        slot_in(timedelta(days=3), doctor=doctor, service=service),
        slot_in(timedelta(days=13, hours=23), doctor=doctor, service=service),
    ]
    full = slot_in(timedelta(days=4), doctor=doctor, service=service, seats_taken=1)
    BookingFactory(slot=full, status=BookingStatus.CONFIRMED)
    hidden = [
        full,
        slot_in(timedelta(days=14, hours=1), doctor=doctor, service=service),  # beyond
        slot_in(-timedelta(hours=1), doctor=doctor, service=service),  # started
        slot_in(timedelta(days=2), doctor=DoctorFactory(profile__verified=False), service=service),
    ]
    return {"service": service, "other": other, "shown": shown, "hidden": hidden}


def test_without_a_date_every_free_slot_of_the_window_shows(api_client, doctor, week):
    body = upcoming(api_client)
    data = {item["name"]: item for item in body["data"]}
    item = data["Teeth Cleaning"]
    assert [s["id"] for s in item["slots"]] == [s.pk for s in week["shown"]]
    assert item["availableSpaces"] == 4  # 2 + 1 + 1
    assert item["doctors"] == [
        {"id": doctor.pk, "_id": doctor.pk, "name": doctor.name, "docEmail": doctor.email}
    ]
    # Every slot carries its own date, so the client can tell the days apart.
    assert item["slots"][1]["date"] == timefmt.format_date(week["shown"][1].start)
    assert data["Oral Surgery"]["slots"] == [] and data["Oral Surgery"]["availableSpaces"] == 0
    assert "date" not in body
    start, until = body["from"], body["until"]
    assert timefmt.parse_date(until[:10]) == timefmt.clinic_today(
        timezone.now() + timedelta(days=14)
    )
    assert start < until


def test_the_window_is_booking_horizon_days(settings, api_client, week):
    settings.BOOKING_HORIZON_DAYS = 2
    shown = shown_slot_ids(upcoming(api_client)["data"])
    assert shown == {week["shown"][0].pk}


def test_the_dated_form_is_unchanged(api_client, week):
    day = timefmt.clinic_today(week["shown"][1].start)
    response = api_client.get(f"/api/v1/appointmentOptions?date={day.isoformat()}")
    assert response.status_code == 200
    assert shown_slot_ids(response.json()["data"]) == {week["shown"][1].pk}
    assert response.json()["date"] == day.isoformat()


@commits
def test_upcoming_is_cached_and_a_booking_is_seen_at_once(
    cached,  # noqa: F811
    api_client,
    client_for,
    patient,
    week,
    django_assert_num_queries,
):
    first = upcoming(api_client)["data"]
    with django_assert_num_queries(0):
        assert upcoming(api_client)["data"] == first
    target = week["shown"][1]
    booked = client_for(patient).post("/api/v1/bookings", {"slotId": target.pk}, format="json")
    assert booked.status_code == 201
    assert target.pk not in shown_slot_ids(upcoming(api_client)["data"])


def test_a_slot_enters_the_cached_window_as_time_passes(cached, api_client, doctor):  # noqa: F811
    service = ServiceFactory(name="Teeth Cleaning")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        soon = slot_in(timedelta(days=1), doctor=doctor, service=service)
        # Beyond the window by less than MAX_AGE: only its coming within reach ends the answer.
        later = slot_in(
            timedelta(days=14) + availability_cache.MAX_AGE / 2, doctor=doctor, service=service
        )
        assert shown_slot_ids(upcoming(api_client)["data"]) == {soon.pk}
        clock.shift(availability_cache.MAX_AGE / 2 + timedelta(seconds=1))
        assert shown_slot_ids(upcoming(api_client)["data"]) == {soon.pk, later.pk}


def test_a_lapsed_hold_in_the_window_frees_its_seat(cached, api_client, doctor):  # noqa: F811
    service = ServiceFactory(name="Teeth Cleaning")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        held = slot_in(timedelta(days=5), doctor=doctor, service=service, seats_taken=1)
        BookingFactory(slot=held, expires_at=timezone.now() + timedelta(seconds=20))
        assert held.pk not in shown_slot_ids(upcoming(api_client)["data"])
        clock.shift(timedelta(seconds=21))
        assert held.pk in shown_slot_ids(upcoming(api_client)["data"])


def test_upcoming_costs_the_same_two_queries(
    settings, api_client, week, django_assert_max_num_queries
):
    settings.CACHES = {  # computed, not cached
        **settings.CACHES,
        "availability": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    with django_assert_max_num_queries(2):
        upcoming(api_client)
