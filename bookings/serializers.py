"""Input parsing and the booking row of API.md, plus the reference's document shapes."""

from datetime import datetime

from rest_framework import serializers

from bookings.models import Booking, BookingStatus, PaymentStatus, is_paid
from bookings.services import CancellationResult
from scheduling import timefmt
from scheduling.serializers import enum_field


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
    return _shown_status(booking.status, booking.expires_at, now)


def _shown_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    if status == BookingStatus.PENDING_PAYMENT and expires_at and expires_at <= now:
        return BookingStatus.EXPIRED
    return status


def _iso(value: datetime | None) -> str | None:
    return timefmt.local_iso(value) if value else None


def row_values(booking: Booking) -> dict:
    """A booking instance (with its relations) as the ROW_VALUES dict the rows are built from."""
    slot, patient, doctor, service = booking.slot, booking.patient, booking.doctor, booking.service
    return {
        "id": booking.pk,
        "status": booking.status,
        "payment_status": booking.payment_status,
        "price": booking.price,
        "currency": booking.currency,
        "expires_at": booking.expires_at,
        "created_at": booking.created_at,
        "patient_phone": booking.patient_phone,
        "patient_id": patient.pk,
        "patient__name": patient.name,
        "patient__email": patient.email,
        "patient__phone": patient.phone,
        "doctor_id": doctor.pk,
        "doctor__name": doctor.name,
        "doctor__email": doctor.email,
        "slot__start": slot.start,
        "slot__end": slot.end,
        "service_id": service.pk,
        "service__name": service.name,
    }


def _values(booking: Booking | dict) -> dict:
    return booking if isinstance(booking, dict) else row_values(booking)


def booking_row(booking: Booking | dict, *, now: datetime) -> dict:
    """The booking row of API.md, from an instance or a ROW_VALUES dict."""
    b = _values(booking)
    status = b["status"]
    start, end, day, label = timefmt.slot_texts(b["slot__start"], b["slot__end"])
    return {
        "id": b["id"],
        "_id": b["id"],
        "status": _shown_status(status, b["expires_at"], now),
        "isPaid": is_paid(b["payment_status"]),
        "paymentStatus": b["payment_status"],
        "price": str(b["price"]),
        "currency": b["currency"],
        "treatment": b["service__name"],
        "doctor_email": b["doctor__email"],
        "AppointmentDate": day,
        "slot": label,
        "start": start,
        "end": end,
        "expiresAt": _iso(b["expires_at"]) if status == BookingStatus.PENDING_PAYMENT else None,
        "createdAt": _iso(b["created_at"]),
        "patient": {
            "id": b["patient_id"],
            "name": b["patient__name"],
            "email": b["patient__email"],
            "phone": b["patient_phone"] or b["patient__phone"],
        },
        "doctor": {"id": b["doctor_id"], "name": b["doctor__name"], "email": b["doctor__email"]},
        "service": {"id": b["service_id"], "name": b["service__name"]},
    }


def _patient_fields(b: dict) -> dict:
    return {
        "patient_id": b["patient_id"],
        "patient_name": b["patient__name"],
        "patient_email": b["patient__email"],
        "patient_Phone": b["patient_phone"] or b["patient__phone"],
    }


def booking_detail(booking: Booking | dict, *, now: datetime) -> dict:
    """GET booking/:id: the row plus the reference's patient fields and appointmentData list."""
    b = _values(booking)
    row = booking_row(b, now=now)
    return {
        **row,
        **_patient_fields(b),
        "appointmentData": [
            {
                "_id": row["id"],
                "doctor_email": row["doctor_email"],
                "treatment": row["treatment"],
                "price": row["price"],
                "AppointmentDate": row["AppointmentDate"],
                "slot": row["slot"],
                "isPaid": row["isPaid"],
            }
        ],
    }


def patient_document(*, patient, bookings: list[Booking | dict], now: datetime) -> dict:
    """GET bookings?email=: the reference's per-patient document."""
    return {
        "patient_id": patient.pk,
        "patient_name": patient.name,
        "patient_email": patient.email,
        "patient_Phone": patient.phone,
        "appointmentData": [booking_row(b, now=now) for b in bookings],
    }


def doctor_row(booking: Booking | dict, *, now: datetime) -> dict:
    """GET booking-doctor: the row plus patient fields and appointmentData as an object."""
    b = _values(booking)
    row = booking_row(b, now=now)
    return {
        **row,
        **_patient_fields(b),
        "appointmentData": {
            "treatment": row["treatment"],
            "AppointmentDate": row["AppointmentDate"],
            "slot": row["slot"],
            "price": row["price"],
            "isPaid": row["isPaid"],
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
