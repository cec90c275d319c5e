"""Reference paths, each with and without a trailing slash."""

from django.urls import re_path

from bookings.api import BookingViewSet, WaitlistViewSet

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
        r"^bookings/(?P<pk>[^/]+)/reschedule/?$",
        BookingViewSet.as_view({"post": "reschedule"}),
        name="booking-reschedule",
    ),
    re_path(
        r"^bookings/(?P<pk>[^/]+)/attendance/?$",
        BookingViewSet.as_view({"post": "attendance"}),
        name="booking-attendance",
    ),
    re_path(
        r"^waitlist/?$",
        WaitlistViewSet.as_view({"get": "list", "post": "create"}),
        name="waitlist",
    ),
    re_path(
        r"^waitlist/(?P<pk>[^/]+)/?$",
        WaitlistViewSet.as_view({"delete": "destroy"}),
        name="waitlist-detail",
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
