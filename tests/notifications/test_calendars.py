"""Calendars (API.md "Calendars"): every .ics parsed with `icalendar` and checked for
the RFC 5545 properties calendar apps rely on."""

from datetime import UTC, timedelta
from decimal import Decimal

import icalendar
import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from bookings.models import BookingStatus
from bookings.notifications import booking_uid, notify_booking_cancelled, notify_booking_confirmed
from calendars.models import CalendarFeed
from tests.conftest import bearer_client
from tests.factories import BookingFactory, PatientFactory, SlotFactory

pytestmark = pytest.mark.django_db


def confirmed_booking(**fields):
    start = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    return BookingFactory(
        slot=SlotFactory(start=start, end=start + timedelta(hours=1)),
        status=BookingStatus.CONFIRMED,
        expires_at=None,
        **fields,
    )


def parse(ics: bytes, *, method: str | None) -> list:
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["version"]) == "2.0"
    assert str(calendar["prodid"]).startswith("-//Doctors Portal//")
    if method is None:
        assert "method" not in calendar or str(calendar["method"]) == "PUBLISH"
    else:
        assert str(calendar["method"]) == method
    events = calendar.walk("VEVENT")
    for event in events:
        for prop in ("uid", "dtstamp", "dtstart", "dtend", "sequence", "status", "organizer"):
            assert prop in event, prop
        assert event.decoded("dtstart").utcoffset() == timedelta(0)  # UTC
        assert event.decoded("dtend") > event.decoded("dtstart")
    return events


def ics_of(message) -> bytes:
    (ics,) = [content for name, content, _ in message.attachments if name.endswith(".ics")]
    return ics if isinstance(ics, bytes) else ics.encode()


def test_confirm_sends_request_and_cancel_sends_cancel_with_one_uid_and_rising_sequence(
    django_capture_on_commit_callbacks,
):
    booking = confirmed_booking()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_booking_confirmed(booking=booking)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        booking.status = BookingStatus.CANCELLED
        booking.save(update_fields=["status"])
        notify_booking_cancelled(booking=booking, refund_amount=Decimal("0"))

    confirmation, _doctor_new, cancellation, _doctor_cancel = mail.outbox
    (request,) = parse(ics_of(confirmation), method="REQUEST")
    (cancel,) = parse(ics_of(cancellation), method="CANCEL")
    assert str(request["uid"]) == str(cancel["uid"]) == booking_uid(booking)
    assert (request["sequence"], cancel["sequence"]) == (0, 1)
    assert (str(request["status"]), str(cancel["status"])) == ("CONFIRMED", "CANCELLED")
    assert request.decoded("dtstart") == booking.slot.start.astimezone(UTC)
    assert str(request["organizer"]) == f"mailto:{booking.doctor.email}"
    assert str(request["attendee"]) == f"mailto:{booking.patient.email}"
    assert "text/calendar; method=REQUEST" in [m for _, _, m in confirmation.attachments]


def test_feed_token_is_random_stored_hashed_and_rotatable(client):
    booking = confirmed_booking()
    patient = bearer_client(booking.patient)
    answer = patient.post("/api/v1/calendar/token")
    assert answer.status_code == 201, answer.content
    token = answer.json()["data"]["token"]
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    assert answer.json()["data"]["url"].endswith(f"/api/v1/calendar/{token}.ics")
    assert not CalendarFeed.objects.filter(token_sha256=token).exists()
    assert token not in str(list(CalendarFeed.objects.values_list(flat=True)))

    feed = client.get(f"/api/v1/calendar/{token}.ics")  # no login
    assert feed.status_code == 200
    assert feed["Content-Type"].startswith("text/calendar")
    (event,) = parse(feed.content, method=None)
    assert str(event["uid"]) == booking_uid(booking)

    rotated = patient.post("/api/v1/calendar/token").json()["data"]["token"]
    assert rotated != token
    old = client.get(f"/api/v1/calendar/{token}.ics")
    assert old.status_code == 404
    assert old.json()["success"] is False
    assert client.get(f"/api/v1/calendar/{rotated}.ics").status_code == 200


def test_patients_feed_has_their_appointments_and_doctors_feed_their_booked_slots(client):
    mine = confirmed_booking()
    confirmed_booking()  # someone else's
    pending = BookingFactory(patient=mine.patient)  # not an appointment yet
    doctor_booking = confirmed_booking(patient=PatientFactory())
    token = bearer_client(mine.patient).post("/api/v1/calendar/token").json()["data"]["token"]
    uids = {str(e["uid"]) for e in parse(client.get(f"/api/v1/calendar/{token}.ics").content,
                                         method=None)}  # fmt: skip
    assert uids == {booking_uid(mine)}
    assert booking_uid(pending) not in uids

    doctor = doctor_booking.doctor
    token = bearer_client(doctor).post("/api/v1/calendar/token").json()["data"]["token"]
    events = parse(client.get(f"/api/v1/calendar/{token}.ics").content, method=None)
    assert {str(e["uid"]) for e in events} == {booking_uid(doctor_booking)}


def test_unknown_or_malformed_tokens_are_404_in_the_envelope(client):
    for path in ("/api/v1/calendar/" + "a" * 43 + ".ics", "/api/v1/calendar/x.ics"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["success"] is False


def test_add_to_calendar_downloads_the_booking_for_its_patient_only(client):
    booking = confirmed_booking()
    client.force_login(booking.patient)
    page = client.get("/appointments/")
    download = f"/appointments/{booking.pk}/calendar.ics"
    assert page.status_code == 200
    assert download.encode() in page.content  # the "Add to calendar" link
    response = client.get(download)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    (event,) = parse(response.content, method=None)
    assert str(event["uid"]) == booking_uid(booking)

    client.force_login(booking.doctor)
    dashboard = client.get("/appointments/", follow=True)
    assert download.encode() in dashboard.content
    assert client.get(download).status_code == 200

    client.force_login(PatientFactory())
    assert client.get(download).status_code == 404


def test_one_display_name_and_one_time_format_in_mails_and_ics(
    django_capture_on_commit_callbacks,
):
    from scheduling import timefmt
    from tests.factories import DoctorFactory

    doctor = DoctorFactory(name="Dr. Tanvir Karim")
    start = (timezone.now() + timedelta(days=2)).replace(hour=4, minute=0, second=0,
                                                           microsecond=0)  # fmt: skip
    booking = BookingFactory(
        slot=SlotFactory(doctor=doctor, start=start, end=start + timedelta(hours=1)),
        status=BookingStatus.CONFIRMED,
        expires_at=None,
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify_booking_confirmed(booking=booking)
    label = timefmt.format_label(booking.slot.start, booking.slot.end)  # the site's text
    assert "." in label and ":" not in label
    for message in mail.outbox:
        text = message.subject + message.body + "".join(a[0] for a in message.alternatives)
        assert "Dr. Dr." not in text
        assert label in text
    assert "Dr. Tanvir Karim" in mail.outbox[0].body
    (event,) = parse(ics_of(mail.outbox[0]), method="REQUEST")
    assert str(event["summary"]).endswith("with Dr. Tanvir Karim")
    assert event["organizer"].params["cn"] == "Dr. Tanvir Karim"
