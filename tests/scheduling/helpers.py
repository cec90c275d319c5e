"""Small helpers shared by the scheduling and bookings tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from scheduling import timefmt


def clinic_day(days_ahead: int):
    return timefmt.clinic_today(timezone.now()) + timedelta(days=days_ahead)


def wordy(day) -> str:
    return timefmt.format_date(day)


def slot_at(day, label: str, **fields):
    """A SlotFactory slot at a clinic-local date and label."""
    from tests.factories import SlotFactory

    interval = timefmt.label_to_interval(day, label)
    return SlotFactory(start=interval.start, end=interval.end, **fields)


def errors(response) -> dict:
    return {item["path"]: item["message"] for item in response.json()["errorMessages"]}


def post_slots(client, doctor, *entries, **extra):
    body = {"docEmail": doctor.email, "docSlot": list(entries), **extra}
    return client.post("/api/v1/slots", body, format="json")


# A write announces itself to the availability cache after its transaction commits
# (availability_cache.availability_changed), which a test inside pytest-django's rolled
# back transaction never does: a test of what a read shows after a write commits for real.
commits = pytest.mark.django_db(transaction=True)
