"""The pages' view of a booking is built beside it: the booking (and its slot, another
app's model) stays exactly as the selector loaded it."""

import copy

import pytest
from django.utils import timezone

from bookings.models import Booking, BookingStatus
from doctors_portal.pages.bookings import BookingCard, booking_card
from tests.factories import BookingFactory

pytestmark = pytest.mark.django_db


def test_a_card_leaves_the_booking_and_its_slot_unchanged():
    booking = Booking.objects.select_related("slot").get(pk=BookingFactory().pk)
    before = (dict(vars(booking)), dict(vars(booking.slot)))
    card = booking_card(booking, timezone.now())
    assert (dict(vars(booking)), dict(vars(booking.slot))) == before
    assert not hasattr(booking, "shown_status")
    assert isinstance(card, BookingCard)
    assert card.shown_status == BookingStatus.PENDING_PAYMENT
    assert card.shown_status_label == BookingStatus.PENDING_PAYMENT.label
    assert card.minutes_left in range(1, 16)
    # The booking's own fields read through the card, as the templates use them.
    assert (card.pk, card.price, card.slot) == (booking.pk, booking.price, booking.slot)
    assert card.get_payment_status_display() == booking.get_payment_status_display()


def test_a_card_is_frozen_and_copies():
    card = booking_card(BookingFactory(), timezone.now())
    with pytest.raises(AttributeError):
        card.shown_status = "x"
    assert copy.copy(card).pk == card.pk
    with pytest.raises(AttributeError):
        _ = card.no_such_field
