"""Domain errors are plain exceptions: services know nothing of DRF, and the API and the
pages each map a domain error to HTTP in one place (imports read with ast)."""

import ast
from pathlib import Path

import pytest

from doctors_portal import errors as domain
from doctors_portal.api import exceptions as api_exceptions
from doctors_portal.errors import DomainError
from doctors_portal.pages import STATUS_BY_KIND as PAGE_STATUS_BY_KIND

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.django_db  # the cache the suite clears between tests is a table
APPS = ("accounts", "scheduling", "bookings", "payments", "audit", "calendars")
# Where the rules live: writes, reads, the seat ledger, the models, the domain errors.
DOMAIN_MODULES = ("services.py", "selectors.py", "seats.py", "models.py", "errors.py")
ALSO_DOMAIN = (
    "accounts/firebase.py",  # verifies an identity for accounts.services
    "doctors_portal/errors.py",
    "doctors_portal/api/errors.py",  # the old import location, re-exporting the above
    "doctors_portal/pages/__init__.py",
)


def _domain_files() -> list[Path]:
    files = [ROOT / path for path in ALSO_DOMAIN]
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT / app).parts
            if path.name in DOMAIN_MODULES or "models" in parts[:-1]:
                files.append(path)
    return sorted(files)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.add(node.module or "")
    return names


def test_the_scan_sees_the_domain_modules():
    seen = {str(path.relative_to(ROOT)) for path in _domain_files()}
    assert {
        "accounts/services.py",
        "accounts/selectors.py",
        "accounts/models.py",
        "bookings/seats.py",
        "payments/errors.py",
        "scheduling/services.py",
        "audit/selectors.py",
    } <= seen


def test_no_domain_module_imports_rest_framework():
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in _domain_files()
        for name in _imports(path)
        if name == "rest_framework" or name.startswith("rest_framework.")
    )
    assert offenders == [], "services, selectors and models raise doctors_portal.errors"


def test_no_page_catches_drf_exceptions():
    offenders = []
    for app in (*APPS, "doctors_portal"):
        for path in (ROOT / app).rglob("*.py"):
            is_page = path.name in ("views.py", "admin.py") or path.parent.name == "pages"
            if is_page and "APIException" in path.read_text():
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_domain_errors_are_not_drf_exceptions():
    from rest_framework.exceptions import APIException

    assert not issubclass(DomainError, APIException)
    assert DomainError.__mro__[1:] == (Exception, BaseException, object)


def test_every_kind_has_a_status_in_the_api_and_on_the_pages():
    assert set(api_exceptions.STATUS_BY_KIND) == set(domain.KINDS)
    assert set(PAGE_STATUS_BY_KIND) == set(domain.KINDS)
    assert {k: int(v) for k, v in PAGE_STATUS_BY_KIND.items()} == api_exceptions.STATUS_BY_KIND


def test_a_domain_error_cannot_carry_an_http_status():
    with pytest.raises(TypeError, match="no HTTP status"):

        class Teapot(DomainError):
            status_code = 418

    with pytest.raises(TypeError, match="kind must be one of"):

        class Odd(DomainError):
            kind = "odd"


def test_messages_keep_their_paths():
    assert DomainError("Bad.", path="name").messages() == [("name", "Bad.")]
    assert DomainError().messages() == [("", "The request cannot be applied.")]
    several = DomainError(errors={"a": ["one", "two"], "b[0]": ["three"]})
    assert several.messages() == [("a", "one"), ("a", "two"), ("b[0]", "three")]
    assert several.detail == "one"


def test_the_api_renders_a_domain_error_in_the_envelope(api_client):
    # A selector's DomainError(errors=...) and a service's Forbidden, through the handler.
    from tests.factories import AdminFactory

    admin = AdminFactory()
    api_client.force_authenticate(admin)
    bad = api_client.get("/api/v1/users", {"userType": "Nobody"})
    assert bad.status_code == 400
    assert bad.json()["message"] == "Validation Error"
    assert bad.json()["errorMessages"][0]["path"] == "userType"
    own = api_client.delete(f"/api/v1/users/{admin.pk}")
    assert own.status_code == 403
    assert own.json()["message"] == "Permission Denied"
    assert own.json()["errorMessages"] == [
        {"path": "", "message": "An administrator cannot delete their own account."}
    ]
