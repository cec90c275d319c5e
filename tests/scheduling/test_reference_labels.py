"""The reference client's own slot labels, and the reference README's sample, read as the
client means them: its "12.00 AM" is noon where midnight would make no sense.

REFERENCE_CLIENT_LABELS are the option values of the schedule form of the reference web
client (MakeSchedule.js), as data; README_SAMPLE is the slot of the reference README's
`POST slots` example."""

from datetime import time

import pytest

from bookings.models import Booking
from scheduling import timefmt
from scheduling.models import Slot
from tests.factories import ServiceFactory
from tests.scheduling.helpers import clinic_day, errors, post_slots, wordy

pytestmark = pytest.mark.django_db

REFERENCE_CLIENT_LABELS = {
    "10.00 AM-12.00 AM": (time(10), time(12), "10.00 AM-12.00 PM"),
    "12.00 AM-02.00 PM": (time(12), time(14), "12.00 PM-02.00 PM"),
    "02.00 PM-03.00 PM": (time(14), time(15), "02.00 PM-03.00 PM"),
    "03.00 Pm-04.00 PM": (time(15), time(16), "03.00 PM-04.00 PM"),
}
README_SAMPLE = ["12.00 AM-02.00 PM", "03.00 Pm-04.00 PM"]


@pytest.mark.parametrize(("label", "expected"), REFERENCE_CLIENT_LABELS.items())
def test_reference_client_labels_parse_as_the_client_means(label, expected):
    start, end, _shown = expected
    assert timefmt.parse_label(label) == (start, end, False)


@pytest.mark.parametrize(
    ("label", "start", "end", "next_day"),
    [
        ("11.00 PM-12.00 AM", time(23), time(0), True),  # midnight makes sense: kept
        ("12.00 AM-01.00 AM", time(0), time(1), False),
        ("12.30 AM-02.00 AM", time(0, 30), time(2), False),
        ("08.00 PM-12.00 AM", time(20), time(0), True),  # exactly MAX_SLOT_MINUTES
        ("11.30 AM-12.30 AM", time(11, 30), time(12, 30), False),
        ("12:00-14:00", time(12), time(14), False),
    ],
)
def test_midnight_stays_midnight_where_it_makes_sense(label, start, end, next_day):
    assert timefmt.parse_label(label) == (start, end, next_day)


@pytest.mark.parametrize(
    "label", ["08.00 AM-05.00 PM", "07.00 PM-12.00 AM", "00:00-23:00", "12.00 AM-12.00 AM"]
)
def test_longer_than_max_slot_minutes_is_refused(label):
    with pytest.raises(timefmt.TimeFormatError, match="at most 240 minutes"):
        timefmt.parse_label(label)


def test_max_slot_minutes_is_a_setting(settings):
    settings.MAX_SLOT_MINUTES = 900
    assert timefmt.parse_label("08.00 AM-05.00 PM") == (time(8), time(17), False)
    # With room for it, the midnight reading is the first that makes sense.
    assert timefmt.parse_label("10.00 AM-12.00 AM") == (time(10), time(0), True)


def test_the_client_schedule_form_publishes_every_label(client_for, doctor):
    """All four options on one date: before, 10:00-24:00 and 00:00-14:00 overlapped (400)."""
    service = ServiceFactory(name="Teeth Cleaning")
    day = clinic_day(3)
    response = post_slots(
        client_for(doctor),
        doctor,
        {"date": wordy(day), "slot": list(REFERENCE_CLIENT_LABELS)},
        service=service.name,
    )
    assert response.status_code == 201, response.json()
    shown = [expected[2] for expected in REFERENCE_CLIENT_LABELS.values()]
    assert response.json()["data"]["docSlot"] == [{"date": wordy(day), "slot": shown}]
    slots = list(Slot.objects.filter(doctor=doctor).order_by("start"))
    assert [(s.start, s.end) for s in slots] == [
        (
            timefmt.local_to_utc(day, start),
            timefmt.local_to_utc(day, end),
        )
        for start, end, _ in REFERENCE_CLIENT_LABELS.values()
    ]


def test_readme_sample_is_a_two_hour_noon_slot(client_for, doctor):
    service = ServiceFactory(name="Teeth Cleaning")
    days = [clinic_day(4), clinic_day(5)]
    response = post_slots(
        client_for(doctor),
        doctor,
        *({"date": wordy(day), "slot": README_SAMPLE} for day in days),
        service=service.pk,
    )
    assert response.status_code == 201, response.json()
    noon = Slot.objects.filter(doctor=doctor).order_by("start").first()
    assert noon.start == timefmt.local_to_utc(days[0], time(12))
    assert (noon.end - noon.start).total_seconds() == 2 * 3600
    assert Slot.objects.filter(doctor=doctor).count() == 4


def test_a_slot_longer_than_max_is_400_naming_the_label(client_for, doctor):
    service = ServiceFactory(name="Teeth Cleaning")
    response = post_slots(
        client_for(doctor),
        doctor,
        {"date": wordy(clinic_day(3)), "slot": ["08.00 AM-05.00 PM", "02.00 PM-03.00 PM"]},
        service=service.pk,
    )
    assert response.status_code == 400
    assert "at most 240 minutes" in errors(response)["08.00 AM-05.00 PM"]
    assert not Slot.objects.exists()


def test_booking_by_the_client_label_finds_the_noon_slot(client_for, doctor, patient):
    service = ServiceFactory(name="Teeth Cleaning")
    day = clinic_day(3)
    created = post_slots(
        client_for(doctor),
        doctor,
        {"date": wordy(day), "slot": ["10.00 AM-12.00 AM"]},
        service=service.pk,
    )
    assert created.status_code == 201, created.json()
    response = client_for(patient).post(
        "/api/v1/bookings",
        {
            "doctor_email": doctor.email,
            "AppointmentDate": wordy(day),
            "slot": "10.00 AM-12.00 AM",
            "treatment": service.name,
            "patient_email": patient.email,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert Booking.objects.get().slot == Slot.objects.get(doctor=doctor)
