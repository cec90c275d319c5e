"""appointmentOptions?service=<id>: one service's free places, for a date or the upcoming
window; an unknown service is a 400 naming the parameter."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import DoctorFactory, ServiceFactory, SlotFactory
from tests.scheduling.helpers import clinic_day, errors, slot_at

pytestmark = pytest.mark.django_db

URL = "/api/v1/appointmentOptions"


@pytest.fixture
def two_services(db):
    dental = ServiceFactory(name="Teeth Cleaning")
    cardio = ServiceFactory(name="Cardiology")
    doctor = DoctorFactory()
    day = clinic_day(2)
    a = slot_at(day, "10.00 AM-11.00 AM", doctor=doctor, service=dental)
    b = slot_at(day, "11.00 AM-12.00 PM", doctor=doctor, service=cardio)
    return dental, cardio, day, a, b


@pytest.mark.parametrize("with_date", [True, False])
def test_only_the_service_asked(api_client, two_services, with_date):
    dental, cardio, day, a, _b = two_services
    query = {"service": dental.pk, **({"date": day.isoformat()} if with_date else {})}
    response = api_client.get(URL, query)
    assert response.status_code == 200, response.content[:300]
    data = response.json()["data"]
    assert [(s["id"], [x["id"] for x in s["slots"]]) for s in data] == [(dental.pk, [a.pk])]
    assert data[0]["availableSpaces"] == 1
    everything = api_client.get(URL, {k: v for k, v in query.items() if k != "service"})
    assert {s["id"] for s in everything.json()["data"]} == {dental.pk, cardio.pk}


def test_by_name_too_and_blank_is_every_service(api_client, two_services):
    _dental, cardio, _day, _a, _b = two_services
    data = api_client.get(URL, {"service": "cardiology"}).json()["data"]
    assert [s["id"] for s in data] == [cardio.pk]
    assert len(api_client.get(URL, {"service": ""}).json()["data"]) == 2


def test_a_service_without_free_places_is_listed_empty(api_client, two_services):
    empty = ServiceFactory(name="Dermatology")
    data = api_client.get(URL, {"service": empty.pk}).json()["data"]
    assert data == [
        {
            "id": empty.pk,
            "_id": empty.pk,
            "name": "Dermatology",
            "price": str(empty.price),
            "currency": empty.currency,
            "availableSpaces": 0,
            "doctors": [],
            "slots": [],
        }
    ]


@pytest.mark.parametrize("bad", ["999999", "Astrology", "9" * 60, "-2", "1e3", "x" * 3000])
def test_a_bad_service_is_400(api_client, two_services, bad):
    for query in ({"service": bad}, {"service": bad, "date": two_services[2].isoformat()}):
        response = api_client.get(URL, query)
        assert response.status_code == 400, response.content[:300]
        assert set(errors(response)) == {"service"}


def test_an_inactive_service_is_400(api_client, two_services):
    retired = ServiceFactory(name="Retired", is_active=False)
    assert api_client.get(URL, {"service": retired.pk}).status_code == 400


def test_the_cached_answer_of_one_service_is_not_the_other(api_client, two_services):
    dental, cardio, day, a, _b = two_services
    for _ in range(2):  # the second read may come from the availability cache
        first = api_client.get(URL, {"service": dental.pk, "date": day.isoformat()})
        second = api_client.get(URL, {"service": cardio.pk, "date": day.isoformat()})
        assert [s["id"] for s in first.json()["data"]] == [dental.pk]
        assert [s["id"] for s in second.json()["data"]] == [cardio.pk]
    # A write shows at once in the filtered answer as in the whole one.
    start = timezone.now() + timedelta(days=3)
    later = SlotFactory(
        doctor=a.doctor, service=dental, start=start, end=start + timedelta(hours=1)
    )
    from scheduling.availability_cache import availability_changed

    availability_changed()
    data = api_client.get(URL, {"service": dental.pk}).json()["data"]
    assert later.pk in [s["id"] for s in data[0]["slots"]]
