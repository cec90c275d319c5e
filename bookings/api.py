"""Bookings over HTTP: parse, call a selector or service, serialize."""

from functools import partial

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated

from accounts.models import Role
from accounts.permissions import is_admin
from bookings import selectors, services, shapes
from bookings.models import BookingStatus
from bookings.serializers import (
    AttendanceInput,
    BookingBySlotDoc,
    BookingCreateInput,
    BookingReferenceDoc,
    RescheduleInput,
    WaitlistByDayDoc,
    WaitlistBySlotDoc,
    WaitlistJoinInput,
)
from bookings.throttles import BookingRateThrottle
from doctors_portal.api.pagination import PageLimitPagination, page_parameters
from doctors_portal.api.requests import require_json_object
from doctors_portal.api.responses import created, ok
from doctors_portal.errors import NotFoundAt
from scheduling import timefmt

EMAIL_PARAM = OpenApiParameter(
    "email",
    OpenApiTypes.EMAIL,
    required=True,
    description="Whose bookings (self, or any for admins)",
)
PAGE_PARAMS = page_parameters()


def _subject(request, *, role: str):
    """The user whose list is asked for by `?email=`: the caller, or anyone for an admin."""
    user = request.user
    email = (request.query_params.get("email") or "").strip()
    if not email:
        raise ValidationError({"email": ["Name the user whose bookings you want (?email=)."]})
    if is_admin(user):
        subject = selectors.user_get_by_email(email=email, role=role)
        if subject is None:
            raise NotFoundAt("No such user.", path="email")
        return subject
    if user.role != role:
        raise PermissionDenied(f"Only {role.lower()}s and administrators may do this.")
    if email.lower() != user.email.lower():
        raise PermissionDenied("You can only see your own bookings.")
    return user


class BookingViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]

    def get_throttles(self):
        # Only taking a seat is throttled; reads are cheap and scoped.
        return [BookingRateThrottle()] if self.action == "create" else []

    @extend_schema(
        summary="Book a slot: {slotId} or the reference's booking shape",
        operation_id="bookings_create",
        request=PolymorphicProxySerializer(
            component_name="BookingCreate",
            serializers=[BookingBySlotDoc, BookingReferenceDoc],
            resource_type_field_name=None,
        ),
        responses={201: shapes.BOOKING_ROW.serializer},
    )
    def create(self, request):
        data = BookingCreateInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        if user.role != Role.PATIENT:
            raise PermissionDenied("Only patients can book appointments.")
        email = values.get("patient_email")
        if email and email.strip().lower() != user.email.lower():
            raise PermissionDenied(
                "patient_email must be your own: you can only book for yourself."
            )
        slot_id = values.get("slotId")
        if slot_id is None:
            slot_id = self._slot_from_reference(values)
        booking = services.booking_create(
            patient=user, slot_id=slot_id, patient_phone=values.get("patient_Phone", "")
        )
        row = selectors.booking_row_held(booking=booking)
        return created(
            shapes.BOOKING_ROW(row, timezone.now()),
            message="Booking held. Pay before it expires to confirm it.",
        )

    @staticmethod
    def _slot_from_reference(values) -> int:
        doctor = selectors.user_get_by_email(email=values["doctor_email"], role=Role.DOCTOR)
        if doctor is None:
            raise NotFoundAt("No doctor has this email.", path="doctor_email")
        try:
            slot = selectors.slot_find_by_label(
                doctor=doctor, day=values["AppointmentDate"], label=values["slot"]
            )
        except timefmt.TimeFormatError as exc:
            raise ValidationError({"slot": [str(exc)]}) from None
        if slot is None:
            raise NotFoundAt("This doctor has no slot at that date and time.", path="slot")
        treatment = (values.get("treatment") or "").strip()
        if treatment and treatment.casefold() != slot.service.name.strip().casefold():
            raise ValidationError(
                {"treatment": [f'That slot is for "{slot.service.name}", not "{treatment}".']}
            )
        return slot.pk

    @extend_schema(
        summary="One booking (booking/:id)",
        operation_id="booking_detail",
        responses={200: shapes.BOOKING_DETAIL.serializer},
    )
    def retrieve(self, request, pk: str):
        row = selectors.booking_row_get(user=request.user, booking_id=pk)
        if row is None:
            raise NotFoundAt("No such booking.", path="id")
        return ok(shapes.BOOKING_DETAIL(row, timezone.now()), message="Bookings Found.")

    @extend_schema(
        summary="A patient's bookings (bookings?email=)",
        operation_id="bookings_of_patient",
        responses={200: shapes.PATIENT_DOCUMENT.serializer},
        parameters=[EMAIL_PARAM, *PAGE_PARAMS],
    )
    def list_for_patient(self, request):
        patient = _subject(request, role=Role.PATIENT)
        paginator = PageLimitPagination()
        rows = paginator.paginate_rows(
            request, partial(selectors.booking_page_for_patient, patient=patient)
        )
        return ok(
            shapes.patient_document(patient=patient, rows=rows, now=timezone.now()),
            message="Bookings retrieved",
            meta=paginator.meta,
        )

    @extend_schema(
        summary="A doctor's patients (booking-doctor?email=)",
        operation_id="bookings_of_doctor",
        responses={200: shapes.DOCTOR_ROW.serializer(many=True)},
        parameters=[
            EMAIL_PARAM,
            OpenApiParameter("date", OpenApiTypes.DATE, description="Appointment date"),
            OpenApiParameter("status", str, enum=BookingStatus.values),
            *PAGE_PARAMS,
        ],
    )
    def list_for_doctor(self, request):
        doctor = _subject(request, role=Role.DOCTOR)
        raw_date = request.query_params.get("date")
        raw_status = request.query_params.get("status")
        if raw_status is not None and raw_status not in BookingStatus.values:
            raise ValidationError({"status": [f"One of: {', '.join(BookingStatus.values)}."]})
        now = timezone.now()
        paginator = PageLimitPagination()
        try:
            day = None if raw_date is None else timefmt.parse_date(raw_date)
            rows = paginator.paginate_rows(
                request,
                partial(
                    selectors.booking_page_for_doctor,
                    doctor=doctor,
                    day=day,
                    status=raw_status,
                    now=now,
                ),
            )
        except timefmt.TimeFormatError as exc:  # also a day whose bounds the calendar lacks
            raise ValidationError({"date": [str(exc)]}) from None
        return ok(
            [shapes.DOCTOR_ROW(row, now) for row in rows],
            message="Patients retrieved",
            meta=paginator.meta,
        )

    @extend_schema(
        summary="Cancel a booking; a paid one is refunded by the policy",
        operation_id="booking_cancel",
        request=None,
        responses={200: shapes.CANCELLATION.serializer},
    )
    def cancel(self, request, pk: str):
        booking = selectors.booking_get(user=request.user, booking_id=pk)
        if booking is None:
            raise NotFoundAt("No such booking.", path="id")
        result = services.booking_cancel(booking_id=booking.pk, by=request.user)
        message = (
            f"Booking cancelled; {result.refund_amount:.2f} {result.booking.currency} refunded."
            if result.refunded
            else "Booking cancelled."
        )
        row = selectors.booking_row_get(user=request.user, booking_id=booking.pk)
        return ok(shapes.cancellation(row, result, now=timezone.now()), message=message)

    @extend_schema(
        summary="Move a booking to a free slot of the same service",
        operation_id="booking_reschedule",
        request=RescheduleInput,
        responses={200: shapes.BOOKING_ROW.serializer},
    )
    def reschedule(self, request, pk: str):
        data = RescheduleInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        booking = selectors.booking_get(user=request.user, booking_id=pk)
        if booking is None:
            raise NotFoundAt("No such booking.", path="id")
        services.booking_reschedule(
            booking_id=booking.pk, slot_id=data.validated_data["slotId"], by=request.user
        )
        row = selectors.booking_row_get(user=request.user, booking_id=booking.pk)
        return ok(shapes.BOOKING_ROW(row, timezone.now()), message="Booking moved.")

    @extend_schema(
        summary="Record attendance: completed or no_show",
        operation_id="booking_attendance",
        request=AttendanceInput,
        responses={200: shapes.BOOKING_ROW.serializer},
    )
    def attendance(self, request, pk: str):
        data = AttendanceInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        booking = selectors.booking_get(user=request.user, booking_id=pk)
        if booking is None:
            raise NotFoundAt("No such booking.", path="id")
        services.booking_attendance_set(
            booking_id=booking.pk, status=data.validated_data["status"], by=request.user
        )
        row = selectors.booking_row_get(user=request.user, booking_id=booking.pk)
        return ok(shapes.BOOKING_ROW(row, timezone.now()), message="Attendance recorded.")


class WaitlistViewSet(viewsets.ViewSet):
    permission_classes = [IsAuthenticated]

    def get_throttles(self):
        return [BookingRateThrottle()] if self.action == "create" else []

    @extend_schema(
        summary="Join the waitlist of a full slot, or of a doctor's full day",
        operation_id="waitlist_join",
        request=PolymorphicProxySerializer(
            component_name="WaitlistJoin",
            serializers=[WaitlistBySlotDoc, WaitlistByDayDoc],
            resource_type_field_name=None,
        ),
        responses={201: shapes.WAITLIST_ENTRY.serializer},
    )
    def create(self, request):
        data = WaitlistJoinInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if request.user.role != Role.PATIENT:
            raise PermissionDenied("Only patients can join a waitlist.")
        if "slotId" in values:
            entry = services.waitlist_join(patient=request.user, slot_id=values["slotId"])
        else:
            try:
                day = timefmt.parse_date(values["date"])
            except timefmt.TimeFormatError as exc:
                raise ValidationError({"date": [str(exc)]}) from None
            entry = services.waitlist_join(
                patient=request.user, doctor_id=values["doctorId"], day=day
            )
        (row,) = selectors.waitlist_rows(user=request.user, entry_id=entry.pk)
        return created(
            shapes.WAITLIST_ENTRY(row, timezone.now()),
            message=f"You are number {row['place']} in line.",
        )

    @extend_schema(
        summary="The caller's waitlist entries",
        operation_id="waitlist_list",
        responses={200: shapes.WAITLIST_ENTRY.serializer(many=True)},
    )
    def list(self, request):
        now = timezone.now()
        rows = selectors.waitlist_rows(user=request.user)
        return ok([shapes.WAITLIST_ENTRY(row, now) for row in rows], message="Waitlist")

    @extend_schema(
        summary="Leave a waitlist (a standing offer passes to the next in line)",
        operation_id="waitlist_leave",
        request=None,
        responses={200: shapes.WAITLIST_ENTRY.serializer},
    )
    def destroy(self, request, pk: str):
        entry_id = selectors.waitlist_entry_id(user=request.user, raw=pk)
        if entry_id is None:
            raise NotFoundAt("No such waitlist entry.", path="id")
        services.waitlist_leave(entry_id=entry_id, by=request.user)
        (row,) = selectors.waitlist_rows(user=request.user, entry_id=entry_id)
        return ok(shapes.WAITLIST_ENTRY(row, timezone.now()), message="You left the waitlist.")
