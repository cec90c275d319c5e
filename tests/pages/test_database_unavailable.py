"""The pages when the database is unavailable: a 503 page with Retry-After, not a 500.

The database is really unreachable, not mocked: the connection is closed and pointed at a
port nothing listens on (PostgreSQL down: "connection refused") or at a file in a folder
that does not exist (SQLite: "unable to open database file"). The pool's timeout is the
same error from psycopg (tests/test_db_pool.py, with a real server).
"""

import logging
import socket
from contextlib import contextmanager

import pytest
from django.db import IntegrityError, connection
from django.test import Client, RequestFactory

from tests.factories import PatientFactory

# The connection is closed and reopened mid-test, which a test's transaction cannot span;
# the autouse cache fixture touches the database cache, so every test has the database.
pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE_HEADING = "The site is briefly unavailable"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens on it once the socket closes


@contextmanager
def unreachable_database(tmp_path):
    connection.close()
    saved = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        connection.settings_dict.update(HOST="127.0.0.1", PORT=_closed_port())
    else:
        connection.settings_dict["NAME"] = str(tmp_path / "missing" / "db.sqlite3")
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


@pytest.fixture
def database_down(tmp_path):
    with unreachable_database(tmp_path):
        yield


def _failure_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def assert_unavailable_page(response, caplog, path):
    body = response.content.decode()
    assert response.status_code == 503, body[:500]
    assert response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("text/html")
    assert UNAVAILABLE_HEADING in body
    assert "css/site.css" in body  # the site's own page, not a bare error
    assert "Traceback" not in body and "OperationalError" not in body
    # Logged once, as a warning naming the path, without a traceback.
    records = _failure_records(caplog)
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)], records
    assert path in records[0].getMessage()


@pytest.mark.parametrize("debug", [False, True])
def test_a_page_with_the_database_down_is_the_503_page(database_down, settings, caplog, debug):
    # DEBUG too (make run): the product's page, not Django's technical one with the trace.
    settings.DEBUG = debug
    response = Client().get("/")
    assert_unavailable_page(response, caplog, "/")
    # The real failure, named in the log: PostgreSQL refused, SQLite could not open.
    message = _failure_records(caplog)[0].getMessage().lower()
    assert "refused" in message or "unable to open" in message, message


def test_a_signed_in_page_fails_before_its_view_and_is_the_503_page(tmp_path, caplog):
    # A signed-in visitor's session and user are read by a middleware (the audit trail's
    # actor) before any view runs: that failure reaches Django's handler500, not a view's.
    client = Client(raise_request_exception=False)
    client.force_login(PatientFactory())
    with unreachable_database(tmp_path):
        response = client.get("/appointments/")
    assert_unavailable_page(response, caplog, "/appointments/")


def test_the_api_keeps_its_envelope_with_the_database_down(database_down):
    response = Client().get("/api/v1/doctors")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    body = response.json()
    assert body["success"] is False
    assert body["errorMessages"][0]["message"] == "The database is unavailable; try again."


def test_other_errors_are_still_the_500_page():
    from doctors_portal.unavailable import server_error

    request = RequestFactory().get("/")
    try:
        raise IntegrityError("a real bug")
    except IntegrityError:
        response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/doctors",
        "/api/v1/docs",
        "/api/v1/schema",
        "/api/v1/slot/x@y.z",
        "/api/v1/calendar/not-a-token.ics",
    ],
)
def test_the_api_with_a_session_cookie_keeps_its_503_envelope(tmp_path, caplog, path):
    # Any session cookie makes the audit trail's middleware load the session from the
    # database before DRF runs: that failure reaches handler500, which must still answer
    # the API's 503 envelope, not the 500 one.
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "x" * 32
    with unreachable_database(tmp_path):
        response = client.get(path)
    assert response.status_code == 503, response.content[:500]
    assert response["Retry-After"] == "1"
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["message"] == "Service Unavailable"
    assert body["errorMessages"] == [
        {"path": "", "message": "The database is unavailable; try again."}
    ]
    records = _failure_records(caplog)
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)], records
