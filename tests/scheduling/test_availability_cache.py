"""The availability cache (scheduling/availability_cache.py) against a real Redis: a
cached answer is served only while nothing was written and nothing lapsed or started."""

import os
from datetime import date, timedelta

import pytest
import redis
import time_machine
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.models import update_last_login
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role
from bookings import services as booking_services
from bookings.models import BookingStatus
from scheduling import availability_cache, timefmt
from scheduling import services as slot_services
from scheduling.admin import ServiceAdmin
from scheduling.models import Service, Slot
from tests.factories import (
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)
from tests.scheduling.helpers import clinic_day, commits, slot_at, wordy

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"


def _redis_cache(location: str) -> dict:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": "availability-tests",
    }


@pytest.fixture
def cached(settings):
    """The availability alias on Redis, whatever this run's settings say."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")  # a failure under CI
    settings.CACHES = {**settings.CACHES, "availability": _redis_cache(REDIS_URL)}
    caches["availability"].clear()
    yield caches["availability"]
    caches["availability"].clear()


@pytest.fixture
def day_with_slots(doctor):
    service = ServiceFactory(name="Teeth Cleaning")
    day = clinic_day(2)
    slots = [
        slot_at(day, f"{9 + i:02d}:00-{9 + i:02d}:30", doctor=doctor, service=service)
        for i in range(3)
    ]
    return day, service, slots


def options(client, day) -> list[dict]:
    response = client.get(f"/api/v1/appointmentOptions?date={day.isoformat()}")
    assert response.status_code == 200
    return response.json()["data"]


def shown_slot_ids(data) -> set[int]:
    return {slot["id"] for item in data for slot in item["slots"]}


def test_a_second_read_is_served_from_the_cache(
    cached, api_client, day_with_slots, django_assert_num_queries
):
    day, _, slots = day_with_slots
    # Services, the day's free slots, and when the next hold on that day lapses.
    with django_assert_num_queries(3):
        first = options(api_client, day)
    with django_assert_num_queries(0):
        second = options(api_client, day)
    assert first == second
    assert shown_slot_ids(first) == {s.pk for s in slots}


@commits
def test_a_booking_is_seen_at_once(cached, api_client, client_for, day_with_slots):
    day, _, slots = day_with_slots
    assert slots[0].pk in shown_slot_ids(options(api_client, day))
    booked = client_for(PatientFactory()).post("/api/v1/bookings", {"slotId": slots[0].pk})
    assert booked.status_code == 201
    assert slots[0].pk not in shown_slot_ids(options(api_client, day))


@commits
def test_a_cancelled_booking_gives_the_seat_back_at_once(
    cached, api_client, client_for, day_with_slots
):
    day, _, slots = day_with_slots
    patient = PatientFactory()
    booked = client_for(patient).post("/api/v1/bookings", {"slotId": slots[1].pk})
    assert slots[1].pk not in shown_slot_ids(options(api_client, day))
    cancel = client_for(patient).post(f"/api/v1/bookings/{booked.json()['data']['id']}/cancel")
    assert cancel.status_code == 200
    assert slots[1].pk in shown_slot_ids(options(api_client, day))


def test_a_lapsed_hold_frees_its_seat_without_any_write(cached, api_client, day_with_slots):
    day, _, slots = day_with_slots
    with time_machine.travel(timezone.now(), tick=False) as clock:
        BookingFactory(
            slot=slots[2],
            status=BookingStatus.PENDING_PAYMENT,
            expires_at=timezone.now() + timedelta(minutes=15),
        )
        slots[2].seats_taken = 1
        slots[2].save(update_fields=["seats_taken"])
        assert slots[2].pk not in shown_slot_ids(options(api_client, day))
        clock.shift(timedelta(minutes=14, seconds=59))
        assert slots[2].pk not in shown_slot_ids(options(api_client, day))
        clock.shift(timedelta(seconds=2))
        assert slots[2].pk in shown_slot_ids(options(api_client, day))


def test_a_slot_leaves_the_list_when_it_starts(cached, api_client, doctor):
    service = ServiceFactory(name="Teeth Cleaning")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # Sooner than MAX_AGE, so only the slot's own start can end the cached answer.
        start = timezone.now() + availability_cache.MAX_AGE / 2
        soon = SlotFactory(
            doctor=doctor, service=service, start=start, end=start + timedelta(minutes=30)
        )
        day = timefmt.clinic_today(start)
        assert soon.pk in shown_slot_ids(options(api_client, day))
        clock.shift(availability_cache.MAX_AGE / 2 - timedelta(seconds=1))
        assert soon.pk in shown_slot_ids(options(api_client, day))
        clock.shift(timedelta(seconds=2))
        assert soon.pk not in shown_slot_ids(options(api_client, day))


@commits
def test_a_revoked_doctor_disappears_at_once(
    cached, api_client, admin_user, doctor, day_with_slots
):
    day, _, slots = day_with_slots
    assert shown_slot_ids(options(api_client, day)) == {s.pk for s in slots}
    account_services.doctor_set_verification(actor=admin_user, doctor=doctor, verified=False)
    assert shown_slot_ids(options(api_client, day)) == set()


@commits
def test_a_price_and_a_doctors_name_change_at_once(
    cached, api_client, admin_user, doctor, day_with_slots
):
    day, service, _ = day_with_slots
    options(api_client, day)
    service.price = "55.00"
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    ServiceAdmin(Service, AdminSite()).save_model(request, service, form=None, change=True)
    account_services.user_update(actor=doctor, user=doctor, name="Dr. Renamed")
    data = options(api_client, day)
    item = next(i for i in data if i["id"] == service.pk)
    assert item["price"] == "55.00"
    assert {d["name"] for d in item["doctors"]} == {"Dr. Renamed"}


@commits
def test_a_sign_in_does_not_drop_cached_answers(cached, api_client, admin_user, day_with_slots):
    day, _, _ = day_with_slots
    options(api_client, day)
    user = DoctorFactory()
    version = cached.get("version")
    assert version is not None
    update_last_login(None, user)  # what a sign-in writes
    assert cached.get("version") == version
    account_services.user_set_role(actor=admin_user, user=user, role=Role.PATIENT)
    assert cached.get("version") != version


def test_the_version_is_replaced_after_commit(
    cached, day_with_slots, django_capture_on_commit_callbacks
):
    cached.set("version", "before")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        availability_cache.availability_changed()
        # Until the commit the answers cached are the committed truth: nothing to replace.
        assert cached.get("version") == "before"
    for callback in callbacks:
        callback()
    assert cached.get("version") not in (None, "before")


def test_answers_are_kept_at_most_max_age(
    cached, api_client, day_with_slots, django_assert_num_queries
):
    day, _, _ = day_with_slots
    with time_machine.travel(timezone.now(), tick=False) as clock:
        options(api_client, day)
        clock.shift(availability_cache.MAX_AGE - timedelta(seconds=1))
        with django_assert_num_queries(0):
            options(api_client, day)
        clock.shift(timedelta(seconds=2))
        with django_assert_num_queries(3):
            options(api_client, day)


def test_an_unreachable_cache_still_answers_from_the_database(settings, api_client, day_with_slots):
    settings.CACHES = {
        **settings.CACHES,
        "availability": {
            **_redis_cache("redis://127.0.0.1:1/0"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": 0.2,
            },
        },
    }
    day, _, slots = day_with_slots
    assert shown_slot_ids(options(api_client, day)) == {s.pk for s in slots}
    availability_cache.availability_changed()  # the version cannot be replaced: logged
    assert shown_slot_ids(options(api_client, day)) == {s.pk for s in slots}


# The services that change what appointmentOptions shows end its cached answers
# themselves (availability_cache.availability_changed), so a write through a bulk path
# (bulk_create, QuerySet.update), which sends no model signal, leaves no stale answer.


@commits
def test_slots_published_in_one_bulk_insert_are_shown_at_once(
    cached, api_client, client_for, doctor, day_with_slots
):
    day, service, slots = day_with_slots
    assert shown_slot_ids(options(api_client, day)) == {s.pk for s in slots}
    labels = ["14:00-14:30", "15:00-15:30", "16:00-16:30"]
    body = {
        "docEmail": doctor.email,
        "docSlot": [{"date": wordy(day), "slot": labels}],
        "service": service.name,
    }
    with CaptureQueriesContext(connection) as queries:
        response = client_for(doctor).post("/api/v1/slots", body, format="json")
    assert response.status_code == 201, response.json()
    inserts = [q for q in queries.captured_queries if 'INSERT INTO "scheduling_slot"' in q["sql"]]
    assert len(inserts) == 1  # one bulk INSERT: no post_save signal for any of them
    new = set(Slot.objects.exclude(pk__in=[s.pk for s in slots]).values_list("pk", flat=True))
    assert len(new) == 3
    assert shown_slot_ids(options(api_client, day)) == {s.pk for s in slots} | new


@commits
def test_a_seat_taken_and_given_back_by_the_services_shows_at_once(
    cached, api_client, day_with_slots
):
    day, _, slots = day_with_slots
    patient = PatientFactory()
    assert slots[0].pk in shown_slot_ids(options(api_client, day))
    booking = booking_services.booking_create(patient=patient, slot_id=slots[0].pk)
    assert slots[0].pk not in shown_slot_ids(options(api_client, day))
    booking_services.booking_cancel(booking_id=booking.pk, by=patient)
    assert slots[0].pk in shown_slot_ids(options(api_client, day))


@commits
def test_a_slot_cancelled_by_its_doctor_leaves_at_once(cached, api_client, doctor, day_with_slots):
    day, _, slots = day_with_slots
    options(api_client, day)
    slot_services.slot_update(slot_id=slots[1].pk, by=doctor, status="cancelled")
    assert slots[1].pk not in shown_slot_ids(options(api_client, day))


@commits
def test_a_doctors_profile_change_shows_at_once(cached, api_client, doctor, day_with_slots):
    day, service, _ = day_with_slots
    options(api_client, day)
    account_services.user_update(actor=doctor, user=doctor, name="Dr. Renamed")
    item = next(i for i in options(api_client, day) if i["id"] == service.pk)
    assert {d["name"] for d in item["doctors"]} == {"Dr. Renamed"}


@commits
def test_a_price_changed_in_the_admin_shows_at_once(cached, api_client, admin_user, day_with_slots):
    day, service, _ = day_with_slots
    options(api_client, day)
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    service.price = "77.00"
    ServiceAdmin(Service, AdminSite()).save_model(request, service, form=None, change=True)
    item = next(i for i in options(api_client, day) if i["id"] == service.pk)
    assert item["price"] == "77.00"


def test_no_model_signal_is_connected_any_more(cached, api_client, day_with_slots):
    # A write outside the services is the writer's to announce: the cache does not
    # listen to models (they miss bulk writes, and hid which writes matter).
    day, service, _ = day_with_slots
    options(api_client, day)
    version = cached.get("version")
    Service.objects.filter(pk=service.pk).update(price="88.00")
    service.save(update_fields=["price"])
    assert cached.get("version") == version


def test_accounts_announces_listing_changes_to_the_availability_cache():
    # accounts (the lowest layer) imports no scheduling module; scheduling's AppConfig
    # registers the invalidation that accounts' services and admin call.
    from accounts import lifecycle

    assert availability_cache.availability_changed in lifecycle.LISTING_CHANGED


def test_a_licence_valid_until_the_calendars_last_day_is_cached(cached, client, day_with_slots):
    # An outside tester's 500 on Redis: the midnight after 9999-12-31 does not exist.
    day, _, slots = day_with_slots
    profile = slots[0].doctor.doctor_profile
    profile.license_expires_on = date.max
    profile.save(update_fields=["license_expires_on"])
    for _ in range(2):  # computed and stored, then served from the cache
        assert shown_slot_ids(options(client, day)) == {s.pk for s in slots}
        assert client.get("/api/v1/appointmentOptions").status_code == 200
