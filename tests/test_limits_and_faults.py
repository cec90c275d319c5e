"""Limits and faults: throttles in a shared cache, oversized and deeply nested bodies,
the database connection killed under the app, Stripe unreachable.

Throttle counters live in the default cache: Redis when REDIS_URL is set, the
database cache table otherwise. Either way every process shares them, which
`test_throttle_counts_across_processes` proves with a second Python process.
The connection-kill tests exist only when the database is PostgreSQL (they use
pg_terminate_backend); they are not skipped elsewhere, they are not collected.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from bookings.models import Booking, BookingStatus
from payments.models import Payment
from scheduling.models import Slot
from tests.factories import (
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)
from tests.fixtures.stripe import free_port
from tests.test_authz_matrix import ACTORS, API, MATRIX, make_world
from tests.test_authz_matrix import api_client as matrix_client

ROOT = Path(__file__).resolve().parent.parent
IS_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
ONE_MIB = 1024 * 1024


@pytest.fixture
def world(db):
    return make_world()


def future_slot(**fields):
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    fields.setdefault("start", start)
    fields.setdefault("end", fields["start"] + timedelta(hours=1))
    return SlotFactory(**fields)


def assert_envelope(response, status: int, message: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["success"] is False and body["status"] == "Error", body
    assert body["errorMessages"], body
    if message:
        assert body["message"] == message, body
    return body


@pytest.fixture
def low_rates(monkeypatch):
    """Throttle rates low enough to reach in a test (DRF reads them when a throttle is built)."""
    rates = {"auth": "3/min", "booking": "3/min", "payment": "3/min"}
    for scope, rate in rates.items():
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, rate)
    return rates


# ---------------------------------------------------------------- throttles


@pytest.mark.django_db
class TestThrottles:
    def test_sign_in_is_throttled(self, api_client, low_rates):
        body = {"email": "nobody@example.com", "password": "wrong-password"}
        codes = [api_client.post("/api/v1/auth/token", body).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        refused = api_client.post("/api/v1/auth/token", body)
        envelope = assert_envelope(refused, 429, "Too Many Requests")
        assert int(refused["Retry-After"]) > 0, envelope

    def test_token_routes_are_throttled(self, api_client, low_rates):
        """Refresh and the Firebase exchange share the sign-in budget of the caller."""
        for _ in range(2):
            assert api_client.post("/api/v1/auth/token/refresh", {"refresh": "x"}).status_code in (
                400,
                401,
            )
        assert api_client.get("/api/v1/jwt?email=a@example.com").status_code in (400, 401)
        assert_envelope(api_client.get("/api/v1/jwt?email=a@example.com"), 429)
        assert_envelope(api_client.post("/api/v1/auth/token/refresh", {"refresh": "x"}), 429)

    def test_booking_is_throttled_per_patient(
        self, settings, client_for, patient, other_patient, low_rates
    ):
        settings.MAX_ACTIVE_HOLDS_PER_PATIENT = 4  # the throttle, not the hold cap, stops it
        slots = [future_slot(capacity=5) for _ in range(4)]
        client = client_for(patient)
        for slot in slots[:3]:
            assert client.post("/api/v1/bookings", {"slotId": slot.pk}).status_code == 201
        assert_envelope(client.post("/api/v1/bookings", {"slotId": slots[3].pk}), 429)
        assert Booking.objects.filter(patient=patient).count() == 3
        # The budget is the patient's, not everyone's.
        assert client_for(other_patient).post(
            "/api/v1/bookings", {"slotId": slots[3].pk}
        ).status_code == 201  # fmt: skip

    def test_payment_intent_is_throttled(self, client_for, patient, low_rates):
        client = client_for(patient)
        for _ in range(3):
            # An unknown booking: refused before Stripe is asked, but it counts.
            response = client.post("/api/v1/create-payment-intent", {"bookingId": 987654})
            assert response.status_code == 404, response.content
        assert_envelope(client.post("/api/v1/create-payment-intent", {"bookingId": 987654}), 429)

    def test_reads_are_not_throttled(self, client_for, patient, low_rates):
        client = client_for(patient)
        for _ in range(6):
            assert client.get(f"/api/v1/bookings?email={patient.email}").status_code == 200


def _child_database_url() -> str:
    """A URL for the test database this process is using, for a second process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


CHILD = textwrap.dedent(
    """
    import json, os, sys
    import django
    os.environ["DJANGO_SETTINGS_MODULE"] = "doctors_portal.settings"
    django.setup()
    from django.conf import settings
    from django.test import Client
    client = Client()
    codes = []
    for _ in range(int(sys.argv[1])):
        response = client.post(
            "/api/v1/auth/token",
            json.dumps({"email": "nobody@example.com", "password": "wrong"}),
            content_type="application/json",
        )
        codes.append(response.status_code)
    print(json.dumps({"codes": codes, "cache": settings.CACHES["default"]["BACKEND"]}))
    """
)


@pytest.mark.django_db(transaction=True)
def test_throttle_counts_across_processes(api_client, low_rates):
    """One client here, another in a second process: they draw on one budget."""
    body = {"email": "nobody@example.com", "password": "wrong"}
    assert api_client.post("/api/v1/auth/token", body).status_code == 401
    env = {
        **os.environ,
        "DATABASE_URL": _child_database_url(),
        "DJANGO_TESTING": "1",
        "THROTTLE_AUTH_RATE": low_rates["auth"],
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    child = json.loads(done.stdout.strip().splitlines()[-1])
    assert child["codes"] == [401, 401], child
    assert child["cache"] == settings.CACHES["default"]["BACKEND"]
    # The third and fourth attempts came from elsewhere; this one is over the budget.
    assert_envelope(api_client.post("/api/v1/auth/token", body), 429)


# ---------------------------------------------------------------- bodies


@pytest.mark.django_db
class TestOversizedBodies:
    def test_over_one_mib_is_413_before_anything_reads_it(self, api_client):
        body = b'{"email": "a@example.com", "password": "' + b"x" * ONE_MIB + b'"}'
        response = api_client.generic(
            "POST", "/api/v1/auth/token", body, content_type="application/json"
        )
        assert_envelope(response, 413, "Payload Too Large")

    def test_just_under_the_limit_is_parsed(self, api_client):
        padding = ONE_MIB - 200
        body = json.dumps({"email": "a@example.com", "password": "x" * padding}).encode()
        assert len(body) <= ONE_MIB
        response = api_client.generic(
            "POST", "/api/v1/auth/token", body, content_type="application/json"
        )
        assert response.status_code in (400, 401), response.content[:300]

    def test_oversized_on_an_authenticated_write(self, client_for, patient):
        response = client_for(patient).generic(
            "POST",
            "/api/v1/bookings",
            b'{"slotId": 1, "x": "' + b"y" * (2 * ONE_MIB) + b'"}',
            content_type="application/json",
        )
        assert_envelope(response, 413)

    def test_a_content_length_that_is_not_a_number_is_400(self, api_client):
        response = api_client.post("/api/v1/auth/token", {}, format="json", CONTENT_LENGTH="twelve")
        assert_envelope(response, 400)

    def test_an_oversized_form_on_a_page_is_refused_not_a_crash(self, client):
        response = client.post(
            "/login/", {"username": "a@example.com", "password": "x" * (2 * ONE_MIB)}
        )
        assert response.status_code in (400, 413)


NESTED = [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100k-arrays"),
    pytest.param(b'{"a":' * 5_000 + b"1" + b"}" * 5_000, id="5k-objects"),
    pytest.param(b"[" * 500_000, id="500k-unclosed"),
    pytest.param(b'{"slotId": 1, "x": ' + b"[" * 40 + b"]" * 40 + b"}", id="40-levels"),
]


def _write_rows():
    """Every API write of the authorization matrix, sent by a caller it lets through."""
    params = []
    for key, row in MATRIX.items():
        if row.page or row.method in ("GET", "DELETE") or not key[0].startswith(API):
            continue
        # A caller who gets past authentication and permissions (2xx, else a 400).
        allowed = [a for a in ACTORS if 200 <= row.expected[a] < 300]
        allowed = allowed or [a for a in ACTORS if row.expected[a] == 400] or ["anon"]
        params.append(pytest.param(key, allowed[-1], id=f"{row.method} {key[0]}"))
    return params


@pytest.mark.django_db
class TestNestedBodies:
    @pytest.mark.parametrize("body", NESTED)
    def test_deep_nesting_is_400_not_a_recursion_error(self, api_client, body):
        response = api_client.generic(
            "POST", "/api/v1/auth/token", body, content_type="application/json"
        )
        envelope = assert_envelope(response, 400, "Validation Error")
        assert "nested" in json.dumps(envelope) or "JSON" in json.dumps(envelope)

    @pytest.mark.parametrize(("key", "actor"), _write_rows())
    def test_every_write_refuses_deep_nesting(self, key, actor, world):
        row = MATRIX[key]
        client = matrix_client(world, actor)
        body = b"[" * 50_000 + b"]" * 50_000
        response = client.generic(
            row.method, row.path(world), body, content_type="application/json"
        )
        # 400 where the body is read; a route that never reads it answers as usual.
        assert response.status_code in (400, row.expected[actor]), (actor, response.content[:300])
        assert response.status_code < 500

    def test_nesting_within_the_limit_is_still_read(self, api_client):
        inner = {"a": 1}
        for _ in range(20):
            inner = {"a": inner}
        response = api_client.post(
            "/api/v1/auth/token", {"email": "a@example.com", "password": "x", "extra": inner}
        )
        assert response.status_code in (400, 401)
        assert "nested" not in response.content.decode()


# ---------------------------------------------------------------- Stripe


@pytest.mark.django_db
def test_stripe_unreachable_at_create_payment_intent_is_502_and_nothing_changes(
    client_for, patient, stripe_settings
):
    """Also covered by the payments tests; here beside the other faults, on the same fixture."""
    booking = BookingFactory(patient=patient, slot=future_slot())
    stripe_settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens
    response = client_for(patient).post("/api/v1/create-payment-intent", {"bookingId": booking.pk})
    assert_envelope(response, 502, "Payment Error")
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (BookingStatus.PENDING_PAYMENT, "unpaid")


# ---------------------------------------------------------------- the database goes away


class Gunicorn:
    """The app served by one gunicorn sync worker on the test database."""

    def __init__(self, database_url: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_TESTING": "1",
            "DB_CONN_MAX_AGE": "600",
            "DJANGO_SETTINGS_MODULE": "doctors_portal.settings_bench",  # the floor route
            "LOG_LEVEL": "ERROR",
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "doctors_portal.wsgi:application",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.get("/api/v1/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError("gunicorn did not start: " + self.proc.stderr.read().decode()[-2000:])

    def request(self, method: str, path: str, body: dict | None = None, token: str = ""):
        data = json.dumps(body).encode() if body is not None else None
        request = Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str):
        return self.request("GET", path)

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _side_connection():
    """A second connection to the test database, outside Django (psycopg, autocommit)."""
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        autocommit=True,
    )


def _app_backends(side) -> list[int]:
    rows = side.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
        "AND pid <> %s",
        [connection.connection.info.backend_pid if connection.connection else 0],
    ).fetchall()
    return [row[0] for row in rows]


def _wait_for_lock_wait(side, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = side.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchall()
        if rows:
            return [row[0] for row in rows]
        time.sleep(0.05)
    raise AssertionError("the request never waited on the lock")


if IS_POSTGRESQL:

    @pytest.fixture
    def served(transactional_db):
        connection.ensure_connection()
        server = Gunicorn(_child_database_url())
        try:
            yield server
        finally:
            server.stop()

    @pytest.mark.django_db(transaction=True)
    def test_killed_idle_connection_the_next_request_reconnects(served):
        service = ServiceFactory(name="Killed Idle", price=Decimal("40.00"))
        floor = f"/api/v1/bench/floor?id={service.pk}"
        assert served.get(floor)[0] == 200  # the worker now holds a persistent connection
        with _side_connection() as side:
            backends = _app_backends(side)
            assert backends, "the worker should keep its connection (CONN_MAX_AGE)"
            for pid in backends:
                side.execute("SELECT pg_terminate_backend(%s)", [pid])
        # CONN_HEALTH_CHECKS: the dead connection is noticed and replaced, nothing fails.
        status, body = served.get(floor)
        assert status == 200, body
        assert served.get("/api/v1/health")[0] == 200

    @pytest.mark.django_db(transaction=True)
    def test_killed_in_flight_read_fails_cleanly_and_the_next_succeeds(served):
        service = ServiceFactory(name="Killed Read", price=Decimal("40.00"))
        floor = f"/api/v1/bench/floor?id={service.pk}"
        assert served.get(floor)[0] == 200
        outcome = {}
        with _side_connection() as side:
            side.execute("BEGIN")
            side.execute("LOCK TABLE scheduling_service IN ACCESS EXCLUSIVE MODE")
            worker = threading.Thread(target=lambda: outcome.update(r=served.get(floor)))
            worker.start()
            for pid in _wait_for_lock_wait(side):
                side.execute("SELECT pg_terminate_backend(%s)", [pid])
            worker.join(30)
            side.execute("ROLLBACK")
        status, body = outcome["r"]
        assert status == 503, body
        assert body["success"] is False and body["message"] == "Service Unavailable", body
        status, body = served.get(floor)
        assert status == 200, body

    @pytest.mark.django_db(transaction=True)
    def test_killed_in_flight_booking_changes_nothing_and_the_retry_books(served):
        from rest_framework_simplejwt.tokens import RefreshToken

        patient = PatientFactory()
        slot = future_slot(doctor=DoctorFactory(), capacity=1)
        token = str(RefreshToken.for_user(patient).access_token)
        assert served.get("/api/v1/health")[0] == 200
        outcome = {}
        with _side_connection() as side:
            side.execute("BEGIN")
            side.execute("SELECT id FROM scheduling_slot WHERE id = %s FOR UPDATE", [slot.pk])
            worker = threading.Thread(
                target=lambda: outcome.update(
                    r=served.request("POST", "/api/v1/bookings", {"slotId": slot.pk}, token)
                )
            )
            worker.start()
            for pid in _wait_for_lock_wait(side):
                side.execute("SELECT pg_terminate_backend(%s)", [pid])
            worker.join(30)
            side.execute("ROLLBACK")
        status, body = outcome["r"]
        assert status == 503, body
        assert body["success"] is False, body
        assert not Booking.objects.filter(slot=slot).exists()
        assert Slot.objects.get(pk=slot.pk).seats_taken == 0
        status, body = served.request("POST", "/api/v1/bookings", {"slotId": slot.pk}, token)
        assert status == 201, body
        assert Slot.objects.get(pk=slot.pk).seats_taken == 1


@pytest.mark.django_db
def test_database_errors_other_than_unavailability_stay_500(api_client, monkeypatch):
    """Only a lost connection is 503; a real bug is still a 500 in the envelope."""
    from django.db import IntegrityError

    from doctors_portal.api.exceptions import envelope_exception_handler

    response = envelope_exception_handler(IntegrityError("boom"), {"view": None})
    assert response.status_code == 500
    from django.db import OperationalError

    response = envelope_exception_handler(OperationalError("gone"), {"view": None})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"


# ---- NUL characters (PostgreSQL text cannot hold them) ----


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/bookings?email=a%00b@example.com",
        "/api/v1/booking-doctor?email=a%00b@example.com",
        "/api/v1/user?email=a%00b@example.com",
        "/api/v1/usersrole?email=a%00b@example.com",
        "/api/v1/users?searchTerm=a%00b",
        "/api/v1/slot/a%00b@example.com",
    ],
)
def test_nul_in_the_address_is_400_not_a_database_error(client_for, admin_user, path):
    response = client_for(admin_user).get(path)
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and "NUL" in body["errorMessages"][0]["message"]


@pytest.mark.django_db
def test_nul_in_a_service_name_is_no_such_service(client_for, doctor):
    from tests.scheduling.helpers import clinic_day, slot_at

    slot = slot_at(clinic_day(3), "10:00-10:30", doctor=doctor)
    service_before = slot.service_id
    response = client_for(doctor).patch(
        "/api/v1/slot/", {"id": slot.pk, "service": "a\x00b"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["errorMessages"][0]["path"] == "service"
    slot.refresh_from_db()
    assert slot.service_id == service_before


# ---------------------------------------------------------------- ids spelled otherwise


@pytest.mark.django_db
class TestIdsAreAsciiDigits:
    """str.isdigit() takes Arabic-Indic and full-width digits and int() reads them: "١٢"
    booked slot 12. An id is ASCII digits or a JSON number, nothing else."""

    def test_a_slot_id_in_other_digits_is_400_and_books_nothing(self, client_for, patient):
        slot = future_slot()
        text = "".join(chr(0x0660 + int(d)) for d in str(slot.pk))
        response = client_for(patient).post("/api/v1/bookings", {"slotId": text}, format="json")
        assert_envelope(response, 400)
        assert not Booking.objects.filter(patient=patient).exists()
        ascii_text = client_for(patient).post(
            "/api/v1/bookings", {"slotId": str(slot.pk)}, format="json"
        )
        assert ascii_text.status_code == 201, ascii_text.content

    def test_a_doctor_id_in_other_digits_is_404(self, api_client):
        doctor = DoctorFactory()
        text = "".join(chr(0xFF10 + int(d)) for d in str(doctor.pk))
        assert_envelope(api_client.get(f"/api/v1/doctors/{text}"), 404)

    @pytest.mark.parametrize("path", ["doctors", "booking"])
    @pytest.mark.parametrize("number", [2**63 - 1, 2**63, 10**30])
    def test_a_path_id_beyond_bigint_names_nothing(self, client_for, patient, path, number):
        """A path names a resource: one no database id can name is 404 (as an unknown id),
        never the database's overflow as a 500. A body's slotId says 400 instead
        (tests/bookings/test_bookings_api.py): there it is a bad value of a field."""
        assert_envelope(client_for(patient).get(f"/api/v1/{path}/{number}"), 404)

    def test_a_service_id_in_other_digits_names_no_service(self, api_client):
        service = ServiceFactory()
        text = "".join(chr(0x0660 + int(d)) for d in str(service.pk))
        assert_envelope(api_client.get(f"/api/v1/appointmentOptions?service={text}"), 400)
        ok = api_client.get(f"/api/v1/appointmentOptions?service={service.pk}")
        assert ok.status_code == 200, ok.content


# ---------------------------------------------------------------- too many fields or files

TOO_MANY_FIELDS = "&".join(f"f{n}=x" for n in range(1001))  # DATA_UPLOAD_MAX_NUMBER_FIELDS


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/doctors", "/api/v1/docs"])
def test_more_than_1000_query_parameters_is_400_in_the_envelope(api_client, path):
    body = assert_envelope(api_client.get(f"{path}?{TOO_MANY_FIELDS}"), 400, "Validation Error")
    assert "1000" in body["errorMessages"][0]["message"], body
    assert "settings" not in body["errorMessages"][0]["message"], body


@pytest.mark.django_db
def test_a_multipart_profile_with_too_many_fields_is_400_and_changes_nothing(client_for, patient):
    fields = {f"f{n}": "x" for n in range(1001)} | {"name": "Changed Name"}
    response = client_for(patient).patch(f"/api/v1/users/{patient.pk}", fields, format="multipart")
    body = assert_envelope(response, 400, "Validation Error")
    assert "1000" in body["errorMessages"][0]["message"], body
    name_before = patient.name
    patient.refresh_from_db()
    assert patient.name == name_before


@pytest.mark.django_db
def test_a_multipart_profile_with_too_many_files_is_400_and_changes_nothing(
    client_for, patient, media_root
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = {f"f{n}": SimpleUploadedFile(f"{n}.txt", b"x") for n in range(101)}
    response = client_for(patient).patch(
        f"/api/v1/users/{patient.pk}", files | {"name": "Changed Name"}, format="multipart"
    )
    body = assert_envelope(response, 400, "Validation Error")
    assert "100" in body["errorMessages"][0]["message"], body
    name_before = patient.name
    patient.refresh_from_db()
    assert patient.name == name_before
