"""Ids and numbers from client text are ASCII digits only: int() and Python's \\d also read
Arabic-Indic and full-width digits, so another spelling of 3 would name booking 3."""

import pytest

from bookings.models import BookingStatus
from bookings.services import booking_create
from doctors_portal.ids import MAX_ID
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db

ARABIC_INDIC = str.maketrans("0123456789", "".join(chr(0x660 + d) for d in range(10)))
FULL_WIDTH = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))


@pytest.fixture
def booking(patient, stripe_settings):
    return booking_create(patient=patient, slot_id=SlotFactory().pk)


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    return body


@pytest.mark.parametrize("spelling", [ARABIC_INDIC, FULL_WIDTH])
def test_create_payment_intent_refuses_another_spelling_of_a_booking_id(
    patient, booking, client_for, spelling
):
    for field in ("bookingId", "bookingID"):
        body = {field: str(booking.pk).translate(spelling)}
        _error(client_for(patient).post("/api/v1/create-payment-intent", body, format="json"), 400)


def test_payment_refuses_another_spelling_of_a_booking_id(patient, booking, client_for):
    body = {"transactionid": "pi_abc", "bookingID": str(booking.pk).translate(ARABIC_INDIC)}
    refused = _error(client_for(patient).post("/api/v1/payment", body, format="json"), 400)
    assert [e["path"] for e in refused["errorMessages"]] == ["bookingID"]


@pytest.mark.parametrize("field", ["bookingId", "bookingID"])
def test_a_booking_id_beyond_bigint_is_a_bad_value(patient, client_for, field, stripe_settings):
    path = "/api/v1/create-payment-intent" if field == "bookingId" else "/api/v1/payment"
    body = {field: MAX_ID + 1, "transactionid": "pi_abc"}
    _error(client_for(patient).post(path, body, format="json"), 400)


def test_cancel_by_another_spelling_of_the_id_reaches_no_booking(patient, booking, client_for):
    path = f"/api/v1/bookings/{str(booking.pk).translate(ARABIC_INDIC)}/cancel"
    _error(client_for(patient).post(path, {}, format="json"), 404)
    booking.refresh_from_db()
    assert booking.status != BookingStatus.CANCELLED
    response = client_for(patient).get(f"/api/v1/bookings/{str(booking.pk).translate(FULL_WIDTH)}")
    _error(response, 404)


def test_users_by_another_spelling_of_the_id_is_404(patient, client_for):
    _error(client_for(patient).get(f"/api/v1/users/{str(patient.pk).translate(ARABIC_INDIC)}"), 404)


@pytest.mark.parametrize(
    "query",
    ["page=3".translate(ARABIC_INDIC), "limit=1".translate(FULL_WIDTH), "page=\uff13&limit=5"],
)
def test_paging_numbers_are_ascii(query, api_client):
    body = _error(api_client.get(f"/api/v1/doctors?{query}"), 400)
    assert body["errorMessages"]


def test_a_licence_expiry_in_full_width_digits_is_refused(doctor, client_for):
    response = client_for(doctor).patch(
        f"/api/v1/users/{doctor.pk}",
        {"licenseExpiresOn": "2030".translate(FULL_WIDTH) + "-01-01"},
        format="json",
    )
    _error(response, 400)
    doctor.doctor_profile.refresh_from_db()
    assert doctor.doctor_profile.license_expires_on is None
