"""Input parsing and output shapes of services and slots (API.md, "Services and slots")."""

from collections import OrderedDict

from rest_framework import serializers

from scheduling import timefmt
from scheduling.models import Service, Slot, SlotStatus
from scheduling.selectors import ServiceAvailability


def service_ref(value) -> Service | None:
    """A service named by id or by name (case-insensitive); None when not sent."""
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise serializers.ValidationError({"service": ["Name a service by id or name."]})
    query = Service.objects.all()
    text = str(value).strip()
    service = (
        query.filter(pk=int(text)).first()
        if text.isdigit()
        else query.filter(name__iexact=text).first()
    )
    if service is None:
        raise serializers.ValidationError({"service": [f'No service "{value}".']})
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
    service = serializers.JSONField(required=False, allow_null=True)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=1000, default=1)
    status = serializers.ChoiceField(
        choices=[SlotStatus.PUBLISHED, SlotStatus.UNPUBLISHED],
        required=False,
        default=SlotStatus.PUBLISHED,
    )


class SlotPatchByLabelInput(serializers.Serializer):
    docEmail = serializers.EmailField(required=False)
    date = serializers.JSONField()
    slot = serializers.JSONField()
    action = serializers.ChoiceField(choices=["add", "remove"])
    service = serializers.JSONField(required=False, allow_null=True)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=1000, default=1)


class SlotPatchByIdInput(serializers.Serializer):
    id = StrictIntegerField(min_value=1)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=1000)
    status = serializers.ChoiceField(choices=SlotStatus.values, required=False)
    service = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) - {"docEmail"}
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be changed."] for name in sorted(unknown)}
            )
        return attrs


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
        "doctors": [
            {"id": d.pk, "_id": d.pk, "name": d.name, "docEmail": d.email} for d in item.doctors
        ],
        "slots": [
            {
                "id": slot.pk,
                "_id": slot.pk,
                "doctor": {"id": slot.doctor_id, "name": slot.doctor.name},
                "start": timefmt.local_iso(slot.start),
                "end": timefmt.local_iso(slot.end),
                "date": timefmt.format_date(slot.start),
                "label": timefmt.format_label(slot.start, slot.end),
                "available": slot.free_seats,
            }
            for slot in item.slots
        ],
    }


def doc_slot_out(slots: list[Slot]) -> list[dict]:
    """`[{date, slot: [labels]}]`, dates in order, in the reference's format."""
    grouped: OrderedDict[str, list[str]] = OrderedDict()
    for slot in sorted(slots, key=lambda s: (s.start, s.pk)):
        grouped.setdefault(timefmt.format_date(slot.start), []).append(
            timefmt.format_label(slot.start, slot.end)
        )
    return [{"date": day, "slot": labels} for day, labels in grouped.items()]


def slot_detail_out(slot: Slot) -> dict:
    free = getattr(slot, "free_seats", slot.capacity - slot.seats_taken)
    return {
        "id": slot.pk,
        "_id": slot.pk,
        "start": timefmt.local_iso(slot.start),
        "end": timefmt.local_iso(slot.end),
        "date": timefmt.format_date(slot.start),
        "label": timefmt.format_label(slot.start, slot.end),
        "capacity": slot.capacity,
        "booked": slot.capacity - free,
        "available": free,
        "status": slot.status,
        "serviceId": slot.service_id,
    }


def doctor_slots_out(*, email: str, public: list[Slot], private: list[Slot] | None) -> dict:
    data = {"docEmail": email, "docSlot": doc_slot_out(public)}
    if private is not None:
        data["slots"] = [slot_detail_out(slot) for slot in private]
    return data
