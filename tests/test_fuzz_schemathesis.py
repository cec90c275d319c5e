"""Schemathesis against our own OpenAPI schema, in-process over WSGI, as patient, doctor, admin.

Every operation of `GET /api/v1/schema` is fuzzed with a bounded number of
generated requests (valid and invalid), each sent with one role's access token,
and every built-in check runs on each answer: no 5xx, status codes, content
types, headers and bodies as the schema says, valid data accepted, invalid data
rejected, unsupported methods 405. The whole fuzz fits in CI (FUZZ_EXAMPLES per
operation, FUZZ_EDGE_EXAMPLES on each operation with a paging or date parameter; set them
higher locally for a longer hunt). FUZZ_THROTTLES=off lifts the
throttle rates so generated sign-ups and bookings reach their views instead of 429.

The database is a committed one (transactional_db) so every request sees the
same rows a real server would, Stripe is the session's localstripe and Firebase
the emulator: nothing leaves loopback.
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import (
    AdminFactory,
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# The paging and date parameters get many more: a 500 there hides behind one huge page
# number or the calendar's last day, which a dozen examples rarely draw.
FUZZ_EDGE_EXAMPLES = int(os.environ.get("FUZZ_EDGE_EXAMPLES", "150"))
EDGE_PARAMETERS = {"page", "limit", "date"}
# Operations whose `date` must lie from today to PUBLISH_HORIZON_DAYS ahead.
DATES_FROM_TODAY = {"GET /api/v1/appointmentOptions/"}
# Operations that take a service's id or name (`service`, `specialty`): one that no active
# service has is a 400 by design, and JSON Schema cannot list the services.
NAMES_A_SERVICE = {"GET /api/v1/appointmentOptions/", "GET /api/v1/doctors/"}
# Weekly hours and time off: a schema-valid body is still a 400 when its fields disagree
# (the end before the start, a slot longer than the hours, dates before today, an overlap
# with another rule or slot), which JSON Schema cannot say.
INTERDEPENDENT_FIELDS = {
    "POST /api/v1/schedules/",
    "PATCH /api/v1/schedules/{id}/",
    "POST /api/v1/time-off/",
}
ROLES = ("patient", "doctor", "admin")
SUMMARY = {"operations": set(), "calls": 0, "by_role": {}, "statuses": {}}


@pytest.fixture
def fuzz_world(transactional_db, stripe_settings, firebase_emulator, monkeypatch):
    """A little of everything, with small ids the generator may hit."""
    if os.environ.get("FUZZ_THROTTLES") == "off":
        # The real rates (auth 20/min, booking and profile 30/min) turn most generated sign-ups and
        # bookings into 429s before the view runs; off, the fuzz reaches the views.
        for scope in ("auth", "booking", "payment", "profile"):
            monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/min")
        # Generated wrong passwords and links would lock the one client address out.
        monkeypatch.setattr(django_settings, "AXES_ENABLED", False)
    services = [ServiceFactory(name=f"Fuzz Service {i}", price=Decimal("40.00")) for i in range(2)]
    patient = PatientFactory()
    doctor = DoctorFactory(profile__specialty=services[0])
    admin = AdminFactory()
    DoctorFactory(profile__verified=False)
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    slots = [
        SlotFactory(
            doctor=doctor,
            service=services[0],
            start=start + timedelta(hours=2 * i),
            end=start + timedelta(hours=2 * i + 1),
            capacity=3,
        )
        for i in range(4)
    ]
    BookingFactory(patient=patient, slot=slots[0])
    type(slots[0]).objects.filter(pk=slots[0].pk).update(seats_taken=1)
    return {"patient": patient, "doctor": doctor, "admin": admin}


# Loaded at collection: generating the schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema?format=json", get_wsgi_application())
# Each request carries one role's real token (below); generated Authorization headers
# would only be replaced by it, so none are generated.
schema.config.generation.update(with_security_parameters=False)


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, role, fuzz_world):
    token = f"Bearer {RefreshToken.for_user(fuzz_world[role]).access_token}"
    excluded = []
    if case.operation.label in DATES_FROM_TODAY | NAMES_A_SERVICE | INTERDEPENDENT_FIELDS:
        # A schema-valid date before today or past the horizon, a service no active one
        # has, fields that disagree: each a 400 by design that JSON Schema cannot say; the
        # other checks still judge the answer.
        excluded.append(schemathesis.checks.positive_data_acceptance)
    response = case.call_and_validate(headers={"Authorization": token}, excluded_checks=excluded)
    SUMMARY["operations"].add(case.operation.label)
    SUMMARY["calls"] += 1
    SUMMARY["by_role"][role] = SUMMARY["by_role"].get(role, 0) + 1
    code = str(response.status_code)
    SUMMARY["statuses"][code] = SUMMARY["statuses"].get(code, 0) + 1


# Every operation with a paging or date parameter, found in the schema itself.
EDGE_OPERATIONS = sorted(
    operation.label
    for result in schema.get_all_operations()
    if (operation := result.ok()) is not None
    and EDGE_PARAMETERS & {parameter.name for parameter in operation.query}
)
# Whose own list an `?email=` names, so the request gets past the permission check to the
# parsers (anyone else is a 403 before them); the other operations are asked as an admin.
EDGE_ROLE_BY_PATH = {"/api/v1/bookings/": "patient", "/api/v1/booking-doctor/": "doctor"}
EDGE_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@schema.include(name=EDGE_OPERATIONS).parametrize()
@settings(
    max_examples=FUZZ_EDGE_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_paging_and_date_parameters_never_fail(case, fuzz_world):
    role = EDGE_ROLE_BY_PATH.get(case.operation.path, "admin")
    user = fuzz_world[role]
    if case.query and "email" in case.query:
        # The caller's own list; the other checks judge this request as sent, so the
        # negative-data check (which would count a replaced invalid email) is left out.
        case.query["email"] = user.email
    token = f"Bearer {RefreshToken.for_user(user).access_token}"
    response = case.call(headers={"Authorization": token})
    case.validate_response(response, checks=EDGE_CHECKS)
    SUMMARY["edge_calls"] = SUMMARY.get("edge_calls", 0) + 1
    code = str(response.status_code)
    SUMMARY["statuses"][code] = SUMMARY["statuses"].get(code, 0) + 1


def test_edge_operations_are_found():
    assert set(EDGE_OPERATIONS) >= {
        "GET /api/v1/appointmentOptions/",
        "GET /api/v1/booking-doctor/",
        "GET /api/v1/bookings/",
        "GET /api/v1/users/",
    }


def test_zz_fuzz_summary(capsys):
    """Prints what the fuzz covered (it runs after the fuzz in file order)."""
    if not SUMMARY["calls"]:
        pytest.fail("the fuzz made no request")
    line = (
        f"schemathesis: {len(SUMMARY['operations'])} operations x {len(SUMMARY['by_role'])} "
        f"roles, {SUMMARY['calls']} requests, {SUMMARY.get('edge_calls', 0)} more on paging "
        f"and dates, statuses {dict(sorted(SUMMARY['statuses'].items()))}"
    )
    with capsys.disabled():
        print(f"\n{line}")
    assert not any(code.startswith("5") for code in SUMMARY["statuses"]), line
