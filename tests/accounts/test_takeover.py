"""An address is nobody's until its owner proves it (ARCHITECTURE invariant 9).

The pre-hijack (a local account squatting someone else's address) and the squat (an
unverified Firebase account bound first) both run against the real Firebase Auth
emulator: a proven sign-in takes the unproven account over, never joins it.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import User
from tests.accounts.helpers import assert_error, unique_email, unsigned_token

pytestmark = pytest.mark.django_db

ATTACKER_PASSWORD = "attacker-knows-this-91"


def firebase_client(id_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {id_token}")
    return client


def register(client, email, **fields):
    return client.post(
        "/api/v1/users", {"name": "Owner", "email": email, "role": "Patient", **fields}
    )


def squat_with_password(email: str) -> dict:
    """The attacker registers the victim's address locally and signs in: API and page."""
    response = register(APIClient(), email, name="Attacker", password=ATTACKER_PASSWORD)
    assert response.status_code == 201, response.content
    pair = APIClient().post("/api/v1/auth/token", {"email": email, "password": ATTACKER_PASSWORD})
    assert pair.status_code == 200, pair.content
    browser = Client()
    signed_in = browser.post("/login/", {"username": email, "password": ATTACKER_PASSWORD})
    assert signed_in.status_code == 302, signed_in.content
    assert browser.get("/appointments/").status_code == 200
    return {"pair": pair.json(), "browser": browser}


def assert_attacker_is_out(email: str, squat: dict) -> None:
    user = User.objects.get(email=email)
    assert user.email_verified
    assert not user.has_usable_password()
    refused = APIClient().post(
        "/api/v1/auth/token", {"email": email, "password": ATTACKER_PASSWORD}
    )
    assert_error(refused, 401)
    stale_refresh = APIClient().post(
        "/api/v1/auth/token/refresh", {"refresh": squat["pair"]["refreshToken"]}
    )
    assert_error(stale_refresh, 401)
    outstanding = OutstandingToken.objects.filter(user=user)
    assert BlacklistedToken.objects.filter(token__in=outstanding).exists()
    # The attacker's access token dies with the password it was issued under.
    stale_access = APIClient()
    stale_access.credentials(HTTP_AUTHORIZATION=f"Bearer {squat['pair']['accessToken']}")
    assert_error(stale_access.get(f"/api/v1/user?email={email}"), 401)
    # The attacker's browser session has ended.
    page = squat["browser"].get("/appointments/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    # The address is told.
    notices = [m for m in mail.outbox if m.to == [email] and "taken over" in m.subject.lower()]
    assert len(notices) == 1, [m.subject for m in mail.outbox]


def test_pre_hijack_verified_firebase_jwt_takes_the_local_account_over(
    firebase_emulator, django_capture_on_commit_callbacks
):
    email = unique_email("victim")
    squat = squat_with_password(email)
    uid, id_token = firebase_emulator.sign_up(email)  # the owner, verified

    with django_capture_on_commit_callbacks(execute=True):
        response = firebase_client(id_token).get(f"/api/v1/jwt?email={email}")
    assert response.status_code == 200, response.content
    assert User.objects.get(email=email).firebase_uid == uid
    assert_attacker_is_out(email, squat)

    # The owner's own tokens work.
    ours = APIClient()
    ours.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['accessToken']}")
    assert ours.get(f"/api/v1/user?email={email}").status_code == 200


def test_pre_hijack_verified_firebase_sign_up_takes_the_local_account_over(
    firebase_emulator, django_capture_on_commit_callbacks
):
    email = unique_email("victim")
    squat = squat_with_password(email)
    uid, id_token = firebase_emulator.sign_up(email)

    with django_capture_on_commit_callbacks(execute=True):
        response = register(firebase_client(id_token), email, name="Real Owner", phone="0171")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["name"] == "Real Owner" and data["phone"] == "0171"
    assert User.objects.filter(email=email).count() == 1
    assert User.objects.get(email=email).firebase_uid == uid
    assert_attacker_is_out(email, squat)


def test_squat_unverified_firebase_binding_never_blocks_the_verified_owner(
    firebase_emulator, django_capture_on_commit_callbacks
):
    email = unique_email("victim")
    # The attacker creates a Firebase account with the victim's address, never verified.
    squatter_uid, squatter_token = firebase_emulator.sign_up(
        email, password="squatter-pass-1", verified=False
    )
    assert register(firebase_client(squatter_token), email, name="Squatter").status_code == 201
    squatter_pair = firebase_client(squatter_token).get(f"/api/v1/jwt?email={email}").json()

    # The owner signs up on Firebase too (another project user in real life; here a
    # token for another uid with a verified email, as Firebase would mint for them).
    owner = unsigned_token(email=email, uid="the-real-owner-uid", verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = firebase_client(owner).get(f"/api/v1/jwt?email={email}")
    assert response.status_code == 200, response.content
    user = User.objects.get(email=email)
    assert user.firebase_uid == "the-real-owner-uid" and user.email_verified
    # The squatter's binding and tokens are gone.
    assert_error(firebase_client(squatter_token).get(f"/api/v1/jwt?email={email}"), 401)
    assert_error(
        APIClient().post("/api/v1/auth/token/refresh", {"refresh": squatter_pair["refreshToken"]}),
        401,
    )
    assert squatter_uid != user.firebase_uid


def test_squat_verified_owner_can_register_over_an_unverified_binding(firebase_emulator):
    email = unique_email("victim")
    _, squatter_token = firebase_emulator.sign_up(email, password="squatter-pass-1", verified=False)
    assert register(firebase_client(squatter_token), email, name="Squatter").status_code == 201
    owner = unsigned_token(email=email, uid="owner-registers", verified=True)
    response = register(firebase_client(owner), email, name="Owner")
    assert response.status_code == 201, response.content
    assert User.objects.get(email=email).firebase_uid == "owner-registers"


def test_an_unverified_token_never_takes_anything_over(firebase_emulator):
    email = unique_email()
    uid, id_token = firebase_emulator.sign_up(email, verified=False)
    assert register(firebase_client(id_token), email).status_code == 201
    other = unsigned_token(email=email, uid="another-unverified", verified=False)
    body = assert_error(firebase_client(other).get(f"/api/v1/jwt?email={email}"), 401)
    assert "another Firebase account" in body["errorMessages"][0]["message"]
    assert_error(register(firebase_client(other), email), 409)
    assert User.objects.get(email=email).firebase_uid == uid


def test_a_proven_account_is_never_taken_over(firebase_emulator):
    email = unique_email()
    uid, id_token = firebase_emulator.sign_up(email)  # verified
    assert register(firebase_client(id_token), email).status_code == 201
    assert User.objects.get(email=email).email_verified
    other = unsigned_token(email=email, uid="someone-else-verified", verified=True)
    assert_error(firebase_client(other).get(f"/api/v1/jwt?email={email}"), 401)
    assert_error(register(firebase_client(other), email), 409)
    assert User.objects.get(email=email).firebase_uid == uid


def test_the_binding_firebase_account_proves_its_own_address_later(firebase_emulator):
    # The reference client's flow: register before verifying, verify, sign in again.
    email = unique_email()
    uid, unverified = firebase_emulator.sign_up(email, verified=False)
    assert register(firebase_client(unverified), email).status_code == 201
    assert not User.objects.get(email=email).email_verified
    before = firebase_client(unverified).get(f"/api/v1/jwt?email={email}")
    assert before.status_code == 200
    firebase_emulator.set_email_verified(uid)
    verified = firebase_emulator.sign_in(email)
    after = firebase_client(verified).get(f"/api/v1/jwt?email={email}")
    assert after.status_code == 200
    user = User.objects.get(email=email)
    assert user.email_verified and user.firebase_uid == uid
    # Sign-ins from before the proof end (whoever held the uid then may not be the owner);
    # the pair issued with the proof works.
    refresh = APIClient().post(
        "/api/v1/auth/token/refresh", {"refresh": before.json()["refreshToken"]}
    )
    assert_error(refresh, 401)
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {after.json()['accessToken']}")
    assert fresh.get(f"/api/v1/user?email={email}").status_code == 200
    assert not [m for m in mail.outbox if "taken over" in m.subject.lower()]


def test_a_proven_local_account_links_its_verified_firebase_account_keeping_the_password(
    firebase_emulator,
):
    email = unique_email()
    response = register(APIClient(), email, password=ATTACKER_PASSWORD)
    assert response.status_code == 201
    User.objects.filter(email=email).update(email_verified=True)
    uid, id_token = firebase_emulator.sign_up(email)
    assert firebase_client(id_token).get(f"/api/v1/jwt?email={email}").status_code == 200
    user = User.objects.get(email=email)
    assert user.firebase_uid == uid and user.check_password(ATTACKER_PASSWORD)


# ---------------------------------------------------------------- the mailed link


def _link_token(message) -> str:
    match = re.search(r"/verify-email/([^/\s]+)/", message.body)
    assert match, message.body
    return match.group(1)


def _local_sign_up(email: str, capture) -> str:
    with capture(execute=True):
        response = register(APIClient(), email, password=ATTACKER_PASSWORD)
    assert response.status_code == 201, response.content
    assert response.json()["data"]["emailVerified"] is False
    (message,) = [m for m in mail.outbox if m.to == [email]]
    assert "verify" in message.subject.lower()
    return _link_token(message)


def test_local_sign_up_mails_a_link_and_link_plus_password_proves_it(
    django_capture_on_commit_callbacks,
):
    email = unique_email("local")
    token = _local_sign_up(email, django_capture_on_commit_callbacks)
    assert not User.objects.get(email=email).email_verified

    response = APIClient().post(
        "/api/v1/auth/verify-email", {"token": token, "password": ATTACKER_PASSWORD}
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["emailVerified"] is True
    user = User.objects.get(email=email)
    assert user.email_verified and user.check_password(ATTACKER_PASSWORD)
    # Used once.
    assert_error(APIClient().post("/api/v1/auth/verify-email", {"token": token}), 400)


def test_the_link_alone_takes_the_account_over(django_capture_on_commit_callbacks):
    # Whoever reads the mailbox is the owner; whoever chose the password may not be.
    email = unique_email("victim")
    token = _local_sign_up(email, django_capture_on_commit_callbacks)
    pair = APIClient().post("/api/v1/auth/token", {"email": email, "password": ATTACKER_PASSWORD})
    with django_capture_on_commit_callbacks(execute=True):
        response = APIClient().post("/api/v1/auth/verify-email", {"token": token})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["emailVerified"] is True and data["passwordCleared"] is True
    user = User.objects.get(email=email)
    assert user.email_verified and not user.has_usable_password()
    assert_error(
        APIClient().post("/api/v1/auth/token/refresh", {"refresh": pair.json()["refreshToken"]}),
        401,
    )
    # The answer lets the owner choose a password at once.
    chosen = APIClient().post(
        "/api/v1/auth/password-reset/confirm",
        {**data["setPassword"], "password": "owner-new-pass-42"},
    )
    assert chosen.status_code == 200, chosen.content
    assert User.objects.get(email=email).check_password("owner-new-pass-42")


def test_verify_with_the_wrong_password_changes_nothing(django_capture_on_commit_callbacks):
    email = unique_email()
    token = _local_sign_up(email, django_capture_on_commit_callbacks)
    response = APIClient().post(
        "/api/v1/auth/verify-email", {"token": token, "password": "not-the-password"}
    )
    assert_error(response, 401)
    user = User.objects.get(email=email)
    assert not user.email_verified and user.check_password(ATTACKER_PASSWORD)


@pytest.mark.parametrize("token", ["garbage", "MQ.abc-def", "", "x" * 300])
def test_bad_verification_tokens_are_400(token):
    assert_error(APIClient().post("/api/v1/auth/verify-email", {"token": token}), 400)


def test_resend_answers_the_same_whether_or_not_the_address_exists(
    django_capture_on_commit_callbacks,
):
    email = unique_email()
    _local_sign_up(email, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    answers = []
    for address in (email, unique_email("nobody")):
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post("/api/v1/auth/verify-email/resend", {"email": address})
        assert response.status_code == 200, response.content
        answers.append(response.json())
    assert answers[0] == answers[1]
    assert [m.to for m in mail.outbox] == [[email]]


def test_verify_page_confirms_for_the_signed_in_registrant(django_capture_on_commit_callbacks):
    email = unique_email("page")
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            "/signup/",
            {
                "name": "Page Person",
                "email": email,
                "role": "Patient",
                "password1": ATTACKER_PASSWORD,
                "password2": ATTACKER_PASSWORD,
            },
        )
    assert response.status_code == 302, response.content
    (message,) = [m for m in mail.outbox if m.to == [email]]
    url = f"/verify-email/{_link_token(message)}/"
    # GET never changes anything (mail scanners follow links).
    assert browser.get(url).status_code == 200
    assert not User.objects.get(email=email).email_verified
    response = browser.post(url, {"action": "confirm"})
    assert response.status_code == 302
    user = User.objects.get(email=email)
    assert user.email_verified and user.check_password(ATTACKER_PASSWORD)


def test_verify_page_followed_by_someone_else_takes_over_and_asks_for_a_password(
    django_capture_on_commit_callbacks,
):
    email = unique_email("page")
    token = _local_sign_up(email, django_capture_on_commit_callbacks)
    owner = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(f"/verify-email/{token}/", {"action": "take_over"})
    assert response.status_code == 302
    assert "/password-reset/" in response["Location"]
    user = User.objects.get(email=email)
    assert user.email_verified and not user.has_usable_password()
    set_password = owner.get(response["Location"], follow=True)
    assert set_password.status_code == 200
    assert b"new_password1" in set_password.content


def test_a_takeover_sends_a_verified_doctor_back_to_verification(firebase_emulator):
    from tests.factories import DoctorFactory

    squatter = DoctorFactory(email=unique_email("doc"))
    assert squatter.doctor_profile.is_verified and not squatter.email_verified
    owner = unsigned_token(email=squatter.email, uid="doctor-owner", verified=True)
    assert firebase_client(owner).get(f"/api/v1/jwt?email={squatter.email}").status_code == 200
    squatter.doctor_profile.refresh_from_db()
    assert not squatter.doctor_profile.is_verified
