"""Schemathesis against our own OpenAPI schema, in-process over WSGI, as patient, doctor, admin.

Every operation of `GET /api/v1/schema` is fuzzed with a bounded number of
generated requests (valid and invalid), each sent with one role's access token,
and every built-in check runs on each answer: no 5xx, status codes, content
types, headers and bodies as the schema says, valid data accepted, invalid data
rejected, unsupported methods 405. The whole fuzz fits in CI (FUZZ_EXAMPLES per
operation; set it higher locally for a longer hunt). FUZZ_THROTTLES=off lifts the
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
ROLES = ("patient", "doctor", "admin")
SUMMARY = {"operations": set(), "calls": 0, "by_role": {}, "statuses": {}}


@pytest.fixture
def fuzz_world(transactional_db, stripe_settings, firebase_emulator, monkeypatch):
    """A little of everything, with small ids the generator may hit."""
    if os.environ.get("FUZZ_THROTTLES") == "off":
        # The real rates (auth 20/min, booking 30/min) turn most generated sign-ups and
        # bookings into 429s before the view runs; off, the fuzz reaches the views.
        for scope in ("auth", "booking", "payment"):
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
    response = case.call_and_validate(headers={"Authorization": token})
    SUMMARY["operations"].add(case.operation.label)
    SUMMARY["calls"] += 1
    SUMMARY["by_role"][role] = SUMMARY["by_role"].get(role, 0) + 1
    code = str(response.status_code)
    SUMMARY["statuses"][code] = SUMMARY["statuses"].get(code, 0) + 1


def test_zz_fuzz_summary(capsys):
    """Prints what the fuzz covered (it runs after the fuzz in file order)."""
    if not SUMMARY["calls"]:
        pytest.fail("the fuzz made no request")
    line = (
        f"schemathesis: {len(SUMMARY['operations'])} operations x {len(SUMMARY['by_role'])} "
        f"roles, {SUMMARY['calls']} requests, statuses {dict(sorted(SUMMARY['statuses'].items()))}"
    )
    with capsys.disabled():
        print(f"\n{line}")
    assert not any(code.startswith("5") for code in SUMMARY["statuses"]), line
