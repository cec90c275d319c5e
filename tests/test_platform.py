"""Cross-cutting behaviour every route shares: the envelope on every error, the schema,
health, and production settings that refuse to start unsafe."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from accounts import selectors
from accounts.throttles import AuthRateThrottle

BASE_DIR = Path(__file__).resolve().parent.parent

# The autouse cache fixture clears the database cache, so every test touches the DB.
pytestmark = pytest.mark.django_db


def assert_envelope(response, status: int, message: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False and body["status"] == "Error"
    assert body["message"] == message, body
    assert body["errorMessages"] and all(
        set(item) == {"path", "message"} for item in body["errorMessages"]
    )
    return body


# ---- The error envelope ----


def test_401_and_403_are_enveloped(patient, client_for):
    body = assert_envelope(APIClient().get("/api/v1/users"), 401, "Authentication Error")
    assert "stack" not in body
    assert_envelope(client_for(patient).get("/api/v1/users"), 403, "Permission Denied")
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert_envelope(bad.get("/api/v1/users"), 401, "Authentication Error")


@pytest.mark.parametrize("path", ["/api/v1/no-such-route", "/api/v1/no-such-route/"])
def test_unknown_route_is_an_enveloped_404(client, path):
    body = assert_envelope(client.get(path), 404, "Not Found")
    assert body["errorMessages"][0]["message"] == "No route matches this path."


def test_unknown_id_is_an_enveloped_404(admin_user, client_for):
    assert_envelope(client_for(admin_user).get("/api/v1/users/987654"), 404, "Not Found")


def test_wrong_verb_is_an_enveloped_405(admin_user, client_for):
    assert_envelope(client_for(admin_user).put("/api/v1/users", {}), 405, "Method Not Allowed")
    assert_envelope(APIClient().delete("/api/v1/health"), 405, "Method Not Allowed")


@pytest.mark.parametrize("raw", ['{"email": ', "not json", '{"a": 1}}', "\xff"])
def test_malformed_json_is_an_enveloped_400(raw):
    response = APIClient().post("/api/v1/auth/token", raw, content_type="application/json")
    body = assert_envelope(response, 400, "Validation Error")
    assert "Malformed request body" in body["errorMessages"][0]["message"]


def test_body_over_one_mebibyte_is_an_enveloped_413():
    huge = json.dumps({"email": "a@example.com", "password": "x" * (1024 * 1024)})
    response = APIClient().post("/api/v1/auth/token", huge, content_type="application/json")
    assert_envelope(response, 413, "Payload Too Large")


def test_throttled_is_an_enveloped_429_with_retry_after(monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "1/min"})
    client = APIClient()
    assert client.post("/api/v1/auth/token", {}).status_code == 400
    response = client.post("/api/v1/auth/token", {})
    assert_envelope(response, 429, "Too Many Requests")
    assert int(response["Retry-After"]) >= 1


def _boom(**kwargs):
    raise RuntimeError("selector exploded")


def test_500_is_enveloped_without_stack_in_production(admin_user, client_for, monkeypatch):
    monkeypatch.setattr(selectors, "user_list_filters", _boom)
    client = client_for(admin_user)
    client.raise_request_exception = False
    body = assert_envelope(client.get("/api/v1/users"), 500, "Server Error")
    assert "stack" not in body
    assert "exploded" not in json.dumps(body)


def test_500_carries_the_stack_only_with_debug(admin_user, client_for, monkeypatch, settings):
    settings.DEBUG = True
    monkeypatch.setattr(selectors, "user_list_filters", _boom)
    client = client_for(admin_user)
    client.raise_request_exception = False
    body = assert_envelope(client.get("/api/v1/users"), 500, "Server Error")
    assert "RuntimeError: selector exploded" in body["stack"]


@pytest.mark.parametrize(
    "path",
    ["users", "users/1", "user?email=a@example.com", "usersrole?email=a@example.com"],
)
def test_identity_paths_answer_with_and_without_trailing_slash(path):
    bare, _, query = path.partition("?")
    for variant in (bare, bare + "/"):
        url = f"/api/v1/{variant}" + (f"?{query}" if query else "")
        assert_envelope(APIClient().get(url), 401, "Authentication Error")


# ---- Schema, docs, health ----


@pytest.mark.parametrize(
    ("method", "path", "accepted"),
    [
        ("post", "/api/v1/bookings", "application/json"),
        ("post", "/api/v1/waitlist", "application/json"),
        ("patch", "/api/v1/users/{me}", "application/json, multipart/form-data"),
        ("post", "/api/v1/auth/token", "application/json"),
    ],
)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_body_of_another_media_type_is_an_enveloped_415(
    patient, client_for, method, path, accepted, content_type
):
    """API.md lists no 415; the API answers it in the envelope, naming what it takes, and
    the schema lists it on every write with a body (README, "HTTP statuses")."""
    response = client_for(patient).generic(
        method.upper(), path.format(me=patient.pk), "name=x", content_type=content_type
    )
    body = assert_envelope(response, 415, "Unsupported Media Type")
    (entry,) = body["errorMessages"]
    assert entry["path"] == ""
    assert content_type in entry["message"] and f"Send it as {accepted}." in entry["message"]


def test_the_schema_lists_415_on_writes_with_a_body(client):
    paths = json.loads(client.get("/api/v1/schema?format=json").content)["paths"]
    assert "415" in paths["/api/v1/bookings/"]["post"]["responses"]
    assert "415" in paths["/api/v1/users/{id}/"]["patch"]["responses"]
    assert "415" not in paths["/api/v1/users/{id}/"]["get"]["responses"]


def test_schema_is_valid_openapi_listing_the_identity_routes(client):
    response = client.get("/api/v1/schema?format=json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in ("/api/v1/users/", "/api/v1/jwt/", "/api/v1/auth/token/", "/api/v1/usersrole/"):
        assert path in paths, sorted(paths)
    assert "post" in paths["/api/v1/users/"]

    # A paginated list is enveloped once: `data` is the array, `meta` beside it.
    listed = paths["/api/v1/users/"]["get"]["responses"]["200"]["content"]["application/json"]
    ref = listed["schema"]["$ref"].rsplit("/", 1)[-1]
    page = schema["components"]["schemas"][ref]["properties"]
    assert page["data"]["type"] == "array" and "meta" in page


def test_swagger_ui_is_served(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    assert "swagger-ui" in response.content.decode().lower()


def test_health_is_200_when_the_database_answers(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["data"] == {"database": "ok"}


def _clean_env(**extra) -> dict:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return {**keep, "DJANGO_SETTINGS_MODULE": "doctors_portal.settings", **extra}


def test_health_is_503_when_the_database_is_unreachable():
    """A real unreachable database, not a mock: a fresh process whose DATABASE_URL points
    at a closed loopback port. (Stopping the test database would break every other test.)"""
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/api/v1/health');"
        "print(r.status_code); print(r.get('Retry-After')); print(r.content.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=_clean_env(
            DJANGO_DEBUG="1", DATABASE_URL="postgres://postgres@127.0.0.1:1/unreachable"
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    status, retry_after, body = result.stdout.split("\n", 2)
    assert status == "503", result.stdout + result.stderr
    assert retry_after == "1"  # a load balancer or client may retry that soon
    body = json.loads(body)
    assert body["success"] is False and body["message"] == "Service Unavailable"
    assert body["errorMessages"][0]["path"] == "database"


# ---- Production settings ----

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "portal.example.org",
    "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_hex(12),
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + secrets.token_hex(12),
    "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(12),
    "FIREBASE_PROJECT_ID": "doctors-portal-prod",
}


def _manage(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_no_dotenv_file_could_mask_these_tests():
    assert not (BASE_DIR / ".env").exists()


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "too-short", "insecure-" + "x" * 60],
    ids=["unset", "empty", "short", "insecure-prefix"],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret_key):
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    if secret_key is not None:
        env["DJANGO_SECRET_KEY"] = secret_key
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_to_start_with_the_firebase_emulator():
    result = _manage("check", **PRODUCTION, FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")
    assert result.returncode != 0
    assert "FIREBASE_AUTH_EMULATOR_HOST" in result.stderr


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_production_refuses_to_start_without_stripe_secrets(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_deploy_check_is_clean_with_a_production_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_unset_django_debug_is_production_and_refuses_to_start_without_secrets():
    """Fails closed: no DJANGO_DEBUG in the environment means production, not debug."""
    result = _manage("check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_unset_django_debug_passes_the_deploy_check_with_debug_off():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_DEBUG"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    shown = _manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", **env)
    assert shown.stdout.strip().splitlines()[-1] == "False", shown.stdout + shown.stderr


def test_env_example_lists_every_variable_settings_reads():
    settings_source = (BASE_DIR / "doctors_portal" / "settings.py").read_text()
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', settings_source))
    example = (BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, re.MULTILINE))
    assert read, "no env() calls found: the pattern is out of date"
    assert read - listed == set()
