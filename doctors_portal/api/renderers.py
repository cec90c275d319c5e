import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from doctors_portal.api.responses import Envelope, envelope

_DRF_ENCODER = JSONEncoder()
# Datetimes go to DRF's encoder too, so they read exactly as before ("...Z" for UTC).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def _default(value):
    """What orjson cannot write (Decimal, lazy translations, datetimes, ...): DRF's rules."""
    return _DRF_ENCODER.default(value)


def json_bytes(value) -> bytes:
    """`value` as the renderer writes it; kept, it goes back in a response as json_fragment."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def json_fragment(rendered: bytes) -> orjson.Fragment:
    """JSON written earlier (json_bytes), placed in a response body as it is."""
    return orjson.Fragment(rendered)


class EnvelopeRenderer(JSONRenderer):
    """Wraps every success body in the envelope; error bodies come wrapped already.

    Writes JSON with orjson: the same compact UTF-8 DRF writes, about ten times faster,
    which is a fifth of a day's availability answer (about 300 slots, 40 kB)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code == 204:
            return b""
        is_error = response is not None and response.status_code >= 400
        if not is_error and not isinstance(data, Envelope):
            data = envelope(data=data)
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            return json_bytes(data)
        except orjson.JSONEncodeError:  # e.g. a lone surrogate: the standard library's rules
            return super().render(data, accepted_media_type, renderer_context)
