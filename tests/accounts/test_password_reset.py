"""Password reset by mail: Django's own token generator, its views for pages, the API twin."""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_for
from tests.accounts.helpers import assert_error, error_paths
from tests.factories import TEST_PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "lantern-quarry-meadow-77"


def request_reset(email: str, capture):
    with capture(execute=True):
        return APIClient().post("/api/v1/auth/password-reset", {"email": email})


def reset_link(email: str) -> tuple[str, str]:
    (message,) = [m for m in mail.outbox if m.to == [email]]
    assert "password" in message.subject.lower()
    match = re.search(r"/password-reset/([^/\s]+)/([^/\s]+)/", message.body)
    assert match, message.body
    assert message.alternatives, "an HTML part too"
    return match.group(1), match.group(2)


def test_reset_answers_the_same_for_unknown_addresses(django_capture_on_commit_callbacks):
    patient = PatientFactory()
    known = request_reset(patient.email, django_capture_on_commit_callbacks)
    unknown = request_reset("nobody@example.com", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert [m.to for m in mail.outbox] == [[patient.email]]


def test_no_mail_for_deactivated_or_passwordless_accounts(django_capture_on_commit_callbacks):
    gone = PatientFactory(is_active=False)
    firebase_only = PatientFactory()
    firebase_only.set_unusable_password()
    firebase_only.save()
    for user in (gone, firebase_only):
        assert request_reset(user.email, django_capture_on_commit_callbacks).status_code == 200
    assert mail.outbox == []


def test_confirm_sets_the_password_and_revokes_every_refresh_token(
    django_capture_on_commit_callbacks,
):
    patient = PatientFactory()
    pairs = [token_pair_for(patient), token_pair_for(patient)]
    request_reset(patient.email.upper(), django_capture_on_commit_callbacks)
    uid, token = reset_link(patient.email)

    response = APIClient().post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD) and patient.email_verified
    for pair in pairs:
        refresh = APIClient().post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]})
        assert_error(refresh, 401)
    old = APIClient().post(
        "/api/v1/auth/token", {"email": patient.email, "password": TEST_PASSWORD}
    )
    assert_error(old, 401)
    new = APIClient().post("/api/v1/auth/token", {"email": patient.email, "password": NEW_PASSWORD})
    assert new.status_code == 200
    # The link works once.
    again = APIClient().post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "password": "another-pass-word-9"},
    )
    assert_error(again, 400)


def test_confirm_uses_djangos_validators(django_capture_on_commit_callbacks):
    patient = PatientFactory()
    request_reset(patient.email, django_capture_on_commit_callbacks)
    uid, token = reset_link(patient.email)
    response = APIClient().post(
        "/api/v1/auth/password-reset/confirm", {"uid": uid, "token": token, "password": "123"}
    )
    assert_error(response, 400, "Validation Error")
    assert error_paths(response) == {"password"}
    patient.refresh_from_db()
    assert patient.check_password(TEST_PASSWORD)


@pytest.mark.parametrize(
    "body",
    [
        {"uid": "garbage", "token": "garbage", "password": NEW_PASSWORD},
        {"uid": "", "token": "", "password": NEW_PASSWORD},
        {"uid": "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA", "token": "a-b", "password": NEW_PASSWORD},
        {"uid": "\u00e9\u00e9", "token": "x" * 500, "password": NEW_PASSWORD},
    ],
)
def test_confirm_with_a_bad_link_is_400(body):
    assert_error(APIClient().post("/api/v1/auth/password-reset/confirm", body), 400)


def test_reset_pages_use_djangos_views_and_revoke_tokens(django_capture_on_commit_callbacks):
    patient = PatientFactory()
    pair = token_pair_for(patient)
    browser = Client()
    assert browser.get("/password-reset/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/password-reset/", {"email": patient.email})
    assert response.status_code == 302
    uid, token = reset_link(patient.email)
    response = browser.get(f"/password-reset/{uid}/{token}/", follow=True)
    assert response.status_code == 200 and b"new_password1" in response.content
    form_url = response.redirect_chain[-1][0]
    response = browser.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302, response.content
    patient.refresh_from_db()
    assert patient.check_password(NEW_PASSWORD)
    refresh = APIClient().post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]})
    assert_error(refresh, 401)
    assert browser.get(response["Location"]).status_code == 200


def test_reset_of_an_unproven_account_takes_it_over(django_capture_on_commit_callbacks):
    # The address's owner resets a squatter's account: the squatter's Firebase binding
    # (never verified) goes too.
    squatter = PatientFactory(firebase_uid="squatter-uid", email_verified=False)
    request_reset(squatter.email, django_capture_on_commit_callbacks)
    uid, token = reset_link(squatter.email)
    response = APIClient().post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.content
    user = User.objects.get(pk=squatter.pk)
    assert user.firebase_uid is None and user.email_verified
