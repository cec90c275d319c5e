"""Kept so `from doctors_portal.api.errors import Conflict` goes on working: the domain
errors live in doctors_portal.errors (plain exceptions, no HTTP in them)."""

from doctors_portal.errors import (  # noqa: F401
    Conflict,
    DomainError,
    DuplicateEntry,
    Forbidden,
    NotFound,
    NotFoundAt,
    PayloadTooLarge,
    PaymentError,
    PaymentProviderUnavailable,
    Unauthenticated,
)
