"""Sign-up and sign-in with Firebase ID tokens minted by the real Auth emulator."""

import time

import pytest
from rest_framework.test import APIClient

from accounts.models import DoctorProfile, User
from tests.accounts.helpers import assert_error, unique_email, unsigned_token
from tests.factories import PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def firebase_client(id_token: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {id_token}")
    return client


def register(client, email, **fields):
    return client.post(
        "/api/v1/users", {"name": "Fire Base", "email": email, "role": "Patient", **fields}
    )


def test_sign_up_on_emulator_register_exchange_and_use_our_token(firebase_emulator):
    email = unique_email()
    uid, id_token = firebase_emulator.sign_up(email)

    response = register(firebase_client(id_token), email.upper(), phone="01711")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True and body["message"] == "Users created successfully"
    assert body["data"]["email"] == email
    assert body["data"]["role"] == "Patient"
    assert body["data"]["_id"] == body["data"]["id"]
    assert "password" not in body["data"] and "firebase_uid" not in body["data"]
    user = User.objects.get(email=email)
    assert user.firebase_uid == uid
    assert not user.has_usable_password()

    # The reference client writes "bearer" in lower case.
    response = firebase_client(id_token, "bearer").get(f"/api/v1/jwt?email={email}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accessToken"] == body["data"]["accessToken"]
    assert body["refreshToken"] == body["data"]["refreshToken"]

    ours = APIClient()
    ours.credentials(HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    me = ours.get(f"/api/v1/user?email={email}")
    assert me.status_code == 200, me.content
    assert me.json()["data"]["id"] == user.pk
    # Our API refuses the Firebase token itself as an access token.
    assert_error(firebase_client(id_token).get(f"/api/v1/users/{user.pk}"), 401)


def test_doctor_registers_unverified_with_specialty_by_name_and_licence_alias(firebase_emulator):
    service = ServiceFactory(name="Oral Surgery")
    email = unique_email("doc")
    _, id_token = firebase_emulator.sign_up(email)
    response = register(
        firebase_client(id_token),
        email,
        role="Doctor",
        specialty="oral surgery",
        registrationnumber="BMDC-777",
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["isVerified"] is False and data["isverified"] is None
    assert data["specialty"] == "Oral Surgery"
    assert data["licenseNumber"] == data["registrationnumber"] == "BMDC-777"
    profile = DoctorProfile.objects.get(user__email=email)
    assert profile.specialty == service and not profile.is_verified


def test_register_with_token_of_another_email_is_refused(firebase_emulator):
    _, id_token = firebase_emulator.sign_up(unique_email())
    victim = unique_email("victim")
    assert_error(register(firebase_client(id_token), victim), 401, "Authentication Error")
    assert not User.objects.filter(email=victim).exists()


def test_register_with_unverified_firebase_email_binds_the_account_to_that_uid(
    firebase_emulator,
):
    # The reference client registers right after a Firebase email sign-up, before any
    # verification; the account is then usable only by that Firebase account.
    email = unique_email()
    uid, id_token = firebase_emulator.sign_up(email, verified=False)
    assert register(firebase_client(id_token), email).status_code == 201
    assert User.objects.get(email=email).firebase_uid == uid
    response = firebase_client(id_token).get(f"/api/v1/jwt?email={email}")
    assert response.status_code == 200, response.content
    assert response.json()["accessToken"]

    # Another unverified Firebase account cannot use it; a verified one takes it over
    # (tests/accounts/test_takeover.py).
    other = unsigned_token(email=email, uid="another-firebase-account", verified=False)
    body = assert_error(firebase_client(other).get(f"/api/v1/jwt?email={email}"), 401)
    assert "another Firebase account" in body["errorMessages"][0]["message"]


def test_same_firebase_account_cannot_register_twice(firebase_emulator):
    email = unique_email()
    _, id_token = firebase_emulator.sign_up(email)
    assert register(firebase_client(id_token), email).status_code == 201
    assert_error(register(firebase_client(id_token), email), 409, "Duplicate Entry")
    assert User.objects.filter(email=email).count() == 1


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda email: "garbage", id="garbage"),
        pytest.param(lambda email: "a.b.c", id="three-garbage-parts"),
        pytest.param(
            lambda email: unsigned_token(email=email, exp=int(time.time()) - 3600),
            id="expired",
        ),
        pytest.param(
            lambda email: unsigned_token(email=email, iat=int(time.time()) + 3600), id="future"
        ),
        pytest.param(lambda email: unsigned_token(email=email, aud="other-project"), id="project"),
        pytest.param(
            lambda email: unsigned_token(
                email=email, iss="https://securetoken.google.com/other-project"
            ),
            id="issuer",
        ),
        pytest.param(lambda email: unsigned_token(email=email, sub=""), id="no-subject"),
    ],
)
def test_bad_firebase_tokens_are_401_on_register_and_jwt(firebase_emulator, make_token):
    email = unique_email()
    PatientFactory(email=email)
    token = make_token(email)
    body = assert_error(register(firebase_client(token), unique_email()), 401)
    assert body["message"] == "Authentication Error"
    assert_error(firebase_client(token).get(f"/api/v1/jwt?email={email}"), 401)


def test_forged_unsigned_token_is_refused_outside_the_emulator(
    firebase_emulator, monkeypatch, settings
):
    """Production has no emulator host: an unsigned token (what a forger can make) is 401,
    even one minted by the emulator itself. Refused before any certificate download."""
    email = unique_email()
    _, real_emulator_token = firebase_emulator.sign_up(email)
    PatientFactory(email=email)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST")
    for token in (real_emulator_token, unsigned_token(email=email)):
        assert_error(firebase_client(token).get(f"/api/v1/jwt?email={email}"), 401)
        assert_error(register(firebase_client(token), unique_email()), 401)


def test_jwt_requires_matching_verified_email_existing_active_user(firebase_emulator):
    email = unique_email()
    _, id_token = firebase_emulator.sign_up(email)
    client = firebase_client(id_token)

    # No account yet: register first.
    assert_error(client.get(f"/api/v1/jwt?email={email}"), 404)
    assert register(client, email).status_code == 201

    other = PatientFactory()
    body = assert_error(client.get(f"/api/v1/jwt?email={other.email}"), 401)
    assert "another email" in body["errorMessages"][0]["message"]
    assert_error(client.get("/api/v1/jwt"), 400)
    assert_error(APIClient().get(f"/api/v1/jwt?email={email}"), 401)

    User.objects.filter(email=email).update(is_active=False)
    body = assert_error(client.get(f"/api/v1/jwt?email={email}"), 401)
    assert "deactivated" in body["errorMessages"][0]["message"]


def test_unverified_firebase_email_cannot_take_over_a_local_account(firebase_emulator):
    email = unique_email()
    _, id_token = firebase_emulator.sign_up(email, verified=False)
    user = PatientFactory(email=email)
    body = assert_error(firebase_client(id_token).get(f"/api/v1/jwt/?email={email}"), 401)
    assert "not verified" in body["errorMessages"][0]["message"]
    user.refresh_from_db()
    assert user.firebase_uid is None


def test_local_account_links_its_verified_firebase_account_once(firebase_emulator):
    user = PatientFactory(email=unique_email())
    uid, id_token = firebase_emulator.sign_up(user.email)
    response = firebase_client(id_token).get(f"/api/v1/jwt/?email={user.email}")
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.firebase_uid == uid

    # A different Firebase account with that email (say, after deletion there) is refused.
    forged = unsigned_token(email=user.email, uid="someone-else")
    assert_error(firebase_client(forged).get(f"/api/v1/jwt?email={user.email}"), 401)


def test_register_with_garbage_authorization_schemes(firebase_emulator):
    email = unique_email()
    client = APIClient()
    # Not a bearer token and no password: nothing proves the identity.
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    response = register(client, email)
    assert_error(response, 400)
    assert not User.objects.filter(email=email).exists()
