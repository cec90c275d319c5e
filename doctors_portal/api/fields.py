"""Input fields every app parses client text with: one id, one date."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from doctors_portal.ids import MAX_ID, is_id_text


class FlexibleIdField(serializers.IntegerField):
    """A positive id as a JSON number or a string of ASCII digits; never true/false or 1.5,
    nor beyond the largest id a row can have (MAX_ID, 400 instead of a 404 or an overflow)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("invalid")
        if isinstance(data, str) and not is_id_text(data.strip()):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
)
class DayField(serializers.DateField):
    """A date, "YYYY-MM-DD" in ASCII digits, sent as a JSON string (strptime's %Y, like
    Python's \\d, also reads full-width digits)."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", input_formats=["%Y-%m-%d"], **kwargs)

    def to_internal_value(self, value):
        if not isinstance(value, str) or not value.isascii():
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)
