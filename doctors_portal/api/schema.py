"""drf-spectacular: describe every JSON response inside the envelope it travels in."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.openapi import AutoSchema
from rest_framework.views import APIView

ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "status", "message", "errorMessages"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "status": {"type": "string", "enum": ["Error"]},
        "message": {"type": "string"},
        "errorMessages": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "stack": {"type": "string"},
    },
}


def _is_enveloped(schema: dict, components: dict) -> bool:
    # A paginated list is a $ref to a component that already carries the envelope.
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = components.get(ref.rsplit("/", 1)[-1], {})
    return "success" in schema.get("properties", {})


def wrap_responses_in_envelope(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorEnvelope"] = ERROR_SCHEMA
    error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                # Every write that documents a body takes a JSON object and answers 400
                # without one (doctors_portal.api.requests.require_json_object).
                operation["requestBody"]["required"] = True
            responses = operation.get("responses", {})
            for code, response in responses.items():
                content = response.get("content", {}).get("application/json")
                if not content:
                    continue
                schema = content.get("schema", {})
                if str(code).startswith("2") and not _is_enveloped(schema, components):
                    content["schema"] = {
                        "type": "object",
                        "required": ["success", "status", "message", "data"],
                        "properties": {
                            "success": {"type": "boolean", "enum": [True]},
                            "status": {"type": "string", "enum": ["Success"]},
                            "message": {"type": "string"},
                            "data": schema,
                        },
                    }
                elif not str(code).startswith("2"):
                    content["schema"] = error_ref
    return result


# What DRF's CharField accepts, as a pattern: no NUL character (it refuses them), and, where
# blank is refused, at least one character its whitespace trimming (str.strip) keeps.
TEXT_PATTERN = "^[^\\x00]*$"
NON_BLANK_TEXT_PATTERN = "^[^\\x00]*[^\\x00\\s\\x1c-\\x1f\\x85][^\\x00]*$"


def describe_request_text(result, generator, request, public):
    """Give every free-text string of a request (body and parameters) the pattern it is
    really held to, so the schema promises no more than the server keeps (Schemathesis
    checks both)."""
    components = result.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def walk(schema):
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(components.get(name))
            return
        free_text = schema.get("type") == "string" and not (
            {"format", "enum", "pattern"} & set(schema)
        )
        if free_text:
            blank_refused = schema.get("minLength", 0) >= 1
            schema["pattern"] = NON_BLANK_TEXT_PATTERN if blank_refused else TEXT_PATTERN
        for key in ("properties", "patternProperties"):
            for child in schema.get(key, {}).values():
                walk(child)
        for key in ("items", "additionalProperties", "not"):
            walk(schema.get(key))
        for key in ("oneOf", "anyOf", "allOf"):
            for child in schema.get(key, []):
                walk(child)

    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                walk(media.get("schema"))
            for parameter in operation.get("parameters", []):
                # The address may not carry NUL either (doctors_portal.api.middleware).
                walk(parameter.get("schema"))
    return result


ERROR_DESCRIPTIONS = {
    "400": "Validation Error: malformed or invalid input",
    "401": "Authentication Error: missing, invalid or expired credentials",
    "403": "Permission Denied",
    "404": "Not Found, or not visible to the caller",
    "409": "Conflict or Duplicate Entry",
    "413": "Payload Too Large: the body is over 1 MiB",
    "415": "Unsupported Media Type: the body must be JSON",
    "429": "Too Many Requests: see Retry-After",
    "503": "Service Unavailable: the database connection was lost; retry (see Retry-After)",
}


def _throttles(view) -> list:
    """The view's throttles for the operation being described (empty if it cannot tell)."""
    try:
        return list(view.get_throttles())
    except Exception:  # a view whose get_throttles needs a real request: assume none
        return [throttle() for throttle in getattr(view, "throttle_classes", ())]


class EnvelopeAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, also listing the error statuses an operation can answer.

    Derived from the view, so the schema does not claim only the happy path:
    400 and 503 always (malformed input; database connection lost), 401/403
    when the view authenticates (401 also on the credential endpoints), 404 when
    the operation names something (path, query or a write's body), 409 on
    writes, 413/415 on writes with a body, 429 when the view throttles. A view
    may add more with `extra_error_statuses`
    (e.g. 502 when a payment provider is unreachable).
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        view = self.view
        codes = {"400", "503"}
        authenticates = bool(getattr(view, "authentication_classes", None)) or (
            type(view).get_authenticators is not APIView.get_authenticators
        )
        if authenticates:
            codes |= {"401", "403"}
        if any(getattr(t, "scope", None) == "auth" for t in _throttles(view)):
            # The credential endpoints (sign-in, refresh, logout) refuse bad credentials.
            codes.add("401")
        writes = self.method in ("POST", "PUT", "PATCH", "DELETE")
        if writes or operation.get("parameters") or "{" in path:
            codes.add("404")
        if writes:
            codes.add("409")
        if writes and self.method != "DELETE":
            codes |= {"413", "415"}
        if _throttles(view):
            codes.add("429")
        codes |= {str(code) for code in getattr(view, "extra_error_statuses", ())}
        responses = operation.setdefault("responses", {})
        for code in sorted(codes):
            responses.setdefault(
                code,
                {
                    "description": ERROR_DESCRIPTIONS.get(code, "Error"),
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorEnvelope"}
                        }
                    },
                },
            )
        return operation


class BearerJWTScheme(SimpleJWTScheme):
    """Our JWTAuthentication (simplejwt, any-case "Bearer") as the `jwtAuth` security scheme."""

    target_class = "accounts.authentication.JWTAuthentication"
    name = "jwtAuth"
