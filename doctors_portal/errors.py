"""Domain errors: what a service or selector raises when a request cannot be applied.

Plain Python exceptions, no HTTP in them. Each has a `kind` (what went wrong, in the
domain's words) and a `code` (which error it is, stable for clients and tests). Only the
two presentation layers turn them into HTTP, each in one place:

- the API: `doctors_portal.api.exceptions.envelope_exception_handler` (the API.md envelope);
- the pages: `doctors_portal.pages` (`page_status`, `service_errors`, `add_service_errors`).

A message belongs to a `path` (the request field it is about, '' for the whole request);
`errors={path: [message, ...]}` carries several at once (a form's field errors).
"""

from collections.abc import Mapping

# The kinds a presentation layer maps to HTTP; a new kind needs a row in both mappings
# (tests/test_domain_errors.py checks that each one is mapped).
INVALID = "invalid"  # the request itself is wrong (400)
UNAUTHENTICATED = "unauthenticated"  # no or failed proof of identity (401)
PAYMENT_DECLINED = "payment_declined"  # the card was declined (402)
FORBIDDEN = "forbidden"  # who asks may not do this (403)
NOT_FOUND = "not_found"  # nothing matches (404)
CONFLICT = "conflict"  # the current state does not allow it (409)
TOO_LARGE = "too_large"  # the request body is too large (413)
UPSTREAM = "upstream"  # a provider we depend on failed or refused us (502)

KINDS = (
    INVALID,
    UNAUTHENTICATED,
    PAYMENT_DECLINED,
    FORBIDDEN,
    NOT_FOUND,
    CONFLICT,
    TOO_LARGE,
    UPSTREAM,
)


class DomainError(Exception):
    kind = INVALID
    code = "invalid"
    default_detail = "The request cannot be applied."
    # Seconds after which the same request may well succeed: the API's Retry-After.
    retry_after_seconds: int | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "status_code" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__}: domain errors carry no HTTP status; set `kind` "
                f"(one of {', '.join(KINDS)}) and the API and pages map it."
            )
        if cls.kind not in KINDS:
            raise TypeError(f"{cls.__name__}.kind must be one of {', '.join(KINDS)}.")

    def __init__(
        self,
        detail: str | None = None,
        *,
        path: str = "",
        errors: Mapping[str, list[str]] | None = None,
    ):
        self.errors = {str(p): [str(m) for m in ms] for p, ms in (errors or {}).items()}
        if detail is None and self.errors:
            detail = next(m for ms in self.errors.values() for m in ms)
        self.detail = str(detail or self.default_detail)
        self.path = path
        super().__init__(self.detail)

    def messages(self) -> list[tuple[str, str]]:
        """[(path, message)] in order; path '' means the whole request."""
        if self.errors:
            return [(path, message) for path, ms in self.errors.items() for message in ms]
        return [(self.path, self.detail)]


class NotFound(DomainError):
    kind = NOT_FOUND
    code = "not_found"
    default_detail = "The requested resource was not found."


class NotFoundAt(NotFound):
    """Nothing matched the value at `path` (an email, a label, an id)."""

    code = "not_found"


class Forbidden(DomainError):
    kind = FORBIDDEN
    code = "forbidden"
    default_detail = "You do not have permission to perform this action."


# What a refused token is told, on the refresh path (accounts.services) and on every
# authenticated request (doctors_portal.api.exceptions) alike.
TOKEN_NOT_VALID = "The token is not valid: sign in again."
TOKEN_PASSWORD_CHANGED = "The password has changed since this sign-in: sign in again."


class Unauthenticated(DomainError):
    kind = UNAUTHENTICATED
    code = "unauthenticated"
    default_detail = "Incorrect authentication credentials."


class Conflict(DomainError):
    kind = CONFLICT
    code = "conflict"
    default_detail = "The request conflicts with the current state."


class DuplicateEntry(DomainError):
    kind = CONFLICT
    code = "duplicate_entry"
    default_detail = "This record already exists."


class PaymentError(DomainError):
    kind = PAYMENT_DECLINED
    code = "payment_declined"
    default_detail = "The payment was declined."


class PaymentProviderUnavailable(DomainError):
    kind = UPSTREAM
    code = "payment_provider_unavailable"
    default_detail = "The payment provider could not be reached. Nothing was charged; try again."


class PayloadTooLarge(DomainError):
    kind = TOO_LARGE
    code = "payload_too_large"
    default_detail = "The request body is larger than 1 MiB."
