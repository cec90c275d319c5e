"""Emails through the outbox (a failed send loses nothing) and paymentStatus where doctors look."""

import smtplib

import icalendar
import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from bookings.models import BookingStatus, PaymentStatus
from bookings.notifications import booking_calendar
from doctors_portal.models import OutboxMessage, OutboxStatus
from payments.models import ChargeStatus, Payment

PAY = "/api/v1/payment"


class BrokenSMTPBackend(BaseEmailBackend):
    """Django's test backend (locmem) never fails; a real mail server can. This one
    fails as an unreachable SMTP server does, to prove a failed send is only logged."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPConnectError(421, "mail server unavailable")


def confirm(client_for, booking, create_intent, pay):
    intent_id = create_intent(booking)
    pay(intent_id)
    return client_for(booking.patient).post(
        PAY, {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )


@pytest.mark.django_db
def test_email_failure_does_not_roll_back_the_payment(
    booking,
    client_for,
    create_intent,
    pay,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenSMTPBackend"

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client_for, booking, create_intent, pay)

    assert response.status_code == 200
    # Both mails were due and attempted after commit; they wait in the outbox to retry.
    rows = OutboxMessage.objects.filter(booking=booking)
    assert sorted(rows.values_list("kind", flat=True)) == [
        "booking_confirmed",
        "booking_new_for_doctor",
    ]
    for row in rows:
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
        assert "mail server unavailable" in row.last_error
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == ("confirmed", "paid")
    assert Payment.objects.get(booking=booking).status == ChargeStatus.SUCCEEDED


@pytest.mark.django_db
def test_emails_are_sent_only_after_commit(
    booking, client_for, create_intent, pay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        confirm(client_for, booking, create_intent, pay)
    assert mail.outbox == []  # nothing sent while the transaction was open
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [[booking.patient.email], [booking.doctor.email]]


@pytest.mark.django_db
def test_confirmation_emails_carry_a_parseable_ics_and_the_doctor_is_told(
    booking, client_for, create_intent, pay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client_for, booking, create_intent, pay)

    patient_mail, doctor_mail = mail.outbox
    ics = next(content for name, content, _ in patient_mail.attachments if name.endswith(".ics"))
    calendar = icalendar.Calendar.from_ical(ics)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == booking.slot.start
    assert f"Dr. {booking.doctor.name}" in str(event["summary"])
    assert booking.patient.name in doctor_mail.body
    assert doctor_mail.attachments == []
    assert any(alt[1] == "text/html" for alt in patient_mail.alternatives)


@pytest.mark.django_db
def test_booking_calendar_is_valid_icalendar(booking):
    calendar = icalendar.Calendar.from_ical(booking_calendar(booking))
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtend") - event.decoded("dtstart") == (
        booking.slot.end - booking.slot.start
    )


@pytest.mark.django_db
def test_booking_doctor_shows_the_real_payment_status_after_payment(
    booking, client_for, create_intent, pay
):
    doctor = client_for(booking.doctor)
    before = doctor.get("/api/v1/booking-doctor", {"email": booking.doctor.email})
    assert before.status_code == 200, before.json()
    assert before.json()["data"][0]["paymentStatus"] == "unpaid"

    assert confirm(client_for, booking, create_intent, pay).status_code == 200

    after = doctor.get("/api/v1/booking-doctor", {"email": booking.doctor.email})
    (row,) = after.json()["data"]
    assert row["paymentStatus"] == PaymentStatus.PAID
    assert row["status"] == BookingStatus.CONFIRMED
    assert row["isPaid"] is True
    assert row["appointmentData"]["isPaid"] is True
