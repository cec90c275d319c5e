"""A booking that waits on the patient's row lock while that patient is being erased
must not go on with the user it loaded before: real threads on PostgreSQL."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from accounts.models import User
from accounts.services import user_erase
from bookings.models import Booking
from scheduling.models import Slot
from tests.accounts.erasure_helpers import future_slot
from tests.conftest import bearer_client
from tests.factories import AdminFactory, DoctorFactory, PatientFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Row locks: PostgreSQL (SQLite locks the whole database).
    pytest.mark.postgresql_only,
]


def _someone_waits_for_a_lock(timeout: float = 20) -> bool:
    """True once another connection waits for a row lock (pg_stat_activity)."""
    deadline = time.monotonic() + timeout
    with connections["default"].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


def test_a_booking_waiting_on_the_erasure_is_refused_and_leaves_nothing():
    admin = AdminFactory()
    patient = PatientFactory(phone="+49 30 1231231")
    slot = future_slot(DoctorFactory())
    client = bearer_client(patient)  # the token is valid: the user was live when it was made
    erased_but_not_committed = threading.Event()
    may_commit = threading.Event()
    result = {}

    def erase():
        try:
            with transaction.atomic():
                user_erase(actor=admin, user=User.objects.get(pk=patient.pk))
                erased_but_not_committed.set()
                may_commit.wait(timeout=30)
        finally:
            connection.close()

    def book():
        try:
            erased_but_not_committed.wait(timeout=30)
            # Authentication reads the committed row (still live), then the booking waits
            # on the patient's row lock the erasure holds.
            result["response"] = client.post("/api/v1/bookings", {"slotId": slot.pk}, format="json")
        finally:
            connection.close()

    eraser, booker = threading.Thread(target=erase), threading.Thread(target=book)
    eraser.start()
    booker.start()
    assert erased_but_not_committed.wait(timeout=30)
    waited = _someone_waits_for_a_lock()
    may_commit.set()
    eraser.join(timeout=60)
    booker.join(timeout=60)
    assert waited, "the booking never waited on the erasure's lock"

    response = result["response"]
    assert response.status_code == 403, response.content
    body = response.json()
    assert (
        body["message"] == "Permission Denied" and "deleted" in body["errorMessages"][0]["message"]
    )
    # Nothing was booked for the erased user: no hold, no copied phone, the seat free.
    assert not Booking.objects.filter(patient_id=patient.pk).exists()
    assert Slot.objects.get(pk=slot.pk).seats_taken == 0
    assert not Booking.objects.filter(patient_phone="+49 30 1231231").exists()


def test_an_erased_user_cannot_book_at_all(client_for):
    from bookings.services import AccountGone, booking_create

    patient = PatientFactory()
    slot = future_slot(DoctorFactory())
    stale = User.objects.get(pk=patient.pk)
    user_erase(actor=AdminFactory(), user=patient)
    with pytest.raises(AccountGone):
        booking_create(patient=stale, slot_id=slot.pk)
