"""One exception handler for the whole API: every error becomes the envelope of API.md."""

import logging
import traceback

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework_simplejwt.exceptions import DetailDictMixin

from doctors_portal import errors as domain
from doctors_portal.db.failures import RETRY_AFTER_SECONDS, database_failure_message
from doctors_portal.errors import DomainError, PayloadTooLarge

logger = logging.getLogger(__name__)

KIND_BY_STATUS = {
    400: "Validation Error",
    401: "Authentication Error",
    402: "Payment Error",
    403: "Permission Denied",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Payment Error",
    503: "Service Unavailable",
}


# Where each kind of domain error lands in HTTP: the API's one mapping (the pages have
# theirs in doctors_portal.pages). The envelope's `message` is the status's name, except
# for the codes named here.
STATUS_BY_KIND = {
    domain.INVALID: status.HTTP_400_BAD_REQUEST,
    domain.UNAUTHENTICATED: status.HTTP_401_UNAUTHORIZED,
    domain.PAYMENT_DECLINED: status.HTTP_402_PAYMENT_REQUIRED,
    domain.FORBIDDEN: status.HTTP_403_FORBIDDEN,
    domain.NOT_FOUND: status.HTTP_404_NOT_FOUND,
    domain.CONFLICT: status.HTTP_409_CONFLICT,
    domain.TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    domain.UPSTREAM: status.HTTP_502_BAD_GATEWAY,
}
KIND_BY_CODE = {"duplicate_entry": "Duplicate Entry"}


def domain_error_response(exc: DomainError, context) -> Response:
    status_code = STATUS_BY_KIND[exc.kind]
    headers = {}
    view, request = context.get("view"), context.get("request")
    if exc.kind == domain.UNAUTHENTICATED and view is not None and request is not None:
        # What DRF adds to its own AuthenticationFailed: the scheme to authenticate with.
        auth_header = view.get_authenticate_header(request)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
    if exc.retry_after_seconds:
        headers["Retry-After"] = str(exc.retry_after_seconds)
    messages = [{"path": path, "message": message} for path, message in exc.messages()]
    kind = KIND_BY_CODE.get(exc.code) or KIND_BY_STATUS.get(status_code)
    return Response(
        error_body(status_code=status_code, messages=messages, kind=kind, exc=exc),
        status=status_code,
        headers=headers,
    )


def error_body(
    *, status_code: int, messages: list[dict], kind: str | None = None, exc=None
) -> dict:
    body = {
        "success": False,
        "status": "Error",
        "message": kind or KIND_BY_STATUS.get(status_code, "Error"),
        "errorMessages": messages,
    }
    if settings.DEBUG and exc is not None:
        body["stack"] = "".join(traceback.format_exception(exc))
    return body


def flatten_detail(detail, path: str = "") -> list[dict]:
    """DRF's nested error detail as a flat list of {path, message}."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            key = "" if key == api_settings.NON_FIELD_ERRORS_KEY else str(key)
            items += flatten_detail(value, f"{path}.{key}" if path and key else path or key)
        return items
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"path": path, "message": str(item)} for item in detail]
        items = []
        for index, value in enumerate(detail):
            if value:
                items += flatten_detail(value, f"{path}[{index}]" if path else str(index))
        return items
    return [{"path": path, "message": str(detail)}]


def unsupported_media_message(exc, context) -> str:
    """DRF's 415 sentence, and what the route takes instead (JSON; PATCH users also
    multipart/form-data for uploads)."""
    view = context.get("view")
    accepted = ", ".join(parser.media_type for parser in view.get_parsers()) if view else ""
    return f"{exc.detail} Send it as {accepted}." if accepted else str(exc.detail)


# simplejwt's other refusals (plain AuthenticationFailed), by code, in our words.
TOKEN_REFUSAL_BY_CODE = {
    "user_not_found": domain.TOKEN_NOT_VALID,  # its user was deleted
    "user_inactive": "This account is deactivated.",
    "password_changed": domain.TOKEN_PASSWORD_CHANGED,
    "bad_authorization_header": "Send the token as: Authorization: Bearer <token>.",
}


def token_refusal_detail(exc) -> dict | None:
    """simplejwt's refusal as its detail dict, or None for errors that are not one."""
    if isinstance(exc, DetailDictMixin):
        return exc.detail
    code = exc.get_codes() if isinstance(exc, exceptions.AuthenticationFailed) else None
    if isinstance(code, str) and code in TOKEN_REFUSAL_BY_CODE:
        return {"detail": str(exc.detail), "code": code}
    return None


def token_failure_message(detail: dict) -> str:
    """simplejwt's refusal of a token as one plain sentence: its detail is a dict of the
    token classes it tried, codes and messages, none of which a client acts on. The one
    thing worth telling apart is an expired token (refresh it) from a bad one."""
    if detail.get("code") in TOKEN_REFUSAL_BY_CODE:
        return TOKEN_REFUSAL_BY_CODE[detail["code"]]
    tried = detail.get("messages") or []
    said = [str(detail.get("detail", "")), *(str(item.get("message", "")) for item in tried)]
    if any(word in text for text in said for word in ("is expired", "has expired")):
        return "The token has expired: refresh it or sign in again."
    if any("wrong type" in text for text in said):
        return (
            "The token is of the wrong kind: the API takes the access token, "
            "auth/token/refresh the refresh token."
        )
    if tried or detail.get("code") == "token_not_valid":
        return domain.TOKEN_NOT_VALID
    return str(detail.get("detail") or "The token was refused: sign in again.")


def refused_request_message(exc: SuspiciousOperation) -> str:
    """Django's refusal of a request it would not read, without naming its settings."""
    if isinstance(exc, TooManyFieldsSent):
        limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return f"The request has more than {limit} fields (query parameters or form fields)."
    if isinstance(exc, TooManyFilesSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    return "The request was refused as malformed."


def database_unavailable_response(exc, message: str) -> Response:
    logger.warning("Database failure: %s", exc)
    return Response(
        error_body(status_code=503, messages=[{"path": "", "message": message}], exc=exc),
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def envelope_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("The requested resource was not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Too many query parameters, form fields or files, a garbled multipart body:
        # Django's own handler answers these 400 too (outside DRF, and on the pages).
        exc = exceptions.ValidationError(refused_request_message(exc))
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail)

    if isinstance(exc, DomainError):
        return domain_error_response(exc, context)
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ParseError):
            messages = [{"path": "", "message": f"Malformed request body: {exc.detail}"}]
            kind = "Validation Error"
        elif isinstance(exc, exceptions.UnsupportedMediaType):
            messages = [{"path": "", "message": unsupported_media_message(exc, context)}]
            kind = None
        elif (refusal := token_refusal_detail(exc)) is not None:
            messages = [{"path": "", "message": token_failure_message(refusal)}]
            kind = None
        else:
            messages = flatten_detail(exc.detail)
            kind = None
        status_code = exc.status_code
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            status_code = status.HTTP_401_UNAUTHORIZED
        return Response(
            error_body(status_code=status_code, messages=messages, kind=kind, exc=exc),
            status=status_code,
            headers=headers,
        )

    database_message = database_failure_message(exc)
    if database_message:
        return database_unavailable_response(exc, database_message)

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    return Response(
        error_body(
            status_code=500,
            messages=[{"path": "", "message": "Something went wrong on our side."}],
            exc=exc,
        ),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
