"""A patient and a doctor rich in personal data, paid bookings against localstripe, and
the walk that proves nothing personal of an erased user is left anywhere."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.db import models
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus
from bookings.services import booking_create
from tests.factories import SlotFactory
from tests.payments.conftest import pay_at_stripe


def personal_values(user: User) -> set[str]:
    values = {user.name, user.email, user.phone, user.image, user.firebase_uid or ""}
    values.add(user.photo.name)  # an uploaded file's name leads to the file
    profile = getattr(user, "doctor_profile", None)
    if profile is not None:
        values |= {profile.license_number, profile.bio, profile.license_document.name}
    values |= set(Booking.objects.filter(patient=user).values_list("patient_phone", flat=True))
    return {value for value in values if value and len(value) >= 6}


def _texts(row) -> list[tuple[str, str]]:
    found = []
    for field in row._meta.concrete_fields:
        text_fields = models.CharField | models.TextField | models.JSONField | models.FileField
        if isinstance(field, text_fields):
            value = field.value_from_object(row)
            if isinstance(field, models.FileField):
                value = value.name if value else ""
            if value not in (None, ""):
                found.append((field.name, str(value)))
    return found


def rows_referencing(user: User) -> list[models.Model]:
    """Every row of every model with a field (FK, one-to-one, many-to-many) to this user."""
    rows = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model is User:
                rows.extend(model._default_manager.filter(**{field.name: user}))
    return rows


def leftovers(values: set[str]) -> list[str]:
    """Where any of `values` still appears: every text field of every row of every model."""
    left = []
    for model in apps.get_models():
        if model._meta.label == "sessions.Session":
            continue  # signed, encoded; holds the user id only
        for row in model._default_manager.all():
            for name, text in _texts(row):
                left += [f"{model._meta.label}.{name}={text!r}" for v in values if v in text]
    return left


def paid_booking(client_for, patient, slot, stripe_client):
    booking = booking_create(patient=patient, slot_id=slot.pk)
    client = client_for(patient)
    intent = client.post("/api/v1/create-payment-intent", {"bookingId": booking.pk}, format="json")
    assert intent.status_code == 200, intent.json()
    intent_id = intent.json()["paymentIntentId"]
    pay_at_stripe(stripe_client, intent_id)
    paid = client.post(
        "/api/v1/payment", {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    assert paid.status_code == 200, paid.json()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    return booking


def make_past(booking: Booking, *, status: str = BookingStatus.COMPLETED) -> Booking:
    """Time passes: the appointment is over."""
    start = timezone.now() - timedelta(days=3)
    type(booking.slot).objects.filter(pk=booking.slot_id).update(
        start=start, end=start + timedelta(hours=1)
    )
    Booking.objects.filter(pk=booking.pk).update(status=status)
    booking.refresh_from_db()
    return booking


def future_slot(doctor, days: int = 3, **fields):
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return SlotFactory(doctor=doctor, start=start, end=start + timedelta(hours=1), **fields)
