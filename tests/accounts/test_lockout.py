"""Lockout on every door (django-axes) and throttles that count per real client address.

A client's own X-Forwarded-For never changes its bucket: with TRUSTED_PROXY_COUNT=0
(the default) the connecting address counts; behind N proxies, the address the
N-th proxy from the right saw.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.accounts.helpers import assert_error, unique_email, unsigned_token
from tests.factories import TEST_PASSWORD, AdminFactory, PatientFactory

pytestmark = pytest.mark.django_db


def token_attempt(email: str, password: str, **extra):
    return APIClient().post("/api/v1/auth/token", {"email": email, "password": password}, **extra)


def assert_too_many(response) -> None:
    body = assert_error(response, 429, "Too Many Requests")
    assert int(response["Retry-After"]) > 0
    assert body["errorMessages"][0]["message"]


def test_sixty_guesses_with_a_new_forwarded_for_each_are_locked_then_the_right_password_too():
    patient = PatientFactory()
    statuses = [
        token_attempt(patient.email, f"wrong-{i}", HTTP_X_FORWARDED_FOR=f"10.9.{i}.1").status_code
        for i in range(60)
    ]
    assert statuses.count(429) >= 50, statuses
    assert set(statuses) <= {401, 429}
    right = token_attempt(patient.email, TEST_PASSWORD, HTTP_X_FORWARDED_FOR="10.10.10.10")
    assert_too_many(right)


def test_the_auth_throttle_counts_per_real_address_whatever_forwarded_for_says(settings):
    settings.AXES_ENABLED = False  # the throttle alone
    patient = PatientFactory()
    statuses = [
        token_attempt(patient.email, "wrong", HTTP_X_FORWARDED_FOR=f"10.8.{i}.1").status_code
        for i in range(25)
    ]
    assert statuses[:20] == [401] * 20 and statuses[20:] == [429] * 5, statuses


def test_behind_one_trusted_proxy_the_last_forwarded_hop_is_the_bucket(settings):
    settings.AXES_ENABLED = False
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    patient = PatientFactory()
    # The client prepends what it likes; the proxy appends the address it saw.
    same_client = [
        token_attempt(
            patient.email, "wrong", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 203.0.113.7"
        ).status_code
        for i in range(21)
    ]
    assert same_client[-1] == 429, same_client
    other_client = token_attempt(patient.email, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert other_client.status_code == 401


def test_axes_uses_the_same_client_address_as_the_throttles(settings, rf):
    from accounts.lockout import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client_ip(request) == "203.0.113.7"


def test_an_account_is_locked_whichever_addresses_guess(settings):
    patient = PatientFactory()
    for i in range(settings.AXES_FAILURE_LIMIT):
        response = token_attempt(patient.email, "wrong", REMOTE_ADDR=f"192.0.2.{i + 1}")
        assert response.status_code in (401, 429)
    # From an address that never failed, the right password is refused while locked.
    assert_too_many(token_attempt(patient.email.upper(), TEST_PASSWORD, REMOTE_ADDR="192.0.2.200"))
    # An administrator unlocks it (axes' admin deletes the attempts).
    from axes.models import AccessAttempt

    admin = Client()
    admin.force_login(AdminFactory())
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and patient.email.encode() in listing.content
    attempts = list(
        AccessAttempt.objects.filter(username=patient.email).values_list("pk", flat=True)
    )
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert response.status_code == 302
    assert token_attempt(patient.email, TEST_PASSWORD, REMOTE_ADDR="192.0.2.201").status_code == 200


def test_login_page_locks_out_with_a_plain_message(settings):
    patient = PatientFactory()
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser.post("/login/", {"username": patient.email, "password": "wrong"})
    response = browser.post("/login/", {"username": patient.email, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many" in response.content and b"<html" in response.content
    assert "_auth_user_id" not in browser.session


def test_login_page_uses_the_auth_throttle(settings):
    settings.AXES_ENABLED = False
    patient = PatientFactory()
    statuses = [
        Client()
        .post(
            "/login/",
            {"username": patient.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"9.{i}.0.1",
        )
        .status_code
        for i in range(21)
    ]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429, statuses


def test_admin_login_locks_out(settings):
    admin = AdminFactory()
    browser = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        browser.post("/admin/login/", {"username": admin.email, "password": "wrong"})
    response = browser.post(
        "/admin/login/?next=/admin/", {"username": admin.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert browser.get("/admin/").status_code == 302


def test_signup_page_uses_the_same_throttle_as_post_users():
    statuses = []
    for i in range(21):
        statuses.append(
            Client()
            .post(
                "/signup/",
                {
                    "name": "Page",
                    "email": f"page-{i}@example.com",
                    "role": "Patient",
                    "password1": "plum-orbit-cascade-91",
                    "password2": "plum-orbit-cascade-91",
                },
                HTTP_X_FORWARDED_FOR=f"7.{i}.0.1",
            )
            .status_code
        )
    assert statuses[:20] == [302] * 20 and statuses[20] == 429, statuses


def test_signup_page_and_api_share_one_bucket():
    for i in range(10):
        response = APIClient().post(
            "/api/v1/users",
            {"name": "A", "email": f"api-{i}@example.com", "role": "Patient", "password": "x"},
        )
        assert response.status_code == 400
    for i in range(10):
        Client().post("/signup/", {"email": f"page-{i}@example.com"})
    assert Client().post("/signup/", {"email": "more@example.com"}).status_code == 429
    assert_too_many(
        APIClient().post(
            "/api/v1/users", {"name": "A", "email": "z@example.com", "role": "Patient"}
        )
    )


def test_failed_firebase_proofs_on_jwt_lock_out_then_a_good_token_is_refused(
    firebase_emulator, settings
):
    email = unique_email()
    PatientFactory(email=email, firebase_uid="the-uid", email_verified=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer not-a-firebase-token")
        assert client.get(f"/api/v1/jwt?email={email}").status_code in (401, 429)
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Bearer {unsigned_token(email=email, uid='the-uid')}")
    assert_too_many(good.get(f"/api/v1/jwt?email={email}"))


def test_failed_firebase_proofs_on_sign_up_lock_out(firebase_emulator, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Bearer forged")
        client.post(
            "/api/v1/users",
            {"name": "F", "email": f"f{i}@example.com", "role": "Patient"},
        )
    response = APIClient().post(
        "/api/v1/users",
        {
            "name": "F",
            "email": "fine@example.com",
            "role": "Patient",
            "password": "plum-orbit-cascade-91",
        },
    )
    assert_too_many(response)


def test_failed_reset_confirmations_lock_out(settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        APIClient().post(
            "/api/v1/auth/password-reset/confirm",
            {"uid": "MQ", "token": "bad-token", "password": "lantern-quarry-meadow-77"},
        )
    response = APIClient().post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": "MQ", "token": "bad-token", "password": "lantern-quarry-meadow-77"},
    )
    assert_too_many(response)
    assert_too_many(APIClient().post("/api/v1/auth/password-reset", {"email": "a@example.com"}))


def test_a_locked_address_cannot_sign_up_on_the_page_either(settings):
    patient = PatientFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client().post("/login/", {"username": patient.email, "password": "wrong"})
    response = Client().post(
        "/signup/",
        {
            "name": "Page",
            "email": "someone-new@example.com",
            "role": "Patient",
            "password1": "plum-orbit-cascade-91",
            "password2": "plum-orbit-cascade-91",
        },
    )
    assert response.status_code == 429 and b"Too many" in response.content
    assert int(response["Retry-After"]) > 0


def test_reset_request_is_refused_for_a_locked_address_but_not_for_a_locked_account(settings):
    patient = PatientFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_attempt(patient.email, "wrong", REMOTE_ADDR="192.0.2.1")
    assert_too_many(token_attempt(patient.email, TEST_PASSWORD, REMOTE_ADDR="198.51.100.1"))
    # The account is locked by a stranger's guesses; its owner still gets a reset link.
    response = APIClient().post(
        "/api/v1/auth/password-reset", {"email": patient.email}, REMOTE_ADDR="198.51.100.1"
    )
    assert response.status_code == 200, response.content
    # The guessing address itself is refused.
    assert_too_many(
        APIClient().post(
            "/api/v1/auth/password-reset", {"email": patient.email}, REMOTE_ADDR="192.0.2.1"
        )
    )
