from django.urls import re_path

from calendars import api

urlpatterns = [
    re_path(r"^calendar/token/?$", api.calendar_token, name="calendar-token"),
    re_path(r"^calendar/(?P<token>[A-Za-z0-9_-]{1,128})\.ics$", api.calendar_feed,
            name="calendar-feed"),
]  # fmt: skip
