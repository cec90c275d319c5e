"""Building success envelopes: `{"success", "status", "message", "meta"?, "data"}`."""

from typing import Any

from rest_framework import status as http_status
from rest_framework.response import Response


class Envelope(dict):
    """A response body that is already an envelope; the renderer passes it through."""


def envelope(
    *, data: Any = None, message: str = "Success", meta: dict | None = None, **top_level: Any
) -> Envelope:
    body = Envelope(success=True, status="Success", message=message)
    if meta is not None:
        body["meta"] = meta
    # Reference clients read some values at the top level (accessToken, clientSecret, role).
    body.update(top_level)
    body["data"] = data
    return body


def ok(
    data: Any = None,
    *,
    message: str = "Success",
    status: int = http_status.HTTP_200_OK,
    meta: dict | None = None,
    headers: dict | None = None,
    **top_level: Any,
) -> Response:
    return Response(
        envelope(data=data, message=message, meta=meta, **top_level),
        status=status,
        headers=headers,
    )


def created(data: Any = None, *, message: str = "Created", **top_level: Any) -> Response:
    return ok(data, message=message, status=http_status.HTTP_201_CREATED, **top_level)
