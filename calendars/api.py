"""Calendar feeds over HTTP: the private feed (its token is the secret) and its rotation."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny, IsAuthenticated

from calendars import ics, selectors, services
from doctors_portal.api.responses import created
from doctors_portal.errors import NotFoundAt


@extend_schema(
    summary="Private calendar feed (no login: the token is the secret)",
    responses={
        (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY, description="iCalendar"),
        404: OpenApiResponse(description="No feed has this token"),
    },
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def calendar_feed(request, token: str):
    user = selectors.calendar_feed_owner(token=token)
    if user is None:
        raise NotFoundAt("No calendar feed has this token.", path="token")
    return ics.feed_response(ics.feed_body(selectors.calendar_bookings(user=user)))


@extend_schema(
    summary="A new private feed token for the caller (the previous one stops working)",
    request=None,
    responses={
        201: inline_serializer(
            "CalendarToken", {"token": serializers.CharField(), "url": serializers.URLField()}
        )
    },
)
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def calendar_token(request):
    token = services.calendar_feed_rotate(user=request.user)
    url = request.build_absolute_uri(f"/api/v1/calendar/{token}.ics")
    return created({"token": token, "url": url}, message="Calendar feed token created")
