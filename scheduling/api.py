"""Services, slots and the doctors directory over HTTP: parse, call a selector or service,
serialize."""

from functools import partial

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated

from accounts.models import Role
from accounts.permissions import IsDoctorOrAdmin, is_admin
from doctors_portal.api.pagination import PageLimitPagination, page_parameters
from doctors_portal.api.renderers import json_fragment
from doctors_portal.api.requests import require_json_object
from doctors_portal.api.responses import created, ok
from doctors_portal.api.schema import EnvelopeAutoSchema
from doctors_portal.errors import NotFoundAt
from doctors_portal.ids import is_id_text
from scheduling import availability_cache, selectors, services, timefmt
from scheduling.serializers import (
    SLOT_PATCH_SCHEMA,
    AvailabilityOut,
    DoctorCardOut,
    DoctorSlotsOut,
    IdNameOut,
    NothingChangedOut,
    SlotCreateDoc,
    SlotCreateInput,
    SlotDetailOut,
    SlotPatchAfterBookingInput,
    SlotPatchByIdInput,
    SlotPatchByLabelInput,
    SlotsWrittenOut,
    doc_slot_out,
    doctor_card_out,
    doctor_slots_out,
    service_brief,
    service_ref,
    slot_detail_out,
)

# The reference client's PATCH after a booking: {doctor, AppointmentDate, slot}.
REFERENCE_NOOP_KEYS = {"doctor", "AppointmentDate"}


def _target_doctor(request, email: str | None):
    """The doctor a slot write is about: the caller, or anyone an admin names."""
    user = request.user
    if not email:
        if user.role != Role.DOCTOR:
            raise ValidationError({"docEmail": ["Name the doctor whose slots these are."]})
        email = user.email
    elif not is_admin(user) and email.strip().lower() != user.email.lower():
        raise PermissionDenied("docEmail must be your own email.")
    doctor = selectors.doctor_get_by_email(email=email)
    if doctor is None:
        raise NotFoundAt("No doctor has this email.", path="docEmail")
    return doctor


def service_param(request, name: str):
    """The active service a query parameter names (id or name), None when it is absent or
    blank; a 400 naming the parameter when no active service has that id or name."""
    raw = request.query_params.get(name)
    if raw is None or not raw.strip():
        return None
    service = selectors.service_find_active(ref=raw)
    if service is None:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise ValidationError({name: [f'No service "{shown}". See appointmentSpecialty.']})
    return service


SERVICE_PARAMETER = OpenApiParameter(
    "service",
    str,
    description="Only this service (its id, or its name in any case); an unknown one is 400",
)


class ServiceViewSet(viewsets.ViewSet):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="All services (appointmentSpecialty)",
        operation_id="appointment_specialty",
        responses={200: IdNameOut(many=True)},
    )
    def specialties(self, request):
        return ok(
            [service_brief(s) for s in selectors.service_list()], message="Services retrieved"
        )

    @extend_schema(
        summary="Services with free slots on a date, or upcoming (appointmentOptions)",
        operation_id="appointment_options",
        responses={200: AvailabilityOut(many=True)},
        parameters=[
            OpenApiParameter(
                "date",
                OpenApiTypes.DATE,
                description="A clinic-local date, from today to PUBLISH_HORIZON_DAYS ahead "
                '(another is 400 "Date out of range"). Without it: from now to '
                "BOOKING_HORIZON_DAYS ahead (how the reference client asks).",
            ),
            SERVICE_PARAMETER,
        ],
    )
    def options(self, request):
        raw = request.query_params.get("date")
        now = timezone.now()
        service = service_param(request, "service")
        try:
            day = None if raw is None else timefmt.parse_date(raw)
            if day is not None:
                selectors.bookable_day(day=day, now=now)
        except timefmt.TimeFormatError as exc:
            raise ValidationError({"date": [str(exc)]}) from None
        # Composed as JSON from the cached days: it goes out without being rebuilt.
        rendered = availability_cache.availability_answer(
            day=day, now=now, service_id=service.pk if service else None
        )
        if day is None:
            start, end = selectors.upcoming_window(now=now)
            when = {"from": timefmt.local_iso(start), "until": timefmt.local_iso(end)}
        else:
            when = {"date": day.isoformat()}
        return ok(json_fragment(rendered), message="All Service Type Found", **when)


class DoctorViewSet(viewsets.ViewSet):
    """The public doctors directory: bookable doctors (accounts.credentials: active,
    verified, licence not expired) with their next free time."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Bookable doctors with their next free time (doctors directory)",
        operation_id="doctors_list",
        parameters=[
            OpenApiParameter(
                "specialty",
                str,
                description="The doctor's specialty: a service id or name (any case); an "
                "unknown one is 400",
            ),
            OpenApiParameter(
                "q",
                {
                    "type": "string",
                    "maxLength": selectors.MAX_DIRECTORY_SEARCH,
                    "pattern": "^[^\\x00]*$",
                },
                description="Words in the doctor's name or specialty, any case (Unicode "
                f"folded); at most {selectors.MAX_DIRECTORY_SEARCH} characters",
            ),
            *page_parameters(),
        ],
        responses={200: DoctorCardOut(many=True)},
    )
    def list(self, request):
        specialty = service_param(request, "specialty")
        q = (request.query_params.get("q") or "").strip()
        if len(q) > selectors.MAX_DIRECTORY_SEARCH:
            raise ValidationError({"q": [f"At most {selectors.MAX_DIRECTORY_SEARCH} characters."]})
        paginator = PageLimitPagination()
        cards = paginator.paginate_rows(
            request,
            partial(selectors.doctor_directory_page, specialty=specialty, q=q, now=timezone.now()),
        )
        return paginator.get_paginated_response(
            [doctor_card_out(card) for card in cards], message="Doctors retrieved"
        )

    @extend_schema(
        summary="One bookable doctor with their next free time",
        operation_id="doctors_retrieve",
        responses={200: DoctorCardOut},
    )
    def retrieve(self, request, pk: str):
        card = None
        if is_id_text(pk) and len(pk) <= 18:
            card = selectors.doctor_card_get(doctor_id=int(pk))
        if card is None:
            raise NotFoundAt("No doctor with this id.", path="id")
        return ok(doctor_card_out(card), message="Doctor retrieved")


class DoctorSlotsPagination(PageLimitPagination):
    """slot/:email's pages. The reference client asks without `page` or `limit` and offers
    what the first page holds, so the default page holds a fortnight of 9-to-5 in
    15-minute slots (448), the whole window of about any doctor."""

    default_limit = 500
    max_limit = 500


class BodyRequiredSchema(EnvelopeAutoSchema):
    """PATCH slot(s) is described by a raw oneOf schema; say that the body is required."""

    def _get_request_body(self, direction="request"):
        body = super()._get_request_body(direction)
        if body and self.method in ("POST", "PATCH"):
            body["required"] = True
        return body


class SlotViewSet(viewsets.ViewSet):
    schema = BodyRequiredSchema()

    def get_permissions(self):
        if self.action in ("doctor_slots", "partial_update"):
            return [AllowAny()]
        return [IsAuthenticated(), IsDoctorOrAdmin()]

    @extend_schema(
        summary="Publish slots: {docEmail, docSlot: [{date, slot: [labels]}]}",
        operation_id="slots_create",
        request=SlotCreateDoc,
        responses={201: SlotsWrittenOut},
    )
    def create(self, request):
        data = SlotCreateInput(data=require_json_object(request.data))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        doctor = _target_doctor(request, values.get("docEmail"))
        slots = services.slot_create_many(
            doctor=doctor,
            by=request.user,
            doc_slot=values["docSlot"],
            service=service_ref(values.get("service")),
            capacity=values["capacity"],
            status=values["status"],
        )
        return created(
            {
                "docEmail": doctor.email,
                "docSlot": doc_slot_out(slots),
                "slots": [slot_detail_out(slot) for slot in slots],
            },
            message="Appointment data created successfully",
        )

    @extend_schema(
        summary="A doctor's bookable slots in the upcoming window, paged (slot/:email)",
        operation_id="doctor_slots",
        description="From now to BOOKING_HORIZON_DAYS ahead, as appointmentOptions offers "
        "them. `meta.total` counts the bookable free slots (docSlot); for the doctor and "
        "admins `meta.slotsTotal` counts `slots` (every status), paged alike.",
        parameters=page_parameters(DoctorSlotsPagination),
        responses={200: DoctorSlotsOut},
    )
    def doctor_slots(self, request, email: str):
        paginator = DoctorSlotsPagination()

        def read_page(*, limit: int, offset: int):
            page = selectors.doctor_slots_page(
                email=email, viewer=request.user, limit=limit, offset=offset
            )
            if page is None:
                raise NotFoundAt("No doctor has this email.", path="email")
            return page, page.total

        page = paginator.paginate_rows(request, read_page)
        meta = paginator.meta
        if page.own_total is not None:
            meta["slotsTotal"] = page.own_total
        return ok(doctor_slots_out(page), message="Slots retrieved", meta=meta)

    @extend_schema(
        summary="Change slots: by label {date, slot, action} or by {id, ...}",
        request={"application/json": SLOT_PATCH_SCHEMA},
        responses={
            200: PolymorphicProxySerializer(
                component_name="SlotPatchResult",
                serializers=[SlotDetailOut, SlotsWrittenOut, NothingChangedOut],
                resource_type_field_name=None,
                many=False,
            )
        },
    )
    def partial_update(self, request):
        body = require_json_object(request.data)
        if REFERENCE_NOOP_KEYS & set(body) and not {"action", "id"} & set(body):
            # Booking already took the seat; the reference client's follow-up changes nothing.
            SlotPatchAfterBookingInput(data=body).is_valid(raise_exception=True)
            return ok(
                {"changed": False},
                message="Nothing to change: the booking already holds the seat.",
            )
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        if not (request.user.role == Role.DOCTOR or is_admin(request.user)):
            raise PermissionDenied("Only doctors and administrators may change slots.")
        if "id" in body:
            data = SlotPatchByIdInput(data=body)
            data.is_valid(raise_exception=True)
            values = data.validated_data
            slot = services.slot_update(
                slot_id=values["id"],
                by=request.user,
                capacity=values.get("capacity"),
                status=values.get("status"),
                service=service_ref(values.get("service")),
            )
            return ok(slot_detail_out(slot), message="Slot updated")
        data = SlotPatchByLabelInput(data=body)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        doctor = _target_doctor(request, values.get("docEmail"))
        if values["action"] == "add":
            slots = services.slot_create_many(
                doctor=doctor,
                by=request.user,
                doc_slot=[{"date": values["date"], "slot": values["slot"]}],
                service=service_ref(values.get("service")),
                capacity=values["capacity"],
            )
            message = "Slots added"
        else:
            slots = services.slot_remove_many(
                doctor=doctor, by=request.user, date=values["date"], labels=values["slot"]
            )
            message = "Slots removed"
        return ok(
            {
                "docEmail": doctor.email,
                "docSlot": doc_slot_out(slots),
                "slots": [slot_detail_out(slot) for slot in slots],
            },
            message=message,
        )
