"""The doctor's dashboard: weekly hours and time off forms (issue 14), phone-first order."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import BookingStatus
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus, TimeOff, WeeklyRule
from tests.factories import BookingFactory, DoctorFactory, ServiceFactory

pytestmark = pytest.mark.django_db

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def today():
    return timefmt.clinic_today(timezone.now())


def hours(service, **fields):
    data = {
        "hours-weekdays": WEEK,
        "hours-start_time": "09:00",
        "hours-end_time": "11:00",
        "hours-slot_minutes": 30,
        "hours-capacity": 1,
        "hours-service": service.pk,
        "hours-valid_from": today().isoformat(),
        "hours-valid_until": "",
    }
    data.update(fields)
    return data


@pytest.fixture
def service():
    return ServiceFactory(name="Dashboard Check-up")


def test_add_and_remove_weekly_hours(doctor, service):
    client = logged_in(doctor)
    response = client.post(reverse("pages:schedule_add"), hours(service))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = WeeklyRule.objects.get(doctor=doctor)
    assert Slot.objects.filter(rule=rule).count() > 20
    page = client.get(reverse("pages:doctor_dashboard")).content.decode()
    assert f'data-rule-id="{rule.pk}"' in page
    assert page.index('id="patients-heading"') < page.index('id="slots-heading"')
    assert page.index('id="slots-heading"') < page.index('id="hours-heading"')
    assert page.index('id="hours-heading"') < page.index('id="off-heading"')
    assert (
        page.count("data-slot-id=")
        == Slot.objects.filter(
            rule=rule, start__lt=timefmt.day_bounds(today() + timedelta(days=6))[1]
        ).count()
    )
    response = client.post(reverse("pages:schedule_remove", args=[rule.pk]))
    assert response.status_code == 302
    assert not WeeklyRule.objects.exists()
    assert not Slot.objects.exclude(status=SlotStatus.CANCELLED).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"hours-slot_minutes": 0}, "slot_minutes"),
        ({"hours-slot_minutes": 10000}, "slot_minutes"),
        ({"hours-end_time": "08:00"}, "end_time"),
        ({"hours-weekdays": ["funday"]}, "weekdays"),
        ({"hours-valid_until": "2001-01-01"}, "valid_until"),
        ({"hours-valid_from": "3026-01-01"}, "valid_from"),
    ],
)
def test_bad_weekly_hours_are_400_beside_the_field(doctor, service, fields, field):
    response = logged_in(doctor).post(reverse("pages:schedule_add"), hours(service, **fields))
    assert response.status_code == 400
    assert f'id="id_hours-{field}_error"' in response.content.decode()
    assert not WeeklyRule.objects.exists()


def test_overlapping_weekly_hours_name_the_conflict(doctor, service):
    client = logged_in(doctor)
    assert client.post(reverse("pages:schedule_add"), hours(service)).status_code == 302
    response = client.post(reverse("pages:schedule_add"), hours(service))
    assert response.status_code == 400
    assert "Overlaps your weekly hours" in response.content.decode()
    assert WeeklyRule.objects.count() == 1


def test_unverified_doctor_cannot_add_hours(service):
    doctor = DoctorFactory(profile__verified=False)
    response = logged_in(doctor).post(reverse("pages:schedule_add"), hours(service))
    assert response.status_code == 400
    assert "not verified" in response.content.decode()
    assert not WeeklyRule.objects.exists()


def test_other_doctors_cannot_remove_hours_or_time_off(doctor, other_doctor, service):
    logged_in(doctor).post(reverse("pages:schedule_add"), hours(service))
    rule = WeeklyRule.objects.get()
    other = logged_in(other_doctor)
    assert other.post(reverse("pages:schedule_remove", args=[rule.pk])).status_code == 404
    off = TimeOff.objects.create(
        doctor=doctor,
        start=timezone.now() + timedelta(days=30),
        end=timezone.now() + timedelta(days=31),
    )
    assert other.post(reverse("pages:time_off_remove", args=[off.pk])).status_code == 404
    assert WeeklyRule.objects.exists() and TimeOff.objects.exists()


def test_time_off_on_the_page_and_its_409(doctor, service):
    client = logged_in(doctor)
    client.post(reverse("pages:schedule_add"), hours(service))
    slot = Slot.objects.filter(doctor=doctor).order_by("start")[5]
    booking = BookingFactory(slot=slot, status=BookingStatus.CONFIRMED, expires_at=None)
    Slot.objects.filter(pk=slot.pk).update(seats_taken=1)
    day = timefmt.clinic_today(slot.start)
    data = {"off-first_day": day.isoformat(), "off-last_day": day.isoformat(), "off-reason": ""}
    response = client.post(reverse("pages:time_off_add"), data)
    assert response.status_code == 400
    assert f"Booking #{booking.pk}" in response.content.decode()
    assert not TimeOff.objects.exists()
    later = day + timedelta(days=2)
    data = {"off-first_day": later.isoformat(), "off-last_day": later.isoformat()}
    response = client.post(reverse("pages:time_off_add"), {**data, "off-reason": "Congress"})
    assert response.status_code == 302
    off = TimeOff.objects.get()
    page = client.get(reverse("pages:doctor_dashboard")).content.decode()
    assert f'data-time-off-id="{off.pk}"' in page and "Congress" in page
    assert client.post(reverse("pages:time_off_remove", args=[off.pk])).status_code == 302
    assert not TimeOff.objects.exists()
    bad = {
        "off-first_day": later.isoformat(),
        "off-last_day": (later - timedelta(days=3)).isoformat(),
    }
    assert client.post(reverse("pages:time_off_add"), bad).status_code == 400


def test_the_dashboard_reads_in_a_bounded_number_of_queries(
    doctor, service, django_assert_max_num_queries
):
    client = logged_in(doctor)
    client.post(reverse("pages:schedule_add"), hours(service))
    for slot in Slot.objects.filter(doctor=doctor).order_by("start")[:6]:
        BookingFactory(slot=slot, status=BookingStatus.CONFIRMED, expires_at=None)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("pages:doctor_dashboard"))
    assert response.status_code == 200
