"""Weekly hours (schedules) and time off: API.md "Doctors and schedules" (issue 14)."""

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings.models import BookingStatus
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus, TimeOff, WeeklyRule
from scheduling.schedules import schedule_generate, schedules_extend
from tests.factories import BookingFactory, DoctorFactory, ServiceFactory, SlotFactory
from tests.scheduling.helpers import commits, errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def service():
    return ServiceFactory(name="Weekly Check-up")


def today():
    return timefmt.clinic_today(timezone.now())


def rule_body(svc, **fields):
    body = {
        "service": svc.pk,
        "weekdays": ["mon", "wed"],
        "start": "09:00",
        "end": "11:00",
        "slotMinutes": 30,
        "capacity": 1,
        "validFrom": today().isoformat(),
    }
    body.update(fields)
    return body


def post_rule(client, svc, **fields):
    return client.post("/api/v1/schedules", rule_body(svc, **fields), format="json")


def live_slots(doctor, **filters):
    return Slot.objects.filter(doctor=doctor, **filters).exclude(status=SlotStatus.CANCELLED)


def local(slot):
    return slot.start.astimezone(timefmt.clinic_tz())


# ---------------------------------------------------------------- generation


def test_a_rule_generates_its_slots_up_to_the_horizon(client_for, doctor, service, settings):
    response = post_rule(client_for(doctor), service, weekdays=["mon", "tue", "wed", "thu"])
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    horizon = today() + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    assert data["generatedUntil"] == horizon.isoformat()
    assert data["weekdays"] == ["mon", "tue", "wed", "thu"]
    assert (data["start"], data["end"], data["slotMinutes"]) == ("09:00", "11:00", 30)
    assert data["kept"] == [] and data["removed"] == 0
    slots = list(live_slots(doctor).order_by("start"))
    assert data["created"] == len(slots) > 0
    rule = WeeklyRule.objects.get(pk=data["id"])
    now = timezone.now()
    expected = 0
    for offset in range(settings.BOOKING_HORIZON_DAYS + 1):
        day = today() + timedelta(days=offset)
        if day.weekday() < 4:
            for hour, minute in ((9, 0), (9, 30), (10, 0), (10, 30)):
                start = timefmt.local_to_utc(day, datetime.min.time().replace(hour=hour))
                start += timedelta(minutes=minute)
                expected += start > now
    assert len(slots) == expected
    for slot in slots:
        assert slot.rule_id == rule.pk and slot.service_id == service.pk
        assert slot.end - slot.start == timedelta(minutes=30)
        assert local(slot).weekday() < 4 and 9 <= local(slot).hour < 11
        assert slot.status == SlotStatus.PUBLISHED and slot.capacity == 1


def test_generation_is_idempotent(client_for, doctor, service):
    data = post_rule(client_for(doctor), service).json()["data"]
    before = sorted(live_slots(doctor).values_list("pk", "start", "end"))
    assert schedule_generate(rule_id=data["id"]) == 0
    assert schedules_extend() == 0
    assert sorted(live_slots(doctor).values_list("pk", "start", "end")) == before
    # Even with the watermark forgotten, nothing is generated twice.
    WeeklyRule.objects.filter(pk=data["id"]).update(generated_until=None)
    assert schedule_generate(rule_id=data["id"]) == 0
    assert sorted(live_slots(doctor).values_list("pk", "start", "end")) == before


def test_the_periodic_task_extends_rules_as_days_pass(client_for, doctor, service, settings):
    from doctors_portal.tasks import extend_schedules

    with time_machine.travel(timezone.now(), tick=False) as clock:
        data = post_rule(client_for(doctor), service, weekdays=list(WEEKDAYS_ALL)).json()["data"]
        count = live_slots(doctor).count()
        clock.shift(timedelta(days=7))
        created = extend_schedules.apply().get()
        assert created == 7 * 4  # a week more, four slots a day
        rule = WeeklyRule.objects.get(pk=data["id"])
        horizon = timefmt.clinic_today(timezone.now()) + timedelta(
            days=settings.BOOKING_HORIZON_DAYS
        )
        assert rule.generated_until == horizon
        assert live_slots(doctor).count() == count + 28
        last = live_slots(doctor).order_by("-start").first()
        assert local(last).date() == horizon
        assert extend_schedules.apply().get() == 0  # a second tick the same day: nothing


WEEKDAYS_ALL = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_the_task_respects_valid_until_and_inactive_doctors(client_for, doctor, service):
    until = today() + timedelta(days=3)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        post_rule(
            client_for(doctor), service, weekdays=list(WEEKDAYS_ALL), validUntil=until.isoformat()
        )
        other = DoctorFactory(profile__specialty=service)
        post_rule(client_for(other), service, weekdays=list(WEEKDAYS_ALL))
        other.is_active = False
        other.save()
        count, other_count = live_slots(doctor).count(), live_slots(other).count()
        clock.shift(timedelta(days=5))
        assert schedules_extend() == 0
        assert live_slots(doctor).count() == count
        assert live_slots(other).count() == other_count
    assert max(local(s).date() for s in live_slots(doctor)) == until


# ---------------------------------------------------------------- daylight saving


def _dst_case(settings, zone, travel_to, day, client_for, service):
    settings.CLINIC_TIME_ZONE = zone
    with time_machine.travel(travel_to, tick=False):
        doctor = DoctorFactory(profile__specialty=service)
        response = post_rule(
            client_for(doctor),
            service,
            weekdays=["sun"],
            start="00:00",
            end="04:00",
            slotMinutes=30,
            validFrom=timefmt.clinic_today(timezone.now()).isoformat(),
        )
        assert response.status_code == 201, response.json()
    tz = timefmt.clinic_tz()
    slots = [s for s in live_slots(doctor).order_by("start") if local(s).date() == day]
    walls = [local(s).strftime("%H:%M") for s in slots]
    for before, after in itertools.pairwise(slots):
        assert before.end <= after.start  # never overlapping
    for slot in slots:
        assert slot.end - slot.start == timedelta(minutes=30)
        assert slot.start.astimezone(tz).date() == day
    return walls, slots


SPRING = ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]  # 02:00-03:00 does not exist
AUTUMN = ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "03:30"]


@pytest.mark.parametrize(
    ("zone", "travel_to", "day", "expected"),
    [
        ("Europe/Berlin", "2026-03-20T12:00Z", date(2026, 3, 29), SPRING),
        ("Europe/Berlin", "2026-10-16T12:00Z", date(2026, 10, 25), AUTUMN),
        ("America/New_York", "2026-03-01T17:00Z", date(2026, 3, 8), SPRING),
        ("America/New_York", "2026-10-23T16:00Z", date(2026, 11, 1), AUTUMN),
    ],
    ids=["berlin-spring", "berlin-autumn", "new-york-spring", "new-york-autumn"],
)
def test_dst_days_skip_missing_times_and_take_repeated_ones_once(
    settings, client_for, service, zone, travel_to, day, expected
):
    walls, slots = _dst_case(settings, zone, travel_to, day, client_for, service)
    assert walls == expected
    # The ordinary Sunday before has all eight.
    doctor = slots[0].doctor
    week_before = [s for s in live_slots(doctor) if local(s).date() == day - timedelta(days=7)]
    if week_before:
        assert len(week_before) == 8


def test_new_york_autumn_repeated_hour_is_its_first_pass(settings, client_for, service):
    _walls, slots = _dst_case(
        settings, "America/New_York", "2026-10-23T16:00Z", date(2026, 11, 1), client_for, service
    )
    at_one = next(s for s in slots if local(s).strftime("%H:%M") == "01:00")
    assert at_one.start == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT, not EST
    at_two = next(s for s in slots if local(s).strftime("%H:%M") == "02:00")
    assert at_two.start == datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 02:00 EST
    # Ordinary days keep 09:00 local time on both sides of the change.


def test_ordinary_hours_keep_their_local_time_across_both_changes(settings, client_for, service):
    settings.CLINIC_TIME_ZONE = "Europe/Berlin"
    settings.BOOKING_HORIZON_DAYS = 60
    with time_machine.travel("2026-03-15T12:00Z", tick=False):
        doctor = DoctorFactory(profile__specialty=service)
        response = post_rule(
            client_for(doctor), service, weekdays=["mon"], validFrom="2026-03-16", end="10:00"
        )
        assert response.status_code == 201, response.json()
    slots = list(live_slots(doctor).order_by("start"))
    assert {local(s).strftime("%H:%M") for s in slots} == {"09:00", "09:30"}
    utc_hours = {s.start.astimezone(UTC).hour for s in slots}
    assert utc_hours == {8, 7}  # CET before 29 March, CEST after


# ---------------------------------------------------------------- conflicts and input


def test_a_rule_overlapping_another_rule_is_400_naming_it(client_for, doctor, service):
    client = client_for(doctor)
    first = post_rule(client, service).json()["data"]
    count = live_slots(doctor).count()
    response = post_rule(client, service, weekdays=["wed", "fri"], start="10:30", end="12:00")
    assert response.status_code == 400
    assert f"#{first['id']}" in errors(response)["conflict"]
    assert WeeklyRule.objects.filter(doctor=doctor).count() == 1
    assert live_slots(doctor).count() == count
    # Other days or hours do not overlap.
    assert post_rule(client, service, weekdays=["wed"], start="11:00", end="12:00").status_code == (
        201
    )
    assert post_rule(client, service, weekdays=["tue"], start="09:00").status_code == 201


def test_a_rule_overlapping_an_existing_slot_is_400_naming_it(client_for, doctor, service):
    day = today() + timedelta(days=2)
    interval = timefmt.label_to_interval(day, "10:00-11:00")
    slot = SlotFactory(doctor=doctor, service=service, start=interval.start, end=interval.end)
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    response = post_rule(client_for(doctor), service, weekdays=[weekday])
    assert response.status_code == 400
    assert f"#{slot.pk}" in errors(response)["conflict"]
    assert not WeeklyRule.objects.exists()
    assert live_slots(doctor).count() == 1


def test_another_doctors_slots_and_rules_do_not_conflict(client_for, doctor, other_doctor, service):
    assert post_rule(client_for(doctor), service).status_code == 201
    assert post_rule(client_for(other_doctor), service).status_code == 201


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"slotMinutes": 0}, "slotMinutes"),
        ({"slotMinutes": 10000}, "slotMinutes"),
        ({"slotMinutes": 4}, "slotMinutes"),
        ({"slotMinutes": 10**30}, "slotMinutes"),
        ({"slotMinutes": "30"}, "slotMinutes"),
        ({"slotMinutes": 180, "end": "10:00"}, "end"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 100000}, "capacity"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": "mon"}, "weekdays"),
        ({"weekdays": ["funday"]}, "weekdays.0"),
        ({"weekdays": ["mon", "mon"]}, "weekdays"),
        ({"weekdays": [1, 2]}, "weekdays.0"),
        ({"weekdays": [None]}, "weekdays.0"),
        ({"weekdays": ["mon"] * 100}, "weekdays"),
        ({"start": "25:00"}, "start"),
        ({"start": "9am"}, "start"),
        ({"start": 900}, "start"),
        ({"end": "08:00"}, "end"),
        ({"end": "09:00"}, "end"),
        ({"validFrom": "2001-01-01"}, "validFrom"),
        ({"validFrom": "3026-01-01"}, "validFrom"),
        ({"validFrom": "9999-12-31"}, "validFrom"),
        ({"validFrom": "0000-01-01"}, "validFrom"),
        ({"validFrom": "tomorrow"}, "validFrom"),
        ({"validFrom": 20261201}, "validFrom"),
        ({"validUntil": "2001-01-01"}, "validUntil"),
        ({"validUntil": "3026-01-01"}, "validUntil"),
        ({"service": 999999}, "service"),
        ({"service": {"id": 1}}, "service"),
        ({"color": "blue"}, "color"),
    ],
)
def test_bad_input_is_a_clear_400_and_writes_nothing(client_for, doctor, service, fields, path):
    response = post_rule(client_for(doctor), service, **fields)
    assert response.status_code in (400, 404), response.json()
    body = response.json()
    assert body["success"] is False
    assert path in errors(response), body
    assert not WeeklyRule.objects.exists() and not Slot.objects.exists()


@pytest.mark.parametrize("body", [[], "x", None, 5, {"weekdays": ["mon"]}])
def test_malformed_bodies_are_400(client_for, doctor, body):
    response = client_for(doctor).post("/api/v1/schedules", body, format="json")
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_callers_who_may_not_write_rules(
    api_client, client_for, patient, unverified_doctor, other_doctor, doctor, service
):
    assert post_rule(api_client, service).status_code == 401
    assert post_rule(client_for(patient), service).status_code == 403
    assert post_rule(client_for(unverified_doctor), service).status_code == 403
    response = post_rule(client_for(other_doctor), service, docEmail=doctor.email)
    assert response.status_code == 403
    assert not WeeklyRule.objects.exists()


def test_an_admin_manages_a_doctors_rules_by_doc_email(client_for, admin_user, doctor, service):
    admin = client_for(admin_user)
    response = post_rule(admin, service, docEmail=doctor.email)
    assert response.status_code == 201, response.json()
    assert WeeklyRule.objects.get().doctor == doctor
    listed = admin.get(f"/api/v1/schedules?docEmail={doctor.email}").json()["data"]
    assert [r["id"] for r in listed] == [response.json()["data"]["id"]]
    assert len(admin.get("/api/v1/schedules").json()["data"]) == 1  # every doctor's
    assert admin.get("/api/v1/schedules?docEmail=nobody@example.com").status_code == 404


def test_list_is_the_callers_own_in_two_queries(
    client_for, doctor, other_doctor, service, django_assert_num_queries
):
    client = client_for(doctor)
    for start, end in (("08:00", "09:00"), ("13:00", "14:00"), ("15:00", "16:00")):
        post_rule(client, service, start=start, end=end)
    post_rule(client_for(other_doctor), service)
    # The token's user (the doctor asking: no second read by email), then the rules with
    # their doctor and service.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/schedules")
    data = response.json()["data"]
    assert [r["start"] for r in data] == ["08:00", "13:00", "15:00"]
    assert {r["docEmail"] for r in data} == {doctor.email}
    assert client.get(f"/api/v1/schedules?docEmail={other_doctor.email}").status_code == 403


def test_time_off_list_is_the_callers_own_in_two_queries(
    client_for, doctor, other_doctor, django_assert_num_queries
):
    now = timezone.now()
    for days in (-2, 3, 1, 9):  # one ended: not listed
        TimeOff.objects.create(
            doctor=doctor, start=now + timedelta(days=days - 1), end=now + timedelta(days=days)
        )
    TimeOff.objects.create(
        doctor=other_doctor, start=now + timedelta(days=1), end=now + timedelta(days=2)
    )
    client = client_for(doctor)
    # The token's user, then the time off with its doctor.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/time-off")
    data = response.json()["data"]
    assert [row["end"] for row in data] == [
        timefmt.local_iso(now + timedelta(days=d)) for d in (1, 3, 9)
    ]
    assert {row["docEmail"] for row in data} == {doctor.email}


# ---------------------------------------------------------------- changing and ending


def _book(slot, **fields):
    fields.setdefault("status", BookingStatus.CONFIRMED)
    fields.setdefault("expires_at", None)
    booking = BookingFactory(slot=slot, **fields)
    Slot.objects.filter(pk=slot.pk).update(seats_taken=1)
    return booking


def test_patch_regenerates_and_keeps_booked_slots(client_for, doctor, service):
    client = client_for(doctor)
    data = post_rule(client, service, weekdays=list(WEEKDAYS_ALL)).json()["data"]
    booked = live_slots(doctor).order_by("start")[3]
    _book(booked)
    lapsed = live_slots(doctor).order_by("start")[5]
    _book(lapsed, status=BookingStatus.PENDING_PAYMENT, expires_at=timezone.now())
    response = client.patch(
        f"/api/v1/schedules/{data['id']}", {"start": "09:30", "end": "11:30"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()["data"]
    assert [s["id"] for s in body["kept"]] == [booked.pk]
    assert body["start"] == "09:30" and body["removed"] > 0 and body["created"] > 0
    booked.refresh_from_db()
    assert booked.status == SlotStatus.PUBLISHED and booked.rule_id == data["id"]
    lapsed.refresh_from_db()
    assert lapsed.status == SlotStatus.CANCELLED and lapsed.seats_taken == 0
    future = [s for s in live_slots(doctor) if s.pk != booked.pk]
    assert future and {local(s).strftime("%H:%M") for s in future} <= {
        "09:30",
        "10:00",
        "10:30",
        "11:00",
    }
    # The kept booked slot (its old times) blocks the new slots it overlaps, nothing else.
    spans = sorted((s.start, s.end) for s in live_slots(doctor))
    for (_s1, e1), (s2, _e2) in itertools.pairwise(spans):
        assert e1 <= s2


def test_delete_withdraws_unbooked_and_keeps_booked(client_for, doctor, service):
    client = client_for(doctor)
    data = post_rule(client, service).json()["data"]
    booked = live_slots(doctor).order_by("start").first()
    _book(booked)
    response = client.delete(f"/api/v1/schedules/{data['id']}")
    assert response.status_code == 200, response.json()
    body = response.json()["data"]
    assert body["id"] == data["id"] and [s["id"] for s in body["kept"]] == [booked.pk]
    assert body["removed"] == data["created"] - 1
    assert not WeeklyRule.objects.exists()
    assert list(live_slots(doctor)) == [booked]
    booked.refresh_from_db()
    assert booked.rule_id is None
    assert client.delete(f"/api/v1/schedules/{data['id']}").status_code == 404


def test_patch_and_delete_by_others(client_for, doctor, other_doctor, patient, service, api_client):
    rule = post_rule(client_for(doctor), service).json()["data"]
    url = f"/api/v1/schedules/{rule['id']}"
    for client, expected in (
        (api_client, 401),
        (client_for(patient), 403),
        (client_for(other_doctor), 404),
    ):
        assert client.patch(url, {"capacity": 2}, format="json").status_code == expected
        assert client.delete(url).status_code == expected
    assert WeeklyRule.objects.get().capacity == 1
    assert client_for(doctor).patch(url, {"slotMinutes": 0}, format="json").status_code == 400
    assert client_for(doctor).patch(url, {"nope": 1}, format="json").status_code == 400
    assert client_for(doctor).delete("/api/v1/schedules/99999999999999999999").status_code == 404


def test_patch_naming_another_doctor_is_refused_and_changes_nothing(
    client_for, admin_user, doctor, other_doctor, service
):
    rule = post_rule(client_for(doctor), service).json()["data"]
    url = f"/api/v1/schedules/{rule['id']}"
    own = client_for(doctor)
    # A doctor may name only themself; an admin may not move the rule to another doctor.
    refused = own.patch(url, {"capacity": 2, "docEmail": other_doctor.email}, format="json")
    assert refused.status_code == 403
    moved = client_for(admin_user).patch(
        url, {"capacity": 2, "docEmail": other_doctor.email}, format="json"
    )
    assert moved.status_code == 400
    assert "docEmail" in errors(moved)
    unknown = own.patch(url, {"capacity": 2, "docEmail": "nobody@example.com"}, format="json")
    assert unknown.status_code == 403
    assert WeeklyRule.objects.get().capacity == 1
    assert WeeklyRule.objects.get().doctor == doctor
    same = own.patch(url, {"capacity": 2, "docEmail": doctor.email.upper()}, format="json")
    assert same.status_code == 200, same.json()
    assert WeeklyRule.objects.get().capacity == 2


def test_patch_into_another_rule_is_400_and_changes_nothing(client_for, doctor, service):
    client = client_for(doctor)
    first = post_rule(client, service).json()["data"]
    second = post_rule(client, service, start="13:00", end="14:00").json()["data"]
    before = sorted(live_slots(doctor).values_list("pk", flat=True))
    response = client.patch(f"/api/v1/schedules/{second['id']}", {"start": "10:00"}, format="json")
    assert response.status_code == 400
    assert f"#{first['id']}" in errors(response)["conflict"]
    assert sorted(live_slots(doctor).values_list("pk", flat=True)) == before


# ---------------------------------------------------------------- time off


def test_time_off_withdraws_unbooked_slots_and_blocks_generation(client_for, doctor, service):
    client = client_for(doctor)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        rule = post_rule(client, service, weekdays=list(WEEKDAYS_ALL)).json()["data"]
        off_from = today() + timedelta(days=2)
        off_to = today() + timedelta(days=20)  # beyond the horizon too
        response = client.post(
            "/api/v1/time-off",
            {"start": off_from.isoformat(), "end": off_to.isoformat(), "reason": "Congress"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        body = response.json()["data"]
        assert body["removed"] == (rule["generatedUntil"] and 4 * 13)
        assert body["reason"] == "Congress"
        assert not [s for s in live_slots(doctor) if off_from <= local(s).date() <= off_to]
        clock.shift(timedelta(days=10))
        schedules_extend()
        inside = [s for s in live_slots(doctor) if off_from <= local(s).date() <= off_to]
        assert inside == []
        after = [s for s in live_slots(doctor) if local(s).date() > off_to]
        assert after  # the horizon moved past the time off
        client = client_for(doctor)  # a fresh access token, ten days later
        listed = client.get("/api/v1/time-off").json()["data"]
        assert [t["id"] for t in listed] == [body["id"]]
        # Removing it: the rule generates there again (up to where it has reached).
        response = client.delete(f"/api/v1/time-off/{body['id']}")
        assert response.status_code == 200, response.json()
        assert response.json()["data"]["created"] > 0
        days = {local(s).date() for s in live_slots(doctor)}
        assert off_to in days and timefmt.clinic_today(timezone.now()) + timedelta(days=1) in days
        assert not TimeOff.objects.exists()


def test_time_off_over_a_booking_is_409_listing_it(client_for, doctor, service):
    client = client_for(doctor)
    post_rule(client, service, weekdays=list(WEEKDAYS_ALL))
    slot = live_slots(doctor).order_by("start")[6]
    booking = _book(slot)
    before = live_slots(doctor).count()
    day = local(slot).date()
    response = client.post(
        "/api/v1/time-off", {"start": day.isoformat(), "end": day.isoformat()}, format="json"
    )
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["message"] == "Conflict"
    assert [m["path"] for m in body["errorMessages"]] == ["bookings"]
    assert f"Booking #{booking.pk}" in body["errorMessages"][0]["message"]
    assert booking.patient.name in body["errorMessages"][0]["message"]
    assert live_slots(doctor).count() == before and not TimeOff.objects.exists()
    # Once cancelled, the same request goes through.
    booking.status = BookingStatus.CANCELLED
    booking.save()
    Slot.objects.filter(pk=slot.pk).update(seats_taken=0)
    response = client.post(
        "/api/v1/time-off", {"start": day.isoformat(), "end": day.isoformat()}, format="json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"start": "2026-12-24"}, "end"),
        ({"start": "garbage", "end": "2099-01-01"}, "start"),
        ({"start": 5, "end": 6}, "start"),
        ({"start": "+2026-12-24", "end": "x" * 100}, "start"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),
        ({"start": "2001-01-01", "end": "2001-01-02"}, "end"),
        ({"start": "FUTURE+2", "end": "FUTURE+1"}, "end"),
        ({"start": "FUTURE+1", "end": "FUTURE+1000"}, "end"),
        ({"start": "FUTURE+1", "end": "FUTURE+365000"}, "end"),
        ({"start": "FUTURE+1", "end": "FUTURE+2", "reason": "x" * 500}, "reason"),
        ({"start": "FUTURE+1", "end": "FUTURE+2", "reason": 7}, "reason"),
        ({"start": "FUTURE+1", "end": "FUTURE+2", "extra": 1}, "extra"),
    ],
)
def test_time_off_bad_input_is_400(client_for, doctor, body, path):
    def fill(value):
        if isinstance(value, str) and value.startswith("FUTURE+"):
            days = int(value.removeprefix("FUTURE+"))
            return (today() + timedelta(days=min(days, 2_000_000))).isoformat()
        return value

    try:
        sent = {key: fill(value) for key, value in body.items()}
    except OverflowError:
        pytest.skip("beyond the calendar")
    response = client_for(doctor).post("/api/v1/time-off", sent, format="json")
    assert response.status_code == 400, response.json()
    assert path in errors(response)
    assert not TimeOff.objects.exists()


def test_time_off_by_others(client_for, api_client, patient, doctor, other_doctor, admin_user):
    body = {"start": (today() + timedelta(days=1)).isoformat(), "end": "2099-01-01"}
    body["end"] = (today() + timedelta(days=2)).isoformat()
    assert api_client.post("/api/v1/time-off", body, format="json").status_code == 401
    assert client_for(patient).post("/api/v1/time-off", body, format="json").status_code == 403
    response = client_for(other_doctor).post(
        "/api/v1/time-off", {**body, "docEmail": doctor.email}, format="json"
    )
    assert response.status_code == 403
    response = client_for(admin_user).post(
        "/api/v1/time-off", {**body, "docEmail": doctor.email}, format="json"
    )
    assert response.status_code == 201
    pk = response.json()["data"]["id"]
    assert client_for(other_doctor).delete(f"/api/v1/time-off/{pk}").status_code == 404
    assert client_for(patient).delete(f"/api/v1/time-off/{pk}").status_code == 403
    assert client_for(doctor).get("/api/v1/time-off").json()["data"][0]["id"] == pk
    assert client_for(doctor).delete(f"/api/v1/time-off/{pk}").status_code == 200


def test_time_off_accepts_clinic_times_and_offsets(client_for, doctor, settings):
    settings.CLINIC_TIME_ZONE = "Europe/Berlin"
    day = today() + timedelta(days=3)
    response = client_for(doctor).post(
        "/api/v1/time-off",
        {"start": f"{day.isoformat()}T13:00", "end": f"{day.isoformat()}T15:00:00+00:00"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    off = TimeOff.objects.get()
    assert off.start == timefmt.local_to_utc(day, datetime.min.time().replace(hour=13))
    assert off.end == datetime.combine(day, datetime.min.time().replace(hour=15), tzinfo=UTC)


# ---------------------------------------------------------------- cost


def test_generation_is_a_few_statements_whatever_the_number_of_slots(doctor, service, settings):
    from scheduling.schedules import schedule_create

    settings.BOOKING_HORIZON_DAYS = 120
    with CaptureQueriesContext(connection) as queries:
        result = schedule_create(
            doctor=doctor,
            by=doctor,
            service=service,
            weekdays=list(WEEKDAYS_ALL),
            start_time=datetime.min.time().replace(hour=8),
            end_time=datetime.min.time().replace(hour=18),
            slot_minutes=15,
            valid_from=today(),
        )
    assert result.created > 4000
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    others = [q for q in queries.captured_queries if not q["sql"].startswith("INSERT")]
    assert len(others) <= 16, [q["sql"][:80] for q in others]
    assert len(inserts) <= (2 if connection.vendor == "postgresql" else 50)


@commits
def test_generated_and_withdrawn_slots_show_at_once_in_appointment_options(
    client_for, api_client, doctor, service, settings
):
    """The availability cache (Redis when configured) is invalidated by every schedule write."""

    def offered():
        body = api_client.get("/api/v1/appointmentOptions").json()["data"]
        return sum(len(s["slots"]) for s in body if s["id"] == service.pk)

    def in_window():
        until = timezone.now() + timedelta(days=settings.BOOKING_HORIZON_DAYS)
        return live_slots(doctor, start__lt=until).count()

    assert offered() == 0  # cached empty answer
    rule = post_rule(client_for(doctor), service, weekdays=list(WEEKDAYS_ALL)).json()["data"]
    assert offered() == in_window() > 0
    day = today() + timedelta(days=2)
    client_for(doctor).post(
        "/api/v1/time-off", {"start": day.isoformat(), "end": day.isoformat()}, format="json"
    )
    assert offered() == in_window() > 0
    client_for(doctor).delete(f"/api/v1/schedules/{rule['id']}")
    assert offered() == 0
