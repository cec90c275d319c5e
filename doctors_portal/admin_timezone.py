"""Clinic time in the Django admin.

Times are stored in UTC (TIME_ZONE) and every page shows them in CLINIC_TIME_ZONE; the
admin should too, so its dates, times and datetime inputs use the clinic's zone for the
length of each admin request (templates/admin/base_site.html names the zone).
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone


class ClinicTimeZoneAdminMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(reverse("admin:index")):
            with timezone.override(settings.CLINIC_TIME_ZONE):
                return self.get_response(request)
        return self.get_response(request)
