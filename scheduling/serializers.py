"""Input parsing and output shapes of services and slots (API.md, "Services and slots")."""

from collections import OrderedDict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.names import display_name
from doctors_portal.errors import NotFoundAt
from doctors_portal.ids import is_id_text
from scheduling import timefmt
from scheduling.models import Service, Slot, SlotStatus
from scheduling.selectors import DoctorCard, DoctorSlotsPage, ServiceAvailability


def enum_field(values, **kwargs) -> serializers.ChoiceField:
    """A choice field described by a pattern in the schema: several components have a
    "status" with different choices, and enum components named by field would collide."""

    @extend_schema_field(
        {
            "type": "string",
            "pattern": "^(" + "|".join(values) + ")$",
            "description": "One of: " + ", ".join(values),
        }
    )
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=list(values), **kwargs)


SERVICE_REF_SCHEMA = {
    "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}],
    "description": "Service id or name",
}


@extend_schema_field(SERVICE_REF_SCHEMA)
class ServiceRefField(serializers.JSONField):
    pass


def service_ref(value=None) -> Service | None:
    """A service named by id or by name (case-insensitive); None when not sent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise serializers.ValidationError({"service": ["Name a service by id or name."]})
    query = Service.objects.all()
    text = str(value).strip()
    if "\x00" in text:  # no name holds one, and PostgreSQL cannot even compare it
        raise NotFoundAt(f"No service {value!r}.", path="service")
    service = (
        query.filter(pk=int(text)).first()
        if is_id_text(text)
        else query.filter(name__iexact=text).first()
    )
    if service is None:
        raise NotFoundAt(f'No service "{value}".', path="service")
    return service


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON number, not "3" or true."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class SlotCreateInput(serializers.Serializer):
    docEmail = serializers.EmailField(required=False)
    docSlot = serializers.JSONField()
    service = serializers.JSONField(required=False)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=1000, default=1)
    status = serializers.ChoiceField(
        choices=[SlotStatus.PUBLISHED, SlotStatus.UNPUBLISHED],
        required=False,
        default=SlotStatus.PUBLISHED,
    )


class ExactFieldsMixin:
    """Refuse fields the serializer does not know: the PATCH shapes are told apart by
    their fields, so a body mixing two shapes must not be half applied."""

    allowed_extra: frozenset[str] = frozenset()

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) - self.allowed_extra
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field for this kind of change."] for name in sorted(unknown)}
            )
        return attrs


class StrictCharField(serializers.CharField):
    """A string that must arrive as a JSON string (DRF would turn 0 into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class SlotPatchByLabelInput(ExactFieldsMixin, serializers.Serializer):
    docEmail = serializers.EmailField(required=False)
    date = serializers.JSONField()
    slot = serializers.JSONField()
    action = serializers.ChoiceField(choices=["add", "remove"])
    service = serializers.JSONField(required=False)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=1000, default=1)


class SlotPatchByIdInput(ExactFieldsMixin, serializers.Serializer):
    allowed_extra = frozenset({"docEmail"})

    id = StrictIntegerField(min_value=1)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=1000)
    status = serializers.ChoiceField(choices=SlotStatus.values, required=False)
    service = serializers.JSONField(required=False)


class SlotPatchAfterBookingInput(ExactFieldsMixin, serializers.Serializer):
    doctor = StrictCharField()
    AppointmentDate = StrictCharField()
    slot = StrictCharField()


def service_brief(service: Service) -> dict:
    return {"id": service.pk, "_id": service.pk, "name": service.name}


def availability_out(item: ServiceAvailability) -> dict:
    service = item.service
    return {
        "id": service.pk,
        "_id": service.pk,
        "name": service.name,
        "price": str(service.price),
        "currency": service.currency,
        "availableSpaces": item.available_spaces,
        "doctors": [option_doctor_out(d) for d in item.doctors],
        "slots": [free_slot_out(slot) for slot in item.slots],
    }


def option_doctor_out(doctor) -> dict:
    """A doctor as availability_out lists them."""
    return {"id": doctor.pk, "_id": doctor.pk, "name": doctor.name, "docEmail": doctor.email}


def free_slot_out(slot) -> dict:
    start, end, day, label = timefmt.slot_texts(slot.start, slot.end)
    return {
        "id": slot.pk,
        "_id": slot.pk,
        "doctor": {"id": slot.doctor_id, "name": slot.doctor.name},
        "start": start,
        "end": end,
        "date": day,
        "label": label,
        "available": slot.free_seats,
    }


def doc_slot_out(slots: list[Slot]) -> list[dict]:
    """`[{date, slot: [labels]}]`, dates in order, in the reference's format."""
    ordered = sorted(slots, key=lambda s: (s.start, s.pk))
    return doc_slot_rows_out([(s.pk, s.start, s.end) for s in ordered])


def doc_slot_rows_out(rows: list[tuple]) -> list[dict]:
    """doc_slot_out of (id, start, end) rows already in start order."""
    grouped: OrderedDict[str, list[str]] = OrderedDict()
    for _pk, start, end in rows:
        _start, _end, day, label = timefmt.slot_texts(start, end)
        grouped.setdefault(day, []).append(label)
    return [{"date": day, "slot": labels} for day, labels in grouped.items()]


def slot_detail_out(slot: Slot) -> dict:
    free = getattr(slot, "free_seats", slot.capacity - slot.seats_taken)
    return slot_row_out(
        (slot.pk, slot.start, slot.end, slot.capacity, free, slot.status, slot.service_id)
    )


def slot_row_out(row: tuple) -> dict:
    """slot_detail_out of a (id, start, end, capacity, free_seats, status, service_id) row."""
    pk, start, end, capacity, free, status, service_id = row
    start_iso, end_iso, day, label = timefmt.slot_texts(start, end)
    return {
        "id": pk,
        "_id": pk,
        "start": start_iso,
        "end": end_iso,
        "date": day,
        "label": label,
        "capacity": capacity,
        "booked": capacity - free,
        "available": free,
        "status": status,
        "serviceId": service_id,
    }


def doctor_slots_out(page: DoctorSlotsPage) -> dict:
    data = {"docEmail": page.email, "docSlot": doc_slot_rows_out(page.free)}
    if page.own is not None:
        data["slots"] = [slot_row_out(row) for row in page.own]
    return data


# Response shapes, for the OpenAPI schema (the functions above build the bodies).


class IdNameOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    name = serializers.CharField()


class AvailabilityDoctorOut(IdNameOut):
    docEmail = serializers.EmailField()


class SlotDoctorOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AvailabilitySlotOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    doctor = SlotDoctorOut()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    date = serializers.CharField(help_text='"Saturday, May 27, 2023", clinic time zone')
    label = serializers.CharField(help_text='"12.00 PM-02.00 PM", clinic time zone')
    available = serializers.IntegerField()


class AvailabilityOut(IdNameOut):
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    availableSpaces = serializers.IntegerField()
    doctors = AvailabilityDoctorOut(many=True)
    slots = AvailabilitySlotOut(many=True)


class DoctorCardOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    name = serializers.CharField()
    displayName = serializers.CharField(help_text='"Dr. " and the name, however it was typed')
    specialty = serializers.CharField(allow_null=True)
    specialtyId = serializers.IntegerField(allow_null=True)
    bio = serializers.CharField(allow_blank=True)
    image = serializers.CharField(allow_blank=True)
    nextAvailable = serializers.DateTimeField(
        allow_null=True,
        help_text="Start of the doctor's first free bookable slot (clinic offset), or null",
    )


def doctor_card_out(card: DoctorCard) -> dict:
    return {
        "id": card.pk,
        "_id": card.pk,
        "name": card.name,
        "displayName": display_name(card),
        "specialty": card.specialty_name,
        "specialtyId": card.specialty_id,
        "bio": card.bio or "",
        "image": card.image,
        "nextAvailable": timefmt.local_iso(card.next_available) if card.next_available else None,
    }


class DocSlotOut(serializers.Serializer):
    date = serializers.CharField()
    slot = serializers.ListField(child=serializers.CharField())


class SlotDetailOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    date = serializers.CharField()
    label = serializers.CharField()
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    available = serializers.IntegerField()
    status = enum_field(SlotStatus.values)
    serviceId = serializers.IntegerField()


class DoctorSlotsOut(serializers.Serializer):
    docEmail = serializers.EmailField()
    docSlot = DocSlotOut(many=True)
    slots = SlotDetailOut(many=True, required=False, help_text="Only for the doctor and admins")


class NothingChangedOut(serializers.Serializer):
    changed = serializers.BooleanField()


class SlotsWrittenOut(serializers.Serializer):
    docEmail = serializers.EmailField()
    docSlot = DocSlotOut(many=True)
    slots = SlotDetailOut(many=True)


# Request shapes, for the OpenAPI schema. Bodies are parsed by the Input serializers
# above; these say what a well-formed request is, including the reference's shapes.


class DocSlotIn(serializers.Serializer):
    date = serializers.CharField(help_text='"Saturday, May 27, 2023" or "2026-05-27"')
    slot = serializers.ListField(
        child=serializers.CharField(help_text='"12.00 PM-02.00 PM" or "12:00-14:00"'),
        min_length=1,
    )


class SlotCreateDoc(serializers.Serializer):
    docEmail = serializers.EmailField(help_text="The doctor; must be the caller unless admin")
    docSlot = DocSlotIn(many=True)
    service = ServiceRefField(required=False)
    capacity = serializers.IntegerField(required=False, min_value=1, max_value=1000)
    status = enum_field([SlotStatus.PUBLISHED, SlotStatus.UNPUBLISHED], required=False)


_EMAIL = {"type": "string", "format": "email"}
_CAPACITY = {"type": "integer", "minimum": 1, "maximum": 1000}
_TEXT = {"type": "string", "minLength": 1}

# PATCH slot(s) takes one of three shapes; each lists exactly its fields, so no body
# matches two (the view refuses unknown fields the same way).
SLOT_PATCH_SCHEMA = {
    "oneOf": [
        {
            "title": "Change one slot by id",
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "docEmail": _EMAIL,
                "capacity": _CAPACITY,
                "status": {"type": "string", "pattern": "^(published|unpublished|cancelled)$"},
                "service": SERVICE_REF_SCHEMA,
            },
        },
        {
            "title": "Add or remove slots by date and label",
            "type": "object",
            "required": ["docEmail", "date", "slot", "action"],
            "additionalProperties": False,
            "properties": {
                "docEmail": _EMAIL,
                "date": {**_TEXT, "description": '"Saturday, May 27, 2023" or "2026-05-27"'},
                "slot": {"type": "array", "minItems": 1, "items": _TEXT},
                "action": {"type": "string", "enum": ["add", "remove"]},
                "service": SERVICE_REF_SCHEMA,
                "capacity": _CAPACITY,
            },
        },
        {
            "title": "The reference client's follow-up after booking (changes nothing)",
            "type": "object",
            "required": ["doctor", "AppointmentDate", "slot"],
            "additionalProperties": False,
            "properties": {"doctor": _TEXT, "AppointmentDate": _TEXT, "slot": _TEXT},
        },
    ]
}
