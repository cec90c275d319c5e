from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from doctors_portal.api.exceptions import error_body
from doctors_portal.api.responses import ok
from scheduling.models import Service


@extend_schema(
    summary="Health check",
    responses={
        200: inline_serializer("Health", {"database": serializers.CharField()}),
        503: OpenApiResponse(description="Service Unavailable: the database is unreachable"),
    },
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # any failure to reach the database means unhealthy
        return Response(
            error_body(
                status_code=503,
                messages=[{"path": "database", "message": "The database is unreachable."}],
            ),
            status=503,
        )
    return ok({"database": "ok"}, message="Healthy")


def bench_floor(request):
    """The benchmark's framework floor: one indexed read, plain Django, same middleware.

    Not part of the API (no DRF, not in the schema). Answers 404 unless the
    BENCH_FLOOR_VIEW setting is on; it only shows what appointmentSpecialty shows.
    """
    if not settings.BENCH_FLOOR_VIEW or request.method != "GET":
        return JsonResponse(
            error_body(
                status_code=404,
                messages=[{"path": "", "message": "No route matches this path."}],
            ),
            status=404,
        )
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
