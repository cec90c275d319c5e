"""Small helpers shared by the scheduling and bookings tests."""

from datetime import timedelta

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
