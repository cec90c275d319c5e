"""Input parsing of the booking endpoints (the answers' shapes are in bookings.shapes)."""

import copy
from datetime import datetime

from rest_framework import serializers

from bookings.models import Booking
from bookings.shapes import shown_status
from doctors_portal.api.fields import FlexibleIdField


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

    def get_fields(self):
        # DRF deep-copies the eleven declared fields for every instance (a tenth of the
        # booking write's CPU in process); these are flat fields whose state after
        # __init__ (kwargs, validators, messages) is only read, and bind() sets the
        # copy's own name and parent: a shallow copy each is the same field, cheaper.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

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
    return shown_status(booking.status, booking.expires_at, now)


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


class RescheduleInput(serializers.Serializer):
    slotId = FlexibleIdField(min_value=1)


class AttendanceInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=["completed", "no_show"])


class WaitlistJoinInput(serializers.Serializer):
    slotId = FlexibleIdField(required=False, min_value=1)
    doctorId = FlexibleIdField(required=False, min_value=1)
    date = serializers.CharField(required=False, max_length=64)

    def validate(self, attrs):
        if "slotId" in attrs:
            return attrs
        missing = [k for k in ("doctorId", "date") if not attrs.get(k)]
        if missing:
            raise serializers.ValidationError(
                {name: ["Send slotId, or doctorId and date."] for name in missing}
            )
        return attrs


# Request shapes, for the OpenAPI schema (WaitlistJoinInput parses the body).


class WaitlistBySlotDoc(serializers.Serializer):
    slotId = serializers.IntegerField(min_value=1)


class WaitlistByDayDoc(serializers.Serializer):
    doctorId = serializers.IntegerField(min_value=1)
    date = serializers.CharField(help_text='"2026-05-27" or "Saturday, May 27, 2026"')
