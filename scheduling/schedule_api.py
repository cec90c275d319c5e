"""Weekly hours and time off over HTTP: parse, call scheduling.schedules, serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated

from accounts.models import Role
from accounts.permissions import IsDoctorOrAdmin, is_admin
from doctors_portal.api.requests import require_json_object
from doctors_portal.api.responses import created, ok
from scheduling import schedules, selectors
from scheduling.api import BodyRequiredSchema, _target_doctor
from scheduling.schedule_serializers import (
    SERVICE_ARGS,
    RuleOut,
    ScheduleInput,
    SchedulePatchInput,
    ScheduleWrittenOut,
    TimeOffInput,
    TimeOffOut,
    TimeOffWrittenOut,
    rule_out,
    schedule_result_out,
    time_off_out,
)
from scheduling.serializers import service_ref

DOC_EMAIL = OpenApiParameter(
    "docEmail",
    OpenApiTypes.EMAIL,
    description="The doctor whose records these are: a doctor may name only themself; "
    "an admin without it sees every doctor's",
)


def _service_args(values: dict) -> dict:
    args = {SERVICE_ARGS[key]: value for key, value in values.items() if key in SERVICE_ARGS}
    if "service" in values:
        args["service"] = service_ref(values["service"])
    return args


def _listed_doctor(request):
    """The doctor a list is about (`?docEmail=`, else the caller); None: an admin asking
    without one sees every doctor's."""
    raw = request.query_params.get("docEmail")
    if raw is not None:
        try:
            serializers.EmailField().run_validation(raw)
        except serializers.ValidationError as exc:
            raise ValidationError({"docEmail": exc.detail}) from None
    if raw is None:
        if is_admin(request.user):
            return None
        if request.user.role == Role.DOCTOR:
            # The caller themself, as authentication read them: no second read by email.
            return request.user
    return _target_doctor(request, raw)


def _pk(raw) -> int:
    # The route matches digits only; this keeps a 20-digit id from reaching the database.
    return int(raw) if len(str(raw)) <= 12 else 0


class ScheduleViewSet(viewsets.ViewSet):
    schema = BodyRequiredSchema()
    permission_classes = [IsAuthenticated, IsDoctorOrAdmin]

    @extend_schema(
        summary="A doctor's weekly hours (schedules)",
        operation_id="schedules_list",
        parameters=[DOC_EMAIL],
        responses={200: RuleOut(many=True)},
    )
    def list(self, request):
        rules = selectors.schedule_list(doctor=_listed_doctor(request))
        return ok([rule_out(rule) for rule in rules], message="Weekly hours retrieved")

    @extend_schema(
        summary="Add weekly hours: slots are generated up to BOOKING_HORIZON_DAYS ahead",
        operation_id="schedules_create",
        request=ScheduleInput,
        responses={201: ScheduleWrittenOut},
    )
    def create(self, request):
        data = ScheduleInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        doctor = _target_doctor(request, values.get("docEmail"))
        result = schedules.schedule_create(doctor=doctor, by=request.user, **_service_args(values))
        return created(schedule_result_out(result), message="Weekly hours added")

    @extend_schema(
        summary="Change weekly hours: future unbooked slots are regenerated, booked kept",
        operation_id="schedules_update",
        request=SchedulePatchInput,
        responses={200: ScheduleWrittenOut},
    )
    def partial_update(self, request, pk: str):
        data = SchedulePatchInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        named = values.pop("docEmail", None)
        # Naming a doctor is allowed only as the caller may (403 otherwise); the service
        # refuses a doctor other than the rule's own (a rule does not change hands).
        doctor = _target_doctor(request, named) if named else None
        result = schedules.schedule_update(
            rule_id=_pk(pk), by=request.user, changes=_service_args(values), doctor=doctor
        )
        return ok(schedule_result_out(result), message="Weekly hours changed")

    @extend_schema(
        summary="End weekly hours: future unbooked slots are withdrawn, booked kept",
        operation_id="schedules_delete",
        responses={200: ScheduleWrittenOut},
    )
    def destroy(self, request, pk: str):
        result = schedules.schedule_delete(rule_id=_pk(pk), by=request.user)
        return ok(schedule_result_out(result), message="Weekly hours ended")


class TimeOffViewSet(viewsets.ViewSet):
    schema = BodyRequiredSchema()
    permission_classes = [IsAuthenticated, IsDoctorOrAdmin]

    @extend_schema(
        summary="A doctor's time off that has not ended",
        operation_id="time_off_list",
        parameters=[DOC_EMAIL],
        responses={200: TimeOffOut(many=True)},
    )
    def list(self, request):
        return ok(
            [time_off_out(t) for t in selectors.time_off_list(doctor=_listed_doctor(request))],
            message="Time off retrieved",
        )

    @extend_schema(
        summary="Take time off: unbooked slots inside are withdrawn (409 if any is booked)",
        operation_id="time_off_create",
        request=TimeOffInput,
        responses={201: TimeOffWrittenOut},
    )
    def create(self, request):
        data = TimeOffInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        doctor = _target_doctor(request, values.get("docEmail"))
        result = schedules.time_off_create(
            doctor=doctor,
            by=request.user,
            start=values["start"],
            end=values["end"],
            reason=values["reason"],
        )
        return created(
            time_off_out(result.time_off, removed=result.removed), message="Time off added"
        )

    @extend_schema(
        summary="Remove time off: the weekly hours generate in it again",
        operation_id="time_off_delete",
        responses={200: TimeOffWrittenOut},
    )
    def destroy(self, request, pk: str):
        result = schedules.time_off_delete(time_off_id=_pk(pk), by=request.user)
        return ok(time_off_out(result.time_off, created=result.created), message="Time off removed")
