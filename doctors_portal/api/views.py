from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from doctors_portal.api.exceptions import error_body
from doctors_portal.api.responses import ok
from doctors_portal.db.failures import RETRY_AFTER_SECONDS


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
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return ok({"database": "ok"}, message="Healthy")
