"""Input parsing and output shapes of weekly hours and time off (API.md "Doctors and
schedules"). Values are parsed here; scheduling/schedules.py decides what they mean."""

from datetime import UTC, date, datetime, time

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from doctors_portal.api.fields import DayField
from scheduling import timefmt
from scheduling.models import WEEKDAYS, Slot, TimeOff, WeeklyRule
from scheduling.serializers import (
    ExactFieldsMixin,
    IdNameOut,
    ServiceRefField,
    SlotDetailOut,
    StrictCharField,
    StrictIntegerField,
    service_brief,
    slot_detail_out,
)

FULL_NAMES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


class WeekdayField(serializers.Field):
    """ "mon" … "sun" (any case; full English names too)."""

    default_error_messages = {"invalid": "A weekday: one of mon, tue, wed, thu, fri, sat, sun."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        text = data.strip().lower()
        text = FULL_NAMES.get(text, text)
        if text not in WEEKDAYS:
            self.fail("invalid")
        return text

    def to_representation(self, value):
        return value


extend_schema_field({"type": "string", "enum": list(WEEKDAYS)})(WeekdayField)


class WeekdaysField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=WeekdayField(), min_length=1, max_length=7, **kwargs)

    def to_internal_value(self, data):
        days = super().to_internal_value(data)
        if len(set(days)) != len(days):
            raise serializers.ValidationError("Name each weekday once.")
        return sorted(days, key=WEEKDAYS.index)


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"}
)
class ClockField(serializers.TimeField):
    """A wall-clock time "HH:MM" (24-hour) in the clinic's time zone."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", input_formats=["%H:%M"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="HH:MM")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "type": "string",
        "description": 'An ISO 8601 date-time ("2026-12-24T13:00", clinic time when it has no '
        'offset) or a date ("2026-12-24": the start of that day for `start`, its end for `end`).',
    }
)
class InstantField(serializers.Field):
    """A start or end of time off as an aware UTC datetime."""

    default_error_messages = {
        "invalid": 'An ISO 8601 date-time ("2026-12-24T13:00") or a date ("2026-12-24").'
    }

    def __init__(self, *, is_end: bool, **kwargs):
        self.is_end = is_end
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 40:
            self.fail("invalid")
        text = data.strip()
        try:
            if len(text) == 10:
                bounds = timefmt.day_bounds(date.fromisoformat(text))
                return bounds[1] if self.is_end else bounds[0]
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timefmt.clinic_tz(), fold=0)
            return moment.astimezone(UTC)
        except (ValueError, OverflowError, timefmt.TimeFormatError):
            self.fail("invalid")

    def to_representation(self, value):
        return timefmt.local_iso(value)


class ScheduleInput(ExactFieldsMixin, serializers.Serializer):
    docEmail = serializers.EmailField(
        required=False, help_text="The doctor; must be the caller unless admin"
    )
    service = ServiceRefField(required=False, help_text="Service id or name; default: specialty")
    weekdays = WeekdaysField()
    start = ClockField(help_text='"09:00", clinic time')
    end = ClockField(help_text='"13:00", clinic time, the same day')
    slotMinutes = StrictIntegerField(min_value=1, max_value=100_000)
    capacity = StrictIntegerField(required=False, default=1, min_value=1, max_value=1000)
    validFrom = DayField(help_text="Today or later")
    validUntil = DayField(required=False, allow_null=True, help_text="Last day; none: no end")


class SchedulePatchInput(ScheduleInput):
    """The same fields, each optional."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field_ in self.fields.items():
            field_.required = False
            if name == "capacity":
                field_.default = serializers.empty


SERVICE_ARGS = {
    "weekdays": "weekdays",
    "start": "start_time",
    "end": "end_time",
    "slotMinutes": "slot_minutes",
    "capacity": "capacity",
    "validFrom": "valid_from",
    "validUntil": "valid_until",
}


class TimeOffInput(ExactFieldsMixin, serializers.Serializer):
    docEmail = serializers.EmailField(required=False, help_text="Admins name the doctor")
    start = InstantField(is_end=False)
    end = InstantField(is_end=True)
    reason = StrictCharField(required=False, allow_blank=True, max_length=200, default="")


def _clock(value: time) -> str:
    return value.strftime("%H:%M")


def rule_out(rule: WeeklyRule) -> dict:
    return {
        "id": rule.pk,
        "_id": rule.pk,
        "docEmail": rule.doctor.email,
        "doctor": {"id": rule.doctor_id, "name": rule.doctor.name},
        "service": service_brief(rule.service),
        "weekdays": rule.weekday_list,
        "start": _clock(rule.start_time),
        "end": _clock(rule.end_time),
        "slotMinutes": rule.slot_minutes,
        "capacity": rule.capacity,
        "validFrom": rule.valid_from.isoformat(),
        "validUntil": rule.valid_until.isoformat() if rule.valid_until else None,
        "generatedUntil": rule.generated_until.isoformat() if rule.generated_until else None,
        "timeZone": timefmt.clinic_tz().key,
    }


def schedule_result_out(result, *, kept: list[Slot] | None = None) -> dict:
    return {
        **rule_out(result.rule),
        "created": result.created,
        "removed": result.removed,
        "kept": [slot_detail_out(slot) for slot in (result.kept if kept is None else kept)],
    }


def time_off_out(time_off: TimeOff, **counts) -> dict:
    return {
        "id": time_off.pk,
        "_id": time_off.pk,
        "docEmail": time_off.doctor.email,
        "start": timefmt.local_iso(time_off.start),
        "end": timefmt.local_iso(time_off.end),
        "reason": time_off.reason,
        "createdAt": timefmt.local_iso(time_off.created_at),
        **counts,
    }


# Response shapes, for the OpenAPI schema (the functions above build the bodies).


class DoctorBriefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RuleOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    docEmail = serializers.EmailField()
    doctor = DoctorBriefOut()
    service = IdNameOut()
    weekdays = serializers.ListField(child=WeekdayField())
    start = serializers.CharField(help_text='"HH:MM"')
    end = serializers.CharField(help_text='"HH:MM"')
    slotMinutes = serializers.IntegerField()
    capacity = serializers.IntegerField()
    validFrom = serializers.DateField()
    validUntil = serializers.DateField(allow_null=True)
    generatedUntil = serializers.DateField(
        allow_null=True, help_text="Slots are generated through this date"
    )
    timeZone = serializers.CharField()


class ScheduleWrittenOut(RuleOut):
    created = serializers.IntegerField(help_text="Slots generated by this request")
    removed = serializers.IntegerField(help_text="Future unbooked slots withdrawn")
    kept = SlotDetailOut(many=True, help_text="Booked slots of the rule that stay")


class TimeOffOut(serializers.Serializer):
    id = serializers.IntegerField()
    _id = serializers.IntegerField()
    docEmail = serializers.EmailField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)
    createdAt = serializers.DateTimeField()


class TimeOffWrittenOut(TimeOffOut):
    removed = serializers.IntegerField(required=False, help_text="Slots withdrawn")
    created = serializers.IntegerField(required=False, help_text="Slots generated again")
