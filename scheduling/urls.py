"""Reference paths, each with and without a trailing slash."""

from django.urls import re_path

from scheduling.api import DoctorViewSet, ServiceViewSet, SlotViewSet
from scheduling.schedule_api import ScheduleViewSet, TimeOffViewSet

urlpatterns = [
    re_path(
        r"^appointmentSpecialty/?$",
        ServiceViewSet.as_view({"get": "specialties"}),
        name="appointment-specialty",
    ),
    re_path(
        r"^appointmentOptions/?$",
        ServiceViewSet.as_view({"get": "options"}),
        name="appointment-options",
    ),
    re_path(r"^doctors/?$", DoctorViewSet.as_view({"get": "list"}), name="doctors"),
    re_path(
        r"^doctors/(?P<pk>[^/]+)/?$", DoctorViewSet.as_view({"get": "retrieve"}), name="doctor"
    ),
    re_path(
        r"^slots/?$",
        SlotViewSet.as_view({"post": "create", "patch": "partial_update"}),
        name="slots",
    ),
    re_path(r"^slot/?$", SlotViewSet.as_view({"patch": "partial_update"}), name="slot"),
    re_path(
        r"^slot/(?P<email>[^/]+)/?$",
        SlotViewSet.as_view({"get": "doctor_slots"}),
        name="doctor-slots",
    ),
    re_path(
        r"^schedules/?$",
        ScheduleViewSet.as_view({"get": "list", "post": "create"}),
        name="schedules",
    ),
    re_path(
        r"^schedules/(?P<pk>[0-9]+)/?$",
        ScheduleViewSet.as_view({"patch": "partial_update", "delete": "destroy"}),
        name="schedule",
    ),
    re_path(
        r"^time-off/?$",
        TimeOffViewSet.as_view({"get": "list", "post": "create"}),
        name="time-off",
    ),
    re_path(
        r"^time-off/(?P<pk>[0-9]+)/?$",
        TimeOffViewSet.as_view({"delete": "destroy"}),
        name="time-off-detail",
    ),
]
