"""Cross-origin browser clients (API.md, "Cross-origin clients"), with django-cors-headers.

A browser sends a preflight (OPTIONS with Access-Control-Request-*) before any request
that carries Authorization or a JSON Content-Type, and only hands the answer to the page
when Access-Control-Allow-Origin names the page's origin. These tests send exactly that
and read what the browser would read.
"""

import pytest
from django.test import Client

from tests.test_platform import PRODUCTION, _manage

ALLOWED = "http://localhost:3000"
REFUSED = "https://evil.example"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _origins(settings):
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED, "http://127.0.0.1:3000"]


def preflight(path: str, origin: str, method: str = "GET", headers: str = "authorization"):
    return Client().options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def allowed_headers(response) -> set[str]:
    raw = response.headers.get("Access-Control-Allow-Headers", "")
    return {h.strip().lower() for h in raw.split(",") if h.strip()}


def test_preflight_from_an_allowed_origin_is_answered_before_authentication():
    # The admin-only users list: an unauthenticated OPTIONS would be 401 if it reached DRF.
    response = preflight("/api/v1/users?userType=Patient", ALLOWED, "GET", "authorization")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert {"authorization", "content-type"} <= allowed_headers(response)
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response.headers  # tokens, no cookies
    assert response.content == b""


@pytest.mark.parametrize(
    "path,method",
    [
        ("/api/v1/bookings", "POST"),
        ("/api/v1/users?id=7", "PATCH"),
        ("/api/v1/users?id=7", "DELETE"),
        ("/api/v1/slots", "PATCH"),
    ],
)
def test_preflight_allows_the_methods_a_client_writes_with(path, method):
    response = preflight(path, "http://127.0.0.1:3000", method, "authorization,content-type")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert {"authorization", "content-type"} <= allowed_headers(response)


def test_preflight_from_a_refused_origin_carries_no_permission():
    response = preflight("/api/v1/bookings", REFUSED, "POST", "authorization,content-type")
    # Answered (nothing authenticates a preflight), but without the headers the browser
    # needs, so it never sends the request itself.
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers
    assert "Access-Control-Allow-Headers" not in response.headers


def test_request_from_an_allowed_origin_is_readable_by_the_page():
    response = Client().get("/api/v1/appointmentSpecialty", headers={"Origin": ALLOWED})
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "origin" in response.headers["Vary"].lower()  # caches keep origins apart
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert {"retry-after", "content-disposition"} <= {
        h.strip().lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")
    }


def test_request_from_a_refused_origin_is_not_readable_by_the_page():
    response = Client().get("/api/v1/appointmentSpecialty", headers={"Origin": REFUSED})
    assert response.status_code == 200  # the server answers; the browser withholds it
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Expose-Headers" not in response.headers


def test_errors_reach_an_allowed_page_so_it_can_read_the_envelope():
    response = Client().get("/api/v1/users?userType=Patient", headers={"Origin": ALLOWED})
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication Error"
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_the_envelope_middlewares_own_answers_carry_cors_too():
    response = Client().post(
        "/api/v1/bookings",
        data=b"{}",
        content_type="application/json",
        headers={"Origin": ALLOWED, "Content-Length": str(2 * 1024 * 1024)},
    )
    assert response.status_code == 413
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_pages_outside_the_api_get_no_cors_headers():
    response = Client().get("/", headers={"Origin": ALLOWED})
    assert "Access-Control-Allow-Origin" not in response.headers


def _origins_in(**env) -> str:
    result = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # after shell's own notice


def test_production_allows_no_origin_unless_one_is_set():
    assert _origins_in(**PRODUCTION) == "[]"
    assert _origins_in(
        **PRODUCTION, CORS_ALLOWED_ORIGINS="https://app.example.org,https://b.example"
    ) == ("['https://app.example.org', 'https://b.example']")


def test_development_allows_the_usual_local_front_ends():
    origins = _origins_in(DJANGO_DEBUG="1")
    for origin in ("http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:5173"):
        assert f"'{origin}'" in origins
