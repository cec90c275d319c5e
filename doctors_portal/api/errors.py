"""Domain errors that services raise; the exception handler turns them into envelopes."""

from rest_framework import status
from rest_framework.exceptions import APIException


class DomainError(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    kind = "Validation Error"
    default_detail = "The request cannot be applied."

    def __init__(self, detail: str | None = None, *, path: str = ""):
        super().__init__(detail or self.default_detail)
        self.path = path


class NotFoundAt(DomainError):
    """404 naming the field whose value matched nothing (an email, a label, an id)."""

    status_code = status.HTTP_404_NOT_FOUND
    kind = "Not Found"
    default_detail = "The requested resource was not found."


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    kind = "Conflict"
    default_detail = "The request conflicts with the current state."


class DuplicateEntry(DomainError):
    status_code = status.HTTP_409_CONFLICT
    kind = "Duplicate Entry"
    default_detail = "This record already exists."


class PaymentError(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    kind = "Payment Error"
    default_detail = "The payment was declined."


class PaymentProviderUnavailable(DomainError):
    status_code = status.HTTP_502_BAD_GATEWAY
    kind = "Payment Error"
    default_detail = "The payment provider could not be reached. Nothing was charged; try again."


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    kind = "Payload Too Large"
    default_detail = "The request body is larger than 1 MiB."
