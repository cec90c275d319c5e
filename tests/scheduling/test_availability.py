from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import BookingStatus
from scheduling.models import Slot, SlotStatus
from tests.factories import BookingFactory, DoctorFactory, ServiceFactory, SlotFactory
from tests.scheduling.helpers import clinic_day, slot_at, wordy

pytestmark = pytest.mark.django_db


def options(client, day):
    response = client.get(f"/api/v1/appointmentOptions?date={day.isoformat()}")
    assert response.status_code == 200, response.json()
    return {item["name"]: item for item in response.json()["data"]}


def test_specialties_list_every_active_service(api_client):
    a = ServiceFactory(name="Teeth Orthodontics")
    b = ServiceFactory(name="Cavity Protection")
    ServiceFactory(name="Retired", is_active=False)
    for path in ("/api/v1/appointmentSpecialty", "/api/v1/appointmentSpecialty/"):
        response = api_client.get(path)
        assert response.status_code == 200
        assert response.json()["data"] == [
            {"id": b.pk, "_id": b.pk, "name": "Cavity Protection"},
            {"id": a.pk, "_id": a.pk, "name": "Teeth Orthodontics"},
        ]


def test_options_shape_and_free_slots(api_client, doctor):
    service = ServiceFactory(name="Teeth Cleaning")
    empty = ServiceFactory(name="Oral Surgery")
    day = clinic_day(2)
    free = slot_at(day, "10:00-11:00", doctor=doctor, service=service, capacity=2)
    slot_at(day, "11:00-12:00", doctor=doctor, service=service, seats_taken=1)
    BookingFactory(
        slot=Slot.objects.get(doctor=doctor, seats_taken=1), status=BookingStatus.CONFIRMED
    )
    slot_at(clinic_day(3), "10:00-11:00", doctor=doctor, service=service)  # another day
    data = options(api_client, day)
    item = data["Teeth Cleaning"]
    assert item["id"] == item["_id"] == service.pk
    assert item["price"] == "40.00" and item["currency"] == "usd"
    assert item["availableSpaces"] == 2
    assert item["doctors"] == [
        {"id": doctor.pk, "_id": doctor.pk, "name": doctor.name, "docEmail": doctor.email}
    ]
    assert len(item["slots"]) == 1
    slot = item["slots"][0]
    assert slot["id"] == free.pk
    assert slot["doctor"] == {"id": doctor.pk, "name": doctor.name}
    assert slot["label"] == "10.00 AM-11.00 AM"
    assert slot["available"] == 2
    assert slot["start"].endswith("+06:00")  # clinic time zone in the test settings
    assert data["Oral Surgery"]["slots"] == [] and data["Oral Surgery"]["availableSpaces"] == 0
    assert empty.pk == data["Oral Surgery"]["id"]


def test_only_verified_active_doctors_published_future_slots(api_client):
    service = ServiceFactory(name="Teeth Cleaning")
    today = clinic_day(0)
    now = timezone.now()
    SlotFactory(
        doctor=DoctorFactory(profile__verified=False),
        service=service,
        start=now + timedelta(minutes=30),
        end=now + timedelta(minutes=40),
    )
    inactive = DoctorFactory()
    inactive.is_active = False
    inactive.save()
    SlotFactory(
        doctor=inactive,
        service=service,
        start=now + timedelta(minutes=50),
        end=now + timedelta(minutes=55),
    )
    SlotFactory(
        service=service,
        status=SlotStatus.UNPUBLISHED,
        start=now + timedelta(minutes=30),
        end=now + timedelta(minutes=40),
    )
    SlotFactory(
        service=service, start=now - timedelta(minutes=10), end=now + timedelta(minutes=5)
    )  # already started
    response = api_client.get(f"/api/v1/appointmentOptions?date={today.isoformat()}")
    assert response.status_code == 200
    assert response.json()["date"] == today.isoformat()
    assert response.json()["data"][0]["slots"] == []


def test_unexpired_hold_counts_as_taken_lapsed_hold_does_not(api_client):
    service = ServiceFactory(name="Teeth Cleaning")
    day = clinic_day(2)
    held = slot_at(day, "10:00-11:00", service=service, seats_taken=1)
    BookingFactory(slot=held)  # hold expires in 15 minutes
    lapsed = slot_at(day, "10:00-11:00", service=service, seats_taken=1)
    BookingFactory(slot=lapsed, expires_at=timezone.now() - timedelta(seconds=1))
    item = options(api_client, day)["Teeth Cleaning"]
    assert [s["id"] for s in item["slots"]] == [lapsed.pk]
    assert item["availableSpaces"] == 1


@pytest.mark.parametrize("raw", ["tomorrow", "2026-13-01", "2026-02-30", ""])
def test_bad_date_is_400(api_client, raw):
    response = api_client.get(f"/api/v1/appointmentOptions?date={raw}")
    assert response.status_code == 400
    assert response.json()["errorMessages"][0]["path"] == "date"


def test_reference_date_format_is_accepted(api_client):
    ServiceFactory(name="Teeth Cleaning")
    day = clinic_day(3)
    response = api_client.get(f"/api/v1/appointmentOptions/?date={wordy(day)}")
    assert response.status_code == 200
    assert response.json()["date"] == day.isoformat()


def _populate(*, doctors: int, slots_per_doctor: int, days: int):
    services = [ServiceFactory(name=f"Service {i}") for i in range(6)]
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    rows = []
    for _ in range(doctors):
        doctor = DoctorFactory()
        for n in range(slots_per_doctor):
            start = base + timedelta(days=n % days, hours=n // days)
            rows.append(
                Slot(
                    doctor=doctor,
                    service=services[n % 6],
                    start=start,
                    end=start + timedelta(minutes=30),
                )
            )
    Slot.objects.bulk_create(rows)
    for slot in Slot.objects.all()[: len(rows) // 4]:
        BookingFactory(slot=slot, status=BookingStatus.CONFIRMED)
    return services


@pytest.mark.parametrize(("doctors", "slots_per_doctor"), [(2, 4), (12, 40)])
def test_options_query_count_does_not_grow(
    api_client, django_assert_max_num_queries, doctors, slots_per_doctor, settings
):
    # Computed, not cached (test_availability_cache.py covers the cache).
    settings.CACHES = {
        **settings.CACHES,
        "availability": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    _populate(doctors=doctors, slots_per_doctor=slots_per_doctor, days=4)
    day = clinic_day(2)
    with django_assert_max_num_queries(2) as ctx:
        response = api_client.get(f"/api/v1/appointmentOptions?date={day.isoformat()}")
    assert response.status_code == 200
    total_slots = sum(len(item["slots"]) for item in response.json()["data"])
    assert total_slots > 0
    print(f"appointmentOptions: {len(ctx.captured_queries)} queries, {total_slots} slots shown")
