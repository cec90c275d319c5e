"""Each booking answer is defined once (bookings.shapes): the body an endpoint sends has
exactly the fields its schema component shows, nested objects too."""

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from bookings import selectors, shapes
from bookings.models import BookingStatus
from tests.factories import AdminFactory, BookingFactory

pytestmark = pytest.mark.django_db


def _keys(body, serializer) -> None:
    fields = serializer.fields
    assert list(body) == list(fields)
    for name, field in fields.items():
        child = getattr(field, "child", None)  # many=True
        if hasattr(field, "fields"):
            _keys(body[name], field)
        elif child is not None and hasattr(child, "fields"):
            for item in body[name]:
                _keys(item, child)


def test_every_shape_builds_the_fields_its_serializer_declares():
    booking = BookingFactory(status=BookingStatus.PENDING_PAYMENT)
    row = selectors.booking_row_get(user=AdminFactory(), booking_id=booking.pk)
    assert set(row) == set(shapes.BOOKING_ROW.columns)
    now = timezone.now()
    result = SimpleNamespace(refunded=True, refund_amount=Decimal("5"), refund_reason="Policy")
    built = {
        shapes.BOOKING_ROW: shapes.BOOKING_ROW(row, now),
        shapes.BOOKING_DETAIL: shapes.BOOKING_DETAIL(row, now),
        shapes.DOCTOR_ROW: shapes.DOCTOR_ROW(row, now),
        shapes.CANCELLATION: shapes.cancellation(row, result, now=now),
        shapes.PATIENT_DOCUMENT: shapes.patient_document(
            patient=booking.patient, rows=[row, row], now=now
        ),
    }
    for shape, body in built.items():
        _keys(body, shape.serializer())


def test_the_served_schema_lists_the_rows_fields(client):
    booking = BookingFactory()
    row = selectors.booking_row_get(user=AdminFactory(), booking_id=booking.pk)
    schema = json.loads(client.get("/api/v1/schema?format=json").content)
    components = schema["components"]["schemas"]
    body = shapes.BOOKING_DETAIL(row, timezone.now())
    assert list(components["BookingDetailOut"]["properties"]) == list(body)
    assert list(components["PatientOut"]["properties"]) == list(body["patient"])
    assert sorted(components["BookingDetailOut"]["required"]) == sorted(body)
