"""Concurrent requests with real threads, one database connection each."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.models import User
from accounts.services import token_pair_for
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8


def _together(request) -> list:
    """Run `request(i)` in WORKERS threads released at once; return the responses."""
    barrier = threading.Barrier(WORKERS)
    responses = [None] * WORKERS

    def run(i):
        try:
            barrier.wait(timeout=30)
            responses[i] = request(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return responses


def test_one_refresh_token_rotates_once_under_concurrency():
    pair = token_pair_for(PatientFactory())
    responses = _together(
        lambda i: APIClient().post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]})
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [401] * (WORKERS - 1), codes
    assert BlacklistedToken.objects.count() == 1


def test_same_email_registered_concurrently_in_different_cases_once():
    def register(i):
        email = "Race@Example.com" if i % 2 else "race@example.COM"
        return APIClient().post(
            "/api/v1/users",
            {"name": f"R{i}", "email": email, "role": "Patient", "password": "plum-orbit-91x"},
        )

    responses = _together(register)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * (WORKERS - 1), codes
    assert all(r.json()["message"] == "Duplicate Entry" for r in responses if r.status_code == 409)
    assert User.objects.filter(email__iexact="race@example.com").count() == 1
