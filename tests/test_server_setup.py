"""`manage.py migrate` alone prepares a database: no `createcachetable` before the app serves,
and a database that is not set up says so instead of "unavailable"."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent

# The autouse cache fixture clears the database cache, so every test touches the DB.
pytestmark = pytest.mark.django_db

# A throttled route (auth) and the answers each step prints, in one fresh process.
REQUEST_A_THROTTLED_ROUTE = (
    "import django; django.setup();"
    "from django.test import Client;"
    "r = Client().post('/api/v1/auth/token', {'email': 'nobody@example.com', 'password': 'x'},"
    " content_type='application/json');"
    "print(r.status_code); print(r.content.decode())"
)


def _env(database: Path) -> dict:
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    # No REDIS_URL: the throttle counters live in the database cache.
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "doctors_portal.settings",
        "DJANGO_DEBUG": "1",
        "DJANGO_TESTING": "1",
        "DATABASE_URL": f"sqlite:///{database}",
    }


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=240
    )


def _answer(result: subprocess.CompletedProcess) -> tuple[int, dict]:
    status, _, body = result.stdout.strip().partition("\n")
    assert status.isdigit(), result.stdout + result.stderr
    return int(status), json.loads(body)


def test_a_database_prepared_by_migrate_alone_serves_throttled_routes(tmp_path):
    env = _env(tmp_path / "fresh.sqlite3")
    migrated = _run(["manage.py", "migrate", "--no-input", "-v0"], env)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    status, body = _answer(_run(["-c", REQUEST_A_THROTTLED_ROUTE], env))
    # Wrong credentials: the throttle counted the request, the view answered.
    assert status == 401, body
    assert body["message"] == "Authentication Error"


def test_a_missing_table_is_named_as_such_not_as_an_unavailable_database(tmp_path):
    database = tmp_path / "unmigrated.sqlite3"
    database.touch()  # reachable, but nothing was ever migrated
    status, body = _answer(_run(["-c", REQUEST_A_THROTTLED_ROUTE], _env(database)))
    assert status == 503, body
    message = body["errorMessages"][0]["message"]
    assert "unavailable" not in message
    assert "not set up" in message and "migrate" in message
