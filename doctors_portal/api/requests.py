from rest_framework.exceptions import ValidationError


def require_json_object(data) -> dict:
    """Every write of this API takes a JSON object; a list or a scalar is a 400, not a 500."""
    if not isinstance(data, dict):
        raise ValidationError({"": ["The request body must be a JSON object."]})
    return data
