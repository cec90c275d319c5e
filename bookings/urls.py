"""Reference paths, each with and without a trailing slash."""

from django.urls import re_path

from bookings.api import BookingViewSet

urlpatterns = [
    re_path(
        r"^bookings/?$",
        BookingViewSet.as_view({"get": "list_for_patient", "post": "create"}),
        name="bookings",
    ),
    re_path(
        r"^bookings/(?P<pk>[^/]+)/cancel/?$",
        BookingViewSet.as_view({"post": "cancel"}),
        name="booking-cancel",
    ),
    re_path(
        r"^bookings?/(?P<pk>[^/]+)/?$",
        BookingViewSet.as_view({"get": "retrieve"}),
        name="booking-detail",
    ),
    re_path(
        r"^booking-doctor/?$",
        BookingViewSet.as_view({"get": "list_for_doctor"}),
        name="booking-doctor",
    ),
]
