"""The benchmark's URL conf (doctors_portal.settings_bench): every route of the app, plus
GET api/v1/bench/floor, the framework floor the benchmark compares every endpoint with,
and api/v1/bench/availability-cache, how often the availability cache computed (a miss).
The production URL conf (doctors_portal.urls) has none of them, and production pays
nothing for the counter: it is wrapped around the cache's compute step only here."""

import functools

from django.conf import settings
from django.core.cache import caches
from django.http import JsonResponse
from django.urls import re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from doctors_portal import urls
from doctors_portal.api.exceptions import error_body
from scheduling import availability_cache
from scheduling.models import Service

# Misses per kind of answer, shared by every worker (the default cache: Redis in the bench).
# Only the miss path pays the increment: it computes the answer anyway (milliseconds); a
# hit pays nothing. Hits are the requests the benchmark sent, less these.
_MISS_KINDS = ("dated", "dated_service", "upcoming", "upcoming_service")


def _miss_key(kind: str) -> str:
    return f"bench:availability-miss:{kind}"


def _counting(compute):
    @functools.wraps(compute)
    def counted(*, day, now, service_id=None, **rest):
        kind = ("upcoming" if day is None else "dated") + ("_service" if service_id else "")
        caches["default"].incr(_miss_key(kind), ignore_key_check=True)
        return compute(day=day, now=now, service_id=service_id, **rest)

    counted.bench_counting = True
    return counted


# Only in the benchmark's server (settings_bench) with Redis (its atomic incr; the server
# without REDIS_URL, for the "(no cache)" rows, counts nothing): a test that loads this URL
# conf must not leave the app's own cache counting for the rest of its session.
if (
    getattr(settings, "BENCH_COUNT_AVAILABILITY_MISSES", False)
    and settings.CACHES["default"]["BACKEND"].startswith("django_redis.")
    and not getattr(availability_cache._compute, "bench_counting", False)
):
    availability_cache._compute = _counting(availability_cache._compute)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def bench_availability_cache(request):
    """GET: the misses counted so far, per kind; DELETE: start counting from zero."""
    cache = caches["default"]
    keys = {kind: _miss_key(kind) for kind in _MISS_KINDS}
    if request.method == "DELETE":
        cache.delete_many(list(keys.values()))
    found = cache.get_many(list(keys.values()))
    misses = {kind: int(found.get(key) or 0) for kind, key in keys.items()}
    return JsonResponse({"success": True, "status": "Success", "data": {"misses": misses}})


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
    re_path(
        r"^api/v1/bench/availability-cache/?$",
        bench_availability_cache,
        name="bench-availability-cache",
    ),
    *urls.urlpatterns,
]
