"""auth/token, auth/token/refresh, auth/logout and the "auth" throttle."""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts.services import token_pair_for
from accounts.throttles import AuthRateThrottle
from tests.accounts.helpers import assert_error, error_paths
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def post(path, body):
    return APIClient().post(path, body, format="json")


def test_password_sign_in_returns_a_working_pair(patient):
    response = post("/api/v1/auth/token/", {"email": patient.email, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accessToken"] == body["data"]["accessToken"]
    assert body["refreshToken"] == body["data"]["refreshToken"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {body['accessToken']}")
    assert client.get(f"/api/v1/users/{patient.pk}").json()["data"]["email"] == patient.email


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"email": "nobody@example.com", "password": TEST_PASSWORD}, 401, ""),
        ({"password": TEST_PASSWORD}, 400, "email"),
        ({"email": "bad", "password": TEST_PASSWORD}, 400, "email"),
        ({"email": "{email}"}, 400, "password"),
        ({"email": "{email}", "password": "wrong-password"}, 401, ""),
        ({"email": "{email}", "password": {"$ne": ""}}, 400, "password"),
    ],
)
def test_password_sign_in_failures(patient, body, status, path):
    body = {k: v.format(email=patient.email) if isinstance(v, str) else v for k, v in body.items()}
    response = post("/api/v1/auth/token", body)
    assert_error(response, status)
    assert path in error_paths(response)
    assert "accessToken" not in response.json()


def test_deactivated_user_gets_no_token_and_no_refresh(patient):
    pair = token_pair_for(patient)
    patient.is_active = False
    patient.save()
    assert_error(
        post("/api/v1/auth/token", {"email": patient.email, "password": TEST_PASSWORD}), 401
    )
    body = assert_error(post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]}), 401)
    assert "deactivated" in body["errorMessages"][0]["message"]


def test_refresh_rotates_and_blacklists_the_old_token(patient):
    pair = token_pair_for(patient)
    response = post("/api/v1/auth/token/refresh/", {"refresh": pair["refreshToken"]})
    assert response.status_code == 200, response.content
    new = response.json()
    assert new["refreshToken"] != pair["refreshToken"]
    assert new["data"]["accessToken"] == new["accessToken"]
    assert BlacklistedToken.objects.filter(token__user=patient).count() == 1

    # The old one is spent; the new one works once.
    assert_error(post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]}), 401)
    again = post("/api/v1/auth/token/refresh", {"refresh": new["refreshToken"]})
    assert again.status_code == 200


def test_a_refresh_token_ends_with_the_password_it_was_issued_under(patient):
    """manage.py changepassword or a shell's set_password(): the old access token is
    refused (simplejwt's password-hash claim), and so is the old refresh token."""
    pair = token_pair_for(patient)
    patient.set_password("another-long-password-1")
    patient.save()
    body = assert_error(post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]}), 401)
    assert "password" in body["errorMessages"][0]["message"]
    assert not BlacklistedToken.objects.filter(token__user=patient).exists()

    # A pair issued under the new password refreshes.
    fresh = token_pair_for(patient)
    response = post("/api/v1/auth/token/refresh", {"refresh": fresh["refreshToken"]})
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['accessToken']}")
    assert client.get(f"/api/v1/users/{patient.pk}").status_code == 200


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 400), ({"refresh": 123}, 401), ({"refresh": "garbage"}, 401), ({"refresh": ""}, 400)],
)
def test_refresh_bad_input(body, status):
    assert_error(post("/api/v1/auth/token/refresh", body), status)


def test_an_access_token_is_not_a_refresh_token(patient):
    pair = token_pair_for(patient)
    assert_error(post("/api/v1/auth/token/refresh", {"refresh": pair["accessToken"]}), 401)


def test_logout_blacklists_the_refresh_token(patient):
    pair = token_pair_for(patient)
    response = post("/api/v1/auth/logout", {"refresh": pair["refreshToken"]})
    assert response.status_code == 200, response.content
    assert response.json()["message"] == "Logged out"
    assert BlacklistedToken.objects.filter(token__user=patient).count() == 1
    assert_error(post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]}), 401)
    assert_error(post("/api/v1/auth/logout/", {"refresh": pair["refreshToken"]}), 401)
    assert_error(post("/api/v1/auth/logout", {}), 400)


def test_auth_endpoints_are_throttled_with_429_in_the_envelope(patient, monkeypatch):
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    wrong = {"email": patient.email, "password": "wrong-password"}
    for _ in range(3):
        assert post("/api/v1/auth/token", wrong).status_code == 401
    response = post("/api/v1/auth/token", {"email": patient.email, "password": TEST_PASSWORD})
    body = assert_error(response, 429, "Too Many Requests")
    assert int(response["Retry-After"]) > 0
    assert "accessToken" not in body
    # The same budget covers sign-up and the Firebase exchange.
    assert_error(post("/api/v1/users", {"name": "x"}), 429)
    assert_error(APIClient().get("/api/v1/jwt?email=a@example.com"), 429)


def test_the_access_token_reads_its_user_on_every_request(client_for, patient):
    """The token's user is read (compiled, accounts.authentication) on each request: the
    same user as the ORM's, and a deactivation, a deletion or a new password refuses the
    token that worked a moment before, with no cache to wait for."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.authentication import JWTAuthentication
    from accounts.models import User

    read = JWTAuthentication().get_user(AccessToken.for_user(patient))
    orm = User.objects.get(pk=patient.pk)
    assert type(read) is User and read._state.adding is False and read._state.db == "default"
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name

    def works(client) -> int:
        return client.get(f"/api/v1/users/{patient.pk}").status_code

    client = client_for(patient)
    assert works(client) == 200
    User.objects.filter(pk=patient.pk).update(is_active=False)
    assert works(client) == 401
    User.objects.filter(pk=patient.pk).update(is_active=True)
    assert works(client) == 200
    patient.set_password("an-entirely-new-password-1")
    patient.save(update_fields=["password"])
    assert works(client) == 401
    client = client_for(patient)
    assert works(client) == 200
    User.objects.filter(pk=patient.pk).delete()
    assert works(client) == 401


def _expired_access(user) -> str:
    from datetime import timedelta

    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=1))
    return str(token)


@pytest.mark.parametrize("kind", ["garbage", "tampered", "expired"])
def test_a_bad_access_token_is_one_plain_message(patient, kind):
    """simplejwt's details (token classes, codes, a list of messages) are not the envelope's
    `errorMessages`: a client is told in one message that the token will not do."""
    token = {
        "garbage": "a.b.c",
        "tampered": token_pair_for(patient)["accessToken"][:-3] + "xyz",
        "expired": _expired_access(patient),
    }[kind]
    response = APIClient().get("/api/v1/bookings", HTTP_AUTHORIZATION=f"Bearer {token}")
    body = assert_error(response, 401, "Authentication Error")
    assert len(body["errorMessages"]) == 1, body
    (entry,) = body["errorMessages"]
    assert entry["path"] == ""
    assert "token" in entry["message"].lower()
    assert "token_class" not in response.content.decode()
    assert "token_not_valid" not in response.content.decode()
    assert ("expired" in entry["message"]) is (kind == "expired")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_refresh_token_is_one_plain_message():
    body = assert_error(post("/api/v1/auth/token/refresh", {"refresh": "garbage"}), 401)
    assert [e["path"] for e in body["errorMessages"]] == [""], body


SIMPLEJWT_WORDING = (
    "User not found",
    "User is inactive",
    "space-delimited",
    "Refresh token is invalid",
    "Token is expired",
    "token_class",
)


def _assert_plain(body, expected: str):
    assert [e["path"] for e in body["errorMessages"]] == [""], body
    message = body["errorMessages"][0]["message"]
    assert message == expected, body
    assert not any(words in str(body) for words in SIMPLEJWT_WORDING), body


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("unknown user", "The token is not valid: sign in again."),
        ("inactive user", "This account is deactivated."),
        ("no token", "Send the token as: Authorization: Bearer <token>."),
        ("three parts", "Send the token as: Authorization: Bearer <token>."),
    ],
)
def test_simplejwt_refusals_of_an_access_token_are_plain(patient, kind, expected):
    access = token_pair_for(patient)["accessToken"]
    header = {
        "unknown user": f"Bearer {access}",
        "inactive user": f"Bearer {access}",
        "no token": "Bearer",
        "three parts": f"Bearer {access} extra",
    }[kind]
    if kind == "unknown user":
        patient.delete()
    elif kind == "inactive user":
        patient.is_active = False
        patient.save()
    response = APIClient().get("/api/v1/bookings", HTTP_AUTHORIZATION=header)
    _assert_plain(assert_error(response, 401, "Authentication Error"), expected)


def test_an_access_token_sent_as_refresh_is_told_plainly(patient):
    access = token_pair_for(patient)["accessToken"]
    body = assert_error(post("/api/v1/auth/token/refresh", {"refresh": access}), 401)
    _assert_plain(
        body,
        "The token is of the wrong kind: the API takes the access token, "
        "auth/token/refresh the refresh token.",
    )


def test_a_token_refused_for_its_user_says_why_in_the_products_words(patient):
    """The old access token after a password change, and a refresh token whose user does
    not exist: the same sentences as the refresh path, not simplejwt's, and never
    "deactivated" for an account that is not there (outside tester, production mode)."""
    from rest_framework_simplejwt.tokens import RefreshToken

    pair = token_pair_for(patient)
    patient.set_password("another-long-password-1")
    patient.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['accessToken']}")
    (entry,) = assert_error(client.get("/api/v1/bookings"), 401)["errorMessages"]
    assert entry["message"] == "The password has changed since this sign-in: sign in again."

    ghost = RefreshToken.for_user(patient)  # outstanding, signed, for no user
    ghost["user_id"] = 999_999
    body = assert_error(post("/api/v1/auth/token/refresh", {"refresh": str(ghost)}), 401)
    assert [e["message"] for e in body["errorMessages"]] == [
        "The token is not valid: sign in again."
    ]
