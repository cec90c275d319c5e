"""drf-spectacular hook: describe every JSON response inside the envelope it travels in."""

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


def _is_enveloped(schema: dict) -> bool:
    return "success" in schema.get("properties", {})


def wrap_responses_in_envelope(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorEnvelope"] = ERROR_SCHEMA
    error_ref = {"$ref": "#/components/schemas/ErrorEnvelope"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            for code, response in responses.items():
                content = response.get("content", {}).get("application/json")
                if not content:
                    continue
                schema = content.get("schema", {})
                if str(code).startswith("2") and not _is_enveloped(schema):
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
