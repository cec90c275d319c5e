"""Many patients press "book" on the same slot at the same moment, with real threads
and one database connection each. The database decides; exactly `capacity` win."""

import threading

import pytest
from django.db import connection

from bookings.models import Booking, BookingStatus
from scheduling.models import Slot
from tests.conftest import bearer_client
from tests.factories import PatientFactory, SlotFactory

PATIENTS = 30


def _storm(slot_id: int, clients) -> list[int]:
    barrier = threading.Barrier(len(clients))
    codes: list[int] = []
    lock = threading.Lock()

    def attempt(client):
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/v1/bookings", {"slotId": slot_id}, format="json")
            with lock:
                codes.append(response.status_code)
        finally:
            connection.close()  # each thread opened its own connection

    threads = [threading.Thread(target=attempt, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return codes


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_bookings_never_overbook(capacity):
    slot = SlotFactory(capacity=capacity)
    clients = [bearer_client(PatientFactory()) for _ in range(PATIENTS)]
    codes = _storm(slot.pk, clients)
    print(
        f"{connection.vendor}: capacity {capacity}: "
        f"{codes.count(201)} x 201, {codes.count(409)} x 409 of {len(codes)}"
    )
    assert len(codes) == PATIENTS
    assert codes.count(201) == capacity
    assert codes.count(409) == PATIENTS - capacity
    active = Booking.objects.filter(slot=slot, status=BookingStatus.PENDING_PAYMENT)
    assert active.count() == capacity
    assert active.values("patient").distinct().count() == capacity
    slot.refresh_from_db()
    assert slot.seats_taken == capacity


@pytest.mark.django_db(transaction=True)
def test_same_patient_double_click_books_once():
    slot = SlotFactory(capacity=5)
    patient = PatientFactory()
    codes = _storm(slot.pk, [bearer_client(patient) for _ in range(8)])
    assert sorted(codes) == [201] + [409] * 7
    assert Booking.objects.filter(slot=slot, patient=patient).count() == 1
    assert Slot.objects.get(pk=slot.pk).seats_taken == 1
