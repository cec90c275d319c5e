"""The benchmark's URL conf (doctors_portal.settings_bench): every route of the app, plus
GET api/v1/bench/floor, the framework floor the benchmark compares every endpoint with.
The production URL conf (doctors_portal.urls) has no such route."""

from django.http import JsonResponse
from django.urls import re_path
from django.views.decorators.http import require_GET

from doctors_portal import urls
from doctors_portal.api.exceptions import error_body
from scheduling.models import Service


@require_GET
def bench_floor(request):
    """One indexed read in plain Django (no DRF, not in the schema) behind the same
    middleware; it shows only what appointmentSpecialty shows."""
    try:
        service_id = int(request.GET.get("id", "1"))
    except ValueError:
        service_id = 0
    row = Service.objects.filter(pk=service_id).values("id", "name", "price").first()
    if row is None:
        return JsonResponse(
            error_body(status_code=404, messages=[{"path": "id", "message": "No such service."}]),
            status=404,
        )
    row["_id"] = row["id"]
    row["price"] = str(row["price"])
    return JsonResponse({"success": True, "status": "Success", "message": "Floor", "data": row})


urlpatterns = [
    re_path(r"^api/v1/bench/floor/?$", bench_floor, name="bench-floor"),
    *urls.urlpatterns,
]
