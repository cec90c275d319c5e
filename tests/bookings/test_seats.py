"""The seat ledger is one module (bookings.seats); cancelling is refused once a slot starts."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from bookings import services
from bookings.models import Booking, BookingStatus
from scheduling.models import Slot
from tests.factories import PatientFactory, SlotFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def confirmed(doctor):
    slot = SlotFactory(doctor=doctor)
    booking = services.booking_create(patient=PatientFactory(), slot_id=slot.pk)
    services.booking_confirm_paid(booking_id=booking.pk)
    return booking


@pytest.mark.parametrize("who", ["patient", "doctor", "admin_user"])
def test_cancelling_after_the_slot_started_is_409_through_the_api(
    request, confirmed, client_for, who
):
    canceller = {
        "patient": lambda: confirmed.patient,
        "doctor": lambda: confirmed.doctor,
        "admin_user": lambda: request.getfixturevalue("admin_user"),
    }[who]()
    with time_machine.travel(confirmed.slot.start + timedelta(minutes=1), tick=False):
        response = client_for(canceller).post(f"/api/v1/bookings/{confirmed.pk}/cancel")

    assert response.status_code == 409, response.json()
    assert response.json()["message"] == "Conflict"
    assert "already started" in response.json()["errorMessages"][0]["message"]
    confirmed.refresh_from_db()
    assert confirmed.status == BookingStatus.CONFIRMED
    assert Slot.objects.get(pk=confirmed.slot_id).seats_taken == 1


def test_cancelling_just_before_the_start_still_works(confirmed, client_for):
    with time_machine.travel(confirmed.slot.start - timedelta(minutes=1), tick=False):
        response = client_for(confirmed.patient).post(f"/api/v1/bookings/{confirmed.pk}/cancel")

    assert response.status_code == 200, response.json()
    assert Booking.objects.get(pk=confirmed.pk).status == BookingStatus.CANCELLED
    assert Slot.objects.get(pk=confirmed.slot_id).seats_taken == 0


def test_only_the_seat_module_changes_seats_taken():
    """Seats are taken and given back in bookings/seats.py alone (ast over the apps)."""
    writers = set()
    for app in ("accounts", "scheduling", "bookings", "payments"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and any(
                    k.arg == "seats_taken" for k in node.keywords
                ):
                    writers.add(str(path.relative_to(ROOT)))
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [node.target]
                    if isinstance(node, ast.AugAssign)
                    else []
                )
                if any(isinstance(t, ast.Attribute) and t.attr == "seats_taken" for t in targets):
                    writers.add(str(path.relative_to(ROOT)))
    assert writers == {"bookings/seats.py"}


def test_a_paid_booking_is_not_cancelled_without_a_refunder(confirmed, client_for, monkeypatch):
    # payments registers the refunder at start-up; with none, cancelling fails closed.
    Booking.objects.filter(pk=confirmed.pk).update(payment_status="paid")
    monkeypatch.setattr(services, "_refunders", [])

    response = client_for(confirmed.doctor).post(f"/api/v1/bookings/{confirmed.pk}/cancel")

    assert response.status_code == 409
    assert Booking.objects.get(pk=confirmed.pk).status == BookingStatus.CONFIRMED


def test_payments_registers_its_refund_with_bookings():
    from payments.services import payment_refund_booking

    assert services._refunders == [payment_refund_booking]
