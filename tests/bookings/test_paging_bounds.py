"""page and limit are bounded integers on every paged list: a page from 1 to MAX_PAGE, a
page beyond the last is 200 with empty data (meta says the total), anything else is a 400
naming the parameter, never a 500 (a 20-digit page overflowed the databases' integers)."""

import pytest

from bookings.models import BookingStatus
from doctors_portal.api.pagination import MAX_PAGE
from tests.factories import BookingFactory
from tests.scheduling.helpers import errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def lists(admin_user, doctor, patient):
    BookingFactory(patient=patient, doctor=doctor, status=BookingStatus.CONFIRMED)
    return [
        (admin_user, "/api/v1/users", {}),
        (patient, "/api/v1/bookings", {"email": patient.email}),
        (doctor, "/api/v1/booking-doctor", {"email": doctor.email}),
    ]


def _items(body):
    data = body["data"]
    return data["appointmentData"] if isinstance(data, dict) else data


@pytest.mark.parametrize(
    "page", ["99999999999999999999", str(2**63), str(2**31), str(MAX_PAGE + 1), "0", "-1", "x"]
)
def test_a_page_out_of_bounds_is_400(client_for, lists, page):
    for user, path, query in lists:
        response = client_for(user).get(path, {**query, "page": page})
        assert response.status_code == 400, (path, response.content[:300])
        assert errors(response) == {"page": f"A whole number from 1 to {MAX_PAGE}."}


def test_a_page_beyond_the_last_is_empty(client_for, lists):
    for user, path, query in lists:
        first = client_for(user).get(path, query).json()
        total = first["meta"]["total"]
        assert total >= 1 and len(_items(first)) == total
        for page in (2, MAX_PAGE):
            response = client_for(user).get(path, {**query, "page": page, "limit": 100})
            assert response.status_code == 200, (path, response.content[:300])
            body = response.json()
            assert _items(body) == []
            assert body["meta"] == {"page": page, "limit": 100, "total": total}


@pytest.mark.parametrize("limit", ["99999999999999999999", str(2**63), "101"])
def test_a_huge_limit_is_capped(client_for, lists, limit):
    for user, path, query in lists:
        response = client_for(user).get(path, {**query, "limit": limit})
        assert response.status_code == 200, (path, response.content[:300])
        assert response.json()["meta"]["limit"] == 100


@pytest.mark.parametrize("limit", ["0", "-5", "ten", "9" * 5000])
def test_a_bad_limit_is_400(client_for, lists, limit):
    for user, path, query in lists:
        response = client_for(user).get(path, {**query, "limit": limit})
        assert response.status_code == 400
        assert set(errors(response)) == {"limit"}


def test_the_schema_says_so(api_client):
    schema = api_client.get("/api/v1/schema?format=json").json()
    for path in ("/api/v1/users/", "/api/v1/bookings/", "/api/v1/booking-doctor/"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert params["page"]["schema"] == {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}
        assert "beyond the last answers 200 with empty data" in params["page"]["description"]


@pytest.mark.parametrize("raw", ["9999-12-31", "0001-01-01"])
def test_booking_doctor_on_the_last_and_first_day_of_the_calendar_is_400(client_for, doctor, raw):
    response = client_for(doctor).get(
        "/api/v1/booking-doctor", {"email": doctor.email, "date": raw}
    )
    assert response.status_code == 400
    assert errors(response)["date"].startswith("Date out of range")
