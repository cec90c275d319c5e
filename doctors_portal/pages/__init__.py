"""What the server-rendered pages share: domain errors as page statuses and form errors.

The pages' one mapping from a domain error to HTTP (the API's is in
doctors_portal.api.exceptions). Page views catch `DomainError`, never DRF's exceptions.
"""

from http import HTTPStatus

from doctors_portal import errors as domain
from doctors_portal.errors import DomainError

STATUS_BY_KIND = {
    domain.INVALID: HTTPStatus.BAD_REQUEST,
    domain.UNAUTHENTICATED: HTTPStatus.UNAUTHORIZED,
    domain.PAYMENT_DECLINED: HTTPStatus.PAYMENT_REQUIRED,
    domain.FORBIDDEN: HTTPStatus.FORBIDDEN,
    domain.NOT_FOUND: HTTPStatus.NOT_FOUND,
    domain.CONFLICT: HTTPStatus.CONFLICT,
    domain.TOO_LARGE: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    domain.UPSTREAM: HTTPStatus.BAD_GATEWAY,
}


def page_status(exc: DomainError) -> int:
    """The status a page answers with when a service refused with `exc`."""
    return int(STATUS_BY_KIND[exc.kind])


def service_errors(exc: DomainError) -> list[tuple[str, str]]:
    """[(path, message)] of a service's exception; path '' means the whole request."""
    return exc.messages()


def add_service_errors(
    form, exc: DomainError, field_by_path: dict[str, str], default: str | None = None
) -> None:
    """Put each error beside its field; anything unmapped goes to `default` or the top."""
    for path, message in service_errors(exc):
        field = field_by_path.get(path)
        if field is None:
            field = field_by_path.get(path.split(".")[-1].split("[")[0], default if path else None)
        form.add_error(field if field in form.fields else None, message)
