from rest_framework.renderers import JSONRenderer

from doctors_portal.api.responses import Envelope, envelope


class EnvelopeRenderer(JSONRenderer):
    """Wraps every success body in the envelope; error bodies come wrapped already."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code == 204:
            return b""
        is_error = response is not None and response.status_code >= 400
        if not is_error and not isinstance(data, Envelope):
            data = envelope(data=data)
        return super().render(data, accepted_media_type, renderer_context)
