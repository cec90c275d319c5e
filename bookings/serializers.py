"""Input parsing and the booking row of API.md, plus the reference's document shapes."""

from datetime import datetime

from rest_framework import serializers

from bookings.models import Booking, BookingStatus, PaymentStatus
from bookings.services import CancellationResult
from scheduling import timefmt
from scheduling.serializers import enum_field

PAID_STATUSES = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)


class FlexibleIdField(serializers.IntegerField):
    """A positive id as a JSON number or a string of digits; never true/false or 1.5."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        if isinstance(data, str) and not data.strip().isdigit():
            self.fail("invalid")
        return super().to_internal_value(data)


class PhoneField(serializers.CharField):
    """The reference client sends the phone as a number (12345) or a string."""

    def to_internal_value(self, data):
        if isinstance(data, int) and not isinstance(data, bool):
            data = str(data)
        return super().to_internal_value(data)


class BookingCreateInput(serializers.Serializer):
    slotId = FlexibleIdField(required=False, min_value=1)
    doctor_email = serializers.EmailField(required=False)
    AppointmentDate = serializers.CharField(required=False)
    slot = serializers.CharField(required=False)
    treatment = serializers.CharField(required=False, allow_blank=True)
    patient_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    patient_email = serializers.EmailField(required=False)
    patient_Phone = PhoneField(required=False, allow_blank=True, max_length=32)
    # Sent by the reference client and ignored on purpose: the server sets them.
    price = serializers.JSONField(required=False)
    isPaid = serializers.JSONField(required=False)
    patient_id = serializers.JSONField(required=False)

    def validate(self, attrs):
        if "slotId" in attrs:
            return attrs
        missing = [k for k in ("doctor_email", "AppointmentDate", "slot") if not attrs.get(k)]
        if missing:
            raise serializers.ValidationError(
                {
                    name: ["Send slotId, or doctor_email, AppointmentDate and slot."]
                    for name in missing
                }
            )
        return attrs


def display_status(booking: Booking, now: datetime) -> str:
    if (
        booking.status == BookingStatus.PENDING_PAYMENT
        and booking.expires_at
        and booking.expires_at <= now
    ):
        return BookingStatus.EXPIRED
    return booking.status


def _iso(value: datetime | None) -> str | None:
    return timefmt.local_iso(value) if value else None


def booking_row(booking: Booking, *, now: datetime) -> dict:
    slot, patient, doctor, service = booking.slot, booking.patient, booking.doctor, booking.service
    return {
        "id": booking.pk,
        "_id": booking.pk,
        "status": display_status(booking, now),
        "isPaid": booking.payment_status in PAID_STATUSES,
        "paymentStatus": booking.payment_status,
        "price": str(booking.price),
        "currency": booking.currency,
        "treatment": service.name,
        "doctor_email": doctor.email,
        "AppointmentDate": timefmt.format_date(slot.start),
        "slot": timefmt.format_label(slot.start, slot.end),
        "start": _iso(slot.start),
        "end": _iso(slot.end),
        "expiresAt": _iso(booking.expires_at)
        if booking.status == BookingStatus.PENDING_PAYMENT
        else None,
        "createdAt": _iso(booking.created_at),
        "patient": {
            "id": patient.pk,
            "name": patient.name,
            "email": patient.email,
            "phone": booking.patient_phone or patient.phone,
        },
        "doctor": {"id": doctor.pk, "name": doctor.name, "email": doctor.email},
        "service": {"id": service.pk, "name": service.name},
    }


def _patient_fields(booking: Booking) -> dict:
    return {
        "patient_id": booking.patient_id,
        "patient_name": booking.patient.name,
        "patient_email": booking.patient.email,
        "patient_Phone": booking.patient_phone or booking.patient.phone,
    }


def _appointment(booking: Booking) -> dict:
    return {
        "_id": booking.pk,
        "doctor_email": booking.doctor.email,
        "treatment": booking.service.name,
        "price": str(booking.price),
        "AppointmentDate": timefmt.format_date(booking.slot.start),
        "slot": timefmt.format_label(booking.slot.start, booking.slot.end),
        "isPaid": booking.payment_status in PAID_STATUSES,
    }


def booking_detail(booking: Booking, *, now: datetime) -> dict:
    """GET booking/:id: the row plus the reference's patient fields and appointmentData list."""
    return {
        **booking_row(booking, now=now),
        **_patient_fields(booking),
        "appointmentData": [_appointment(booking)],
    }


def patient_document(*, patient, bookings: list[Booking], now: datetime) -> dict:
    """GET bookings?email=: the reference's per-patient document."""
    return {
        "patient_id": patient.pk,
        "patient_name": patient.name,
        "patient_email": patient.email,
        "patient_Phone": patient.phone,
        "appointmentData": [booking_row(b, now=now) for b in bookings],
    }


def doctor_row(booking: Booking, *, now: datetime) -> dict:
    """GET booking-doctor: the row plus patient fields and appointmentData as an object."""
    appointment = _appointment(booking)
    return {
        **booking_row(booking, now=now),
        **_patient_fields(booking),
        "appointmentData": {
            key: appointment[key]
            for key in ("treatment", "AppointmentDate", "slot", "price", "isPaid")
        },
    }


def cancellation_out(result: CancellationResult, *, now: datetime) -> dict:
    return {
        **booking_row(result.booking, now=now),
        "refunded": result.refunded,
        "refundAmount": f"{result.refund_amount:.2f}",
        "refundReason": result.refund_reason,
    }


# Response shapes, for the OpenAPI schema (the functions above build the bodies).


class PersonOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class PatientOut(PersonOut):
    phone = serializers.CharField(allow_blank=True)


class ServiceRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BookingRowOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    status = enum_field(BookingStatus.values)
    isPaid = serializers.BooleanField()
    paymentStatus = enum_field(PaymentStatus.values)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    treatment = serializers.CharField()
    doctor_email = serializers.EmailField()
    AppointmentDate = serializers.CharField()
    slot = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    expiresAt = serializers.DateTimeField(allow_null=True)
    createdAt = serializers.DateTimeField()
    patient = PatientOut()
    doctor = PersonOut()
    service = ServiceRefOut()


class AppointmentOut(serializers.Serializer):
    treatment = serializers.CharField()
    AppointmentDate = serializers.CharField()
    slot = serializers.CharField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    isPaid = serializers.BooleanField()


class AppointmentItemOut(AppointmentOut):
    _id = serializers.IntegerField()
    doctor_email = serializers.EmailField()


class PatientFieldsOut(serializers.Serializer):
    patient_id = serializers.IntegerField()
    patient_name = serializers.CharField()
    patient_email = serializers.EmailField()
    patient_Phone = serializers.CharField(allow_blank=True)


class BookingDetailOut(BookingRowOut, PatientFieldsOut):
    appointmentData = AppointmentItemOut(many=True)


class PatientDocumentOut(PatientFieldsOut):
    appointmentData = BookingRowOut(many=True)


class DoctorRowOut(BookingRowOut, PatientFieldsOut):
    appointmentData = AppointmentOut()


class CancellationOut(BookingRowOut):
    refunded = serializers.BooleanField()
    refundAmount = serializers.DecimalField(max_digits=10, decimal_places=2)
    refundReason = serializers.CharField()


# Request shapes, for the OpenAPI schema (BookingCreateInput parses the body).


class BookingBySlotDoc(serializers.Serializer):
    slotId = serializers.IntegerField(min_value=1)


class BookingReferenceDoc(serializers.Serializer):
    doctor_email = serializers.EmailField()
    AppointmentDate = serializers.CharField(help_text='"Saturday, May 27, 2023" or "2026-05-27"')
    slot = serializers.CharField(help_text='"12.00 PM-02.00 PM" or "12:00-14:00"')
    treatment = serializers.CharField(required=False, help_text="The service's name")
    patient_name = serializers.CharField(required=False, max_length=150)
    patient_email = serializers.EmailField(required=False, help_text="Must be the caller's")
    patient_Phone = serializers.CharField(required=False, max_length=32)
