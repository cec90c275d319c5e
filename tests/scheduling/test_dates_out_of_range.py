"""Dates outside what the clinic books: 400 "Date out of range" on the API, a friendly
notice on the pages (a past date says it is past), never a 500 (the calendar's first and
last days overflowed the clinic-day bounds). Publishing stops at PUBLISH_HORIZON_DAYS."""

from datetime import timedelta

import pytest
from django.urls import reverse

from scheduling.models import Slot
from tests.factories import ServiceFactory
from tests.scheduling.helpers import clinic_day, errors, post_slots, slot_at, wordy

pytestmark = pytest.mark.django_db

FAR = ["9999-12-31", "0001-01-01", "Friday, December 31, 9999", "Monday, January 1, 0001"]


@pytest.fixture
def service():
    return ServiceFactory(name="Teeth Cleaning")


@pytest.mark.parametrize("raw", FAR)
def test_the_ends_of_the_calendar_are_400_date_out_of_range(api_client, service, raw):
    response = api_client.get("/api/v1/appointmentOptions", {"date": raw})
    assert response.status_code == 400, response.content[:300]
    assert response.json()["message"] == "Validation Error"
    assert errors(response)["date"].startswith("Date out of range: ")


@pytest.mark.parametrize(("days", "status"), [(-1, 400), (0, 200), (365, 200), (366, 400)])
def test_options_book_from_today_to_the_publishing_horizon(api_client, service, days, status):
    day = clinic_day(days)
    response = api_client.get("/api/v1/appointmentOptions", {"date": day.isoformat()})
    assert response.status_code == status, response.content[:300]
    if status == 400:
        message = errors(response)["date"]
        assert message.startswith(f"Date out of range: {day.isoformat()}")
        assert ("in the past" if days < 0 else "more than 365 days ahead") in message


def test_the_horizon_is_a_setting(settings, api_client, service):
    settings.PUBLISH_HORIZON_DAYS = 30
    far = clinic_day(31).isoformat()
    assert api_client.get("/api/v1/appointmentOptions", {"date": far}).status_code == 400
    assert api_client.get("/api/v1/appointmentOptions", {"date": clinic_day(30)}).status_code == 200


@pytest.mark.parametrize("page", ["home", "service"])
@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("9999-12-31", "We publish appointments up to 365 days ahead"),
        ("0001-01-01", "is in the past"),
        ("yesterday", "is in the past"),
    ],
)
def test_pages_give_a_friendly_notice(client, doctor, service, page, raw, says):
    slot_at(clinic_day(1), "10:00-10:30", doctor=doctor, service=service)  # not today: hidden
    if raw == "yesterday":
        raw = clinic_day(-1).isoformat()
    url = reverse("pages:home") if page == "home" else reverse("pages:service", args=[service.pk])
    response = client.get(url, {"date": raw})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="notice"' in html and says in html
    assert "Here are today&#x27;s free places." in html or "Here are today's free places." in html
    assert wordy(clinic_day(0)) in html  # today is shown instead
    assert "10.00 AM-10.30 AM" not in html


def test_day_links_stay_inside_the_bookable_range(client, service):
    today = client.get(reverse("pages:home")).content.decode()
    assert "Previous day" not in today and "Next day" in today
    last = client.get(reverse("pages:home"), {"date": clinic_day(365).isoformat()})
    assert last.status_code == 200
    assert "Next day" not in last.content.decode()


class TestPublishingHorizon:
    def test_a_slot_beyond_the_horizon_is_400_naming_the_label(self, client_for, doctor, service):
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": wordy(clinic_day(366)), "slot": ["10:00-11:00", "02.00 PM-03.00 PM"]},
            service=service.pk,
        )
        assert response.status_code == 400
        found = errors(response)
        assert set(found) == {"10:00-11:00", "02.00 PM-03.00 PM"}
        assert "at most 365 days ahead" in found["10:00-11:00"]
        assert not Slot.objects.exists()

    @pytest.mark.parametrize("raw", ["9999-12-31", "Friday, December 31, 9999"])
    def test_the_last_day_of_the_calendar_is_400_not_500(self, client_for, doctor, service, raw):
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": raw, "slot": ["11.00 PM-12.00 AM"]},
            service=service.pk,
        )
        assert response.status_code == 400
        assert "at most 365 days ahead" in errors(response)["11.00 PM-12.00 AM"]

    def test_the_first_day_of_the_calendar_is_past(self, client_for, doctor, service):
        response = post_slots(
            client_for(doctor),
            doctor,
            {"date": "0001-01-01", "slot": ["10-11"]},
            service=service.pk,
        )
        assert response.status_code == 400
        assert set(errors(response)) == {"10-11"}

    def test_the_horizon_day_itself_publishes(self, client_for, doctor, service):
        day = clinic_day(365)
        response = post_slots(
            client_for(doctor), doctor, {"date": wordy(day), "slot": ["10-11"]}, service=service.pk
        )
        assert response.status_code == 201, response.json()
        assert Slot.objects.get().start.date() in (day, day - timedelta(days=1))
