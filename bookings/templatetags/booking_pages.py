"""Template tags of the booking pages."""

from urllib.parse import urlsplit

from django import template
from django.urls import Resolver404, resolve
from django.utils import timezone

from bookings.views import slot_for_page

register = template.Library()


@register.simple_tag
def booking_intent(next_url: str):
    """The slot a signed-out visitor was about to book (from the `next` of the sign-in and
    sign-up pages), labelled for the page; None when `next` is not a bookable slot."""
    if not next_url:
        return None
    try:
        match = resolve(urlsplit(next_url).path)
    except Resolver404:
        return None
    if match.view_name != "pages:book":
        return None
    return slot_for_page(match.kwargs["slot_id"], timezone.now())
