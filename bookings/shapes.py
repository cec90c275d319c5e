"""The booking answers of API.md, each field defined once (doctors_portal.api.shapes).

`BOOKING_ROW.columns` is what the selectors read (one `.values()` row with the booking's
patient, doctor, slot and service); each shape builds its body from such a row and is
the serializer the schema shows. Shapes that extend the row reuse its fields.
"""

from datetime import datetime

from rest_framework import serializers

from bookings.models import BookingStatus, PaymentStatus, is_paid
from doctors_portal.api.shapes import Out, Shape
from scheduling import timefmt
from scheduling.serializers import enum_field


def shown_status(status: str, expires_at: datetime | None, now: datetime) -> str:
    """A pending booking whose hold lapsed is shown as expired."""
    if status == BookingStatus.PENDING_PAYMENT and expires_at and expires_at <= now:
        return BookingStatus.EXPIRED
    return status


def _iso(value: datetime | None) -> str | None:
    return timefmt.local_iso(value) if value else None


def _slot_text(index: int, schema: serializers.Field) -> Out:
    # timefmt.slot_texts: (start, end, date, label), converted once and cached.
    return Out(
        schema,
        "slot__start",
        "slot__end",
        value=lambda b, now: timefmt.slot_texts(b["slot__start"], b["slot__end"])[index],
    )


def _decimal() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=10, decimal_places=2)


# Fields more than one shape shows.
_id = Out(serializers.IntegerField(), "id")
_is_paid = Out(
    serializers.BooleanField(),
    "payment_status",
    value=lambda b, now: is_paid(b["payment_status"]),
)
_price = Out(_decimal(), "price", value=lambda b, now: str(b["price"]))
_treatment = Out(serializers.CharField(), "service__name")
_doctor_email = Out(serializers.EmailField(), "doctor__email")
_date = _slot_text(2, serializers.CharField())
_label = _slot_text(3, serializers.CharField())
_patient_id = Out(serializers.IntegerField(), "patient_id")
_patient_name = Out(serializers.CharField(), "patient__name")
_patient_email = Out(serializers.EmailField(), "patient__email")
# The phone given with the booking, else the account's.
_booking_phone = Out(
    serializers.CharField(allow_blank=True),
    "patient_phone",
    "patient__phone",
    value=lambda b, now: b["patient_phone"] or b["patient__phone"],
)

PATIENT = Shape(
    "PatientOut",
    id=_patient_id,
    name=_patient_name,
    email=_patient_email,
    phone=_booking_phone,
    # How often this patient did not come (attendance, bookings.services), for the doctor
    # and the clinic; read with the row (bookings.selectors.with_patient_no_shows).
    noShows=Out(serializers.IntegerField(min_value=0), "patient_no_shows"),
)
DOCTOR = Shape(
    "PersonOut",
    id=Out(serializers.IntegerField(), "doctor_id"),
    name=Out(serializers.CharField(), "doctor__name"),
    email=_doctor_email,
)
SERVICE = Shape(
    "ServiceRefOut",
    id=Out(serializers.IntegerField(), "service_id"),
    name=_treatment,
)

BOOKING_ROW = Shape(
    "BookingRowOut",
    id=_id,
    _id=_id,
    status=Out(
        enum_field(BookingStatus.values),
        "status",
        "expires_at",
        value=lambda b, now: shown_status(b["status"], b["expires_at"], now),
    ),
    isPaid=_is_paid,
    paymentStatus=Out(enum_field(PaymentStatus.values), "payment_status"),
    price=_price,
    currency=Out(serializers.CharField(), "currency"),
    treatment=_treatment,
    doctor_email=_doctor_email,
    AppointmentDate=_date,
    slot=_label,
    start=_slot_text(0, serializers.DateTimeField()),
    end=_slot_text(1, serializers.DateTimeField()),
    expiresAt=Out(
        serializers.DateTimeField(allow_null=True),
        "status",
        "expires_at",
        value=lambda b, now: (
            _iso(b["expires_at"]) if b["status"] == BookingStatus.PENDING_PAYMENT else None
        ),
    ),
    createdAt=Out(
        serializers.DateTimeField(), "created_at", value=lambda b, now: _iso(b["created_at"])
    ),
    patient=PATIENT,
    doctor=DOCTOR,
    service=SERVICE,
)

# The reference's patient fields beside a row.
_PATIENT_FIELDS = {
    "patient_id": _patient_id,
    "patient_name": _patient_name,
    "patient_email": _patient_email,
    "patient_Phone": _booking_phone,
}

APPOINTMENT = Shape(
    "AppointmentOut",
    treatment=_treatment,
    AppointmentDate=_date,
    slot=_label,
    price=_price,
    isPaid=_is_paid,
)
APPOINTMENT_ITEM = APPOINTMENT.extend("AppointmentItemOut", _id=_id, doctor_email=_doctor_email)

# GET booking/:id: the row, the patient fields, and appointmentData as a list of one.
BOOKING_DETAIL = BOOKING_ROW.extend(
    "BookingDetailOut", **_PATIENT_FIELDS, appointmentData=APPOINTMENT_ITEM.many()
)
# GET booking-doctor: the row, the patient fields, and appointmentData as an object.
DOCTOR_ROW = BOOKING_ROW.extend("DoctorRowOut", **_PATIENT_FIELDS, appointmentData=APPOINTMENT)
# POST booking/:id/cancel: the row as it is now, and what the cancellation refunded.
CANCELLATION = BOOKING_ROW.extend(
    "CancellationOut",
    refunded=Out(serializers.BooleanField(), "refunded"),
    refundAmount=Out(_decimal(), "refund_amount", value=lambda b, now: f"{b['refund_amount']:.2f}"),
    refundReason=Out(serializers.CharField(), "refund_reason"),
)
# GET bookings?email=: the reference's per-patient document; its patient fields are the
# account's, and appointmentData the page of rows.
PATIENT_DOCUMENT = Shape(
    "PatientDocumentOut",
    patient_id=_patient_id,
    patient_name=_patient_name,
    patient_email=_patient_email,
    patient_Phone=Out(serializers.CharField(allow_blank=True), "patient__phone"),
    appointmentData=Out(
        BOOKING_ROW.serializer(many=True),
        "rows",
        value=lambda d, now: [BOOKING_ROW(row, now) for row in d["rows"]],
    ),
)


def patient_document(*, patient, rows: list[dict], now: datetime) -> dict:
    return PATIENT_DOCUMENT(
        {
            "patient_id": patient.pk,
            "patient__name": patient.name,
            "patient__email": patient.email,
            "patient__phone": patient.phone,
            "rows": rows,
        },
        now,
    )


def cancellation(row: dict, result, *, now: datetime) -> dict:
    """The booking's row after `result` (bookings.services.CancellationResult)."""
    return CANCELLATION(
        {
            **row,
            "refunded": result.refunded,
            "refund_amount": result.refund_amount,
            "refund_reason": result.refund_reason,
        },
        now,
    )


# A waitlist entry (POST/GET waitlist), built from a bookings.selectors.waitlist_rows row.
WAITLIST_OFFER = Shape(
    "WaitlistOfferOut",
    slotId=Out(serializers.IntegerField(), "offer_slot_id"),
    start=Out(
        serializers.DateTimeField(), "offer_start", value=lambda e, now: _iso(e["offer_start"])
    ),
    end=Out(serializers.DateTimeField(), "offer_end", value=lambda e, now: _iso(e["offer_end"])),
    expiresAt=Out(
        serializers.DateTimeField(),
        "offer_expires_at",
        value=lambda e, now: _iso(e["offer_expires_at"]),
    ),
)


def _entry_status(e: dict, now: datetime) -> str:
    if e["status"] == "offered" and e["offer_expires_at"] <= now:
        return "lapsed"  # the next writer on the slot passes it on; shown lapsed at once
    return e["status"]


WAITLIST_ENTRY = Shape(
    "WaitlistEntryOut",
    id=Out(serializers.IntegerField(), "id"),
    _id=Out(serializers.IntegerField(), "id"),
    status=Out(
        enum_field(["waiting", "offered", "claimed", "lapsed", "left", "closed"]),
        "status",
        "offer_expires_at",
        value=_entry_status,
    ),
    slotId=Out(serializers.IntegerField(allow_null=True), "slot_id"),
    doctorId=Out(serializers.IntegerField(), "doctor_id"),
    doctorName=Out(serializers.CharField(), "doctor__name"),
    service=Out(serializers.CharField(allow_null=True), "service_name"),
    date=Out(serializers.DateField(), "day", value=lambda e, now: e["day"].isoformat()),
    start=Out(
        serializers.DateTimeField(allow_null=True),
        "slot_start",
        value=lambda e, now: _iso(e["slot_start"]),
    ),
    place=Out(serializers.IntegerField(allow_null=True), "place"),
    offer=Out(
        WAITLIST_OFFER.serializer(allow_null=True),
        *WAITLIST_OFFER.columns,
        "status",
        value=lambda e, now: WAITLIST_OFFER(e, now) if _entry_status(e, now) == "offered" else None,
    ),
    bookingId=Out(serializers.IntegerField(allow_null=True), "booking_id"),
    createdAt=Out(
        serializers.DateTimeField(), "created_at", value=lambda e, now: _iso(e["created_at"])
    ),
)
