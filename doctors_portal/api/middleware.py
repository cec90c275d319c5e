"""Keeps the envelope on answers DRF never sees: unknown routes, oversized bodies, crashes."""

import json
import logging

from django.conf import settings
from django.http import JsonResponse

from doctors_portal.api.exceptions import KIND_BY_STATUS, error_body
from doctors_portal.db.failures import RETRY_AFTER_SECONDS, database_failure_message

logger = logging.getLogger(__name__)
API_PREFIX = "/api/v1/"


def envelope_error(status_code: int, message: str, exc=None) -> JsonResponse:
    return JsonResponse(
        error_body(status_code=status_code, messages=[{"path": "", "message": message}], exc=exc),
        status=status_code,
    )


def database_unavailable_envelope(request, exc, message: str) -> JsonResponse:
    """The API's 503 where DRF's handler cannot answer: a view's middleware raised it, or a
    middleware before any view did (doctors_portal.unavailable.server_error)."""
    logger.warning("Database failure at %s: %s", request.path, exc)
    response = envelope_error(503, message, exc=exc)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # The warning is the failure's one record, not Django's 5xx line (and traceback) too.
    response._has_been_logged = True
    return response


class ApiEnvelopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return envelope_error(400, "Content-Length is not a number.")
        limit, what = settings.MAX_REQUEST_BODY_BYTES, "1 MiB"
        if _is_profile_upload(request):
            limit, what = upload_body_limit(), "the upload limit"
        if length > limit:
            return envelope_error(413, f"The request body is larger than {what}.")
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            # PostgreSQL text cannot hold NUL: refused here, not as a database error later.
            return envelope_error(400, "The address may not contain NUL characters (%00).")
        if length and not _is_profile_upload(request):
            # The whole body before anything takes a database connection: authentication
            # reads the user first, and a client stalling in its body would hold one of
            # the process's few pooled connections (DB_POOL_MAX_SIZE) while it stalls.
            # Within 1 MiB here; uploads stream to their parser as before.
            try:
                request.body  # noqa: B018  (reads and keeps it)
            except OSError:  # UnreadablePostError: the client went away mid-body
                return envelope_error(400, "The request body could not be read.")
        response = self.get_response(request)
        is_json = response.get("Content-Type", "").startswith("application/json")
        if response.status_code >= 400 and not is_json:
            return _as_envelope(response)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        database_message = database_failure_message(exception)
        if database_message:
            return database_unavailable_envelope(request, exception, database_message)
        logger.exception("Unhandled error at %s", request.path)
        return envelope_error(500, "Something went wrong on our side.", exc=exception)


def upload_body_limit() -> int:
    """A profile form may carry a photo and a licence document, each UPLOAD_MAX_BYTES."""
    return 2 * settings.UPLOAD_MAX_BYTES + settings.UPLOAD_FORM_OVERHEAD_BYTES


def _is_profile_upload(request) -> bool:
    # Only PATCH users/:id (and users?id=) takes files, as multipart/form-data.
    return (
        request.method == "PATCH"
        and request.path.startswith(API_PREFIX + "users")
        and request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data")
    )


def _as_envelope(response) -> JsonResponse:
    envelope = getattr(response, "data", None)
    if isinstance(envelope, dict) and "errorMessages" in envelope:
        # The API's handler made the envelope, but an HTML-only view (docs) rendered it
        # as a page: send the envelope itself, with the headers the handler set.
        enveloped = JsonResponse(envelope, status=response.status_code)
        for header in ("Retry-After", "WWW-Authenticate"):
            if header in response:
                enveloped[header] = response[header]
        return enveloped
    kind = KIND_BY_STATUS.get(response.status_code, "Error")
    return envelope_error(response.status_code, _plain_message(response, kind))


def _plain_message(response, kind: str) -> str:
    if response.status_code == 404:
        return "No route matches this path."
    try:
        return json.loads(response.content)["detail"]
    except (ValueError, KeyError, TypeError):
        return kind
