"""POST users with a password (local accounts) and every way a sign-up can be wrong."""

import pytest
from rest_framework.test import APIClient

from accounts.models import DoctorProfile, User
from tests.accounts.helpers import assert_error, error_paths
from tests.factories import PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "plum-orbit-cascade-91"


def sign_up(**fields):
    body = {"name": "Mim", "email": "mim@example.com", "role": "Patient", "password": GOOD_PASSWORD}
    body.update(fields)
    return APIClient().post("/api/v1/users/", {k: v for k, v in body.items() if v is not None})


def test_local_patient_registers_and_signs_in():
    response = sign_up(image="https://img.example.com/a.png", phone=12345)
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["role"] == "Patient" and data["phone"] == "12345"
    assert set(data) >= {"id", "_id", "name", "email", "role", "image", "phone", "createdAt"}
    assert "isVerified" not in data  # doctors only
    user = User.objects.get(email="mim@example.com")
    assert user.check_password(GOOD_PASSWORD)

    tokens = APIClient().post(
        "/api/v1/auth/token", {"email": "MIM@example.com", "password": GOOD_PASSWORD}
    )
    assert tokens.status_code == 200, tokens.content
    assert tokens.json()["accessToken"] == tokens.json()["data"]["accessToken"]


def test_doctor_specialty_by_id_and_starts_unverified():
    service = ServiceFactory(name="Teeth Cleaning")
    response = sign_up(
        email="doc@example.com", role="doctor", specialty=service.pk, licenseNumber="L-1", bio="Hi"
    )
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["role"] == "Doctor" and data["specialtyId"] == service.pk
    assert data["isVerified"] is False
    profile = DoctorProfile.objects.get(user__email="doc@example.com")
    assert (profile.specialty, profile.license_number, profile.is_verified) == (
        service,
        "L-1",
        False,
    )


@pytest.mark.parametrize("role", ["Admin", "admin", "ADMIN"])
def test_nobody_registers_as_admin(role):
    assert_error(sign_up(role=role), 403, "Permission Denied")
    assert not User.objects.filter(email="mim@example.com").exists()


def test_doctor_cannot_register_verified():
    response = sign_up(role="Doctor", isVerified=True)
    assert_error(response, 400)
    assert "isVerified" in error_paths(response)
    assert not User.objects.exists()


def test_duplicate_email_in_any_case_is_409():
    PatientFactory(email="taken@example.com")
    for email in ("taken@example.com", "TAKEN@Example.COM"):
        response = sign_up(email=email)
        assert_error(response, 409, "Duplicate Entry")
        assert error_paths(response) == {"email"}
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"name": None}, "name"),
        ({"email": None}, "email"),
        ({"role": None}, "role"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "Nurse"}, "role"),
        ({"name": ["a list"]}, "name"),
        ({"email": 42}, "email"),
        ({"image": "not a url"}, "image"),
        ({"image": "ftp://files.example.com/me.png"}, "image"),
        ({"image": "javascript:alert(1)"}, "image"),
        ({"image": "https://"}, "image"),
        ({"image": "https://example.com/" + "a" * 500}, "image"),
        ({"role": "Doctor", "isverified": True}, "isVerified"),
        ({"password": "123"}, "password"),
        ({"password": "password"}, "password"),
        ({"password": "mim@example.com1"}, "password"),
        ({"password": None}, "password"),
        ({"role": "Doctor", "specialty": "Astrology"}, "specialty"),
        ({"name": "x" * 151}, "name"),
    ],
)
def test_bad_input_is_400_with_the_path(fields, path):
    response = sign_up(**fields)
    assert_error(response, 400, "Validation Error")
    assert path in error_paths(response), response.json()
    assert not User.objects.exists()


def test_body_that_is_not_an_object_is_400():
    response = APIClient().post("/api/v1/users", ["a"], format="json")
    assert_error(response, 400)
    response = APIClient().post("/api/v1/users", '{"name": ', content_type="application/json")
    assert_error(response, 400, "Validation Error")


def test_sign_up_reads_the_bearer_token_as_firebase_not_as_ours(patient, client_for):
    """POST users never authenticates with our JWT: its bearer token is a Firebase one."""
    response = client_for(patient).post(
        "/api/v1/users",
        {"name": "A", "email": "b@example.com", "role": "Patient", "password": GOOD_PASSWORD},
    )
    assert_error(response, 401, "Authentication Error")
    assert not User.objects.filter(email="b@example.com").exists()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    response = client.post(
        "/api/v1/users",
        {"name": "A", "email": "a@example.com", "role": "Patient", "password": GOOD_PASSWORD},
    )
    assert_error(response, 401, "Authentication Error")
    assert not User.objects.filter(email="a@example.com").exists()


@pytest.mark.parametrize(
    "image",
    [
        # What the schema promises (http or https, a host, no white space), including a
        # host label longer than DNS allows, which Django's URLValidator would refuse.
        "https://" + "a" * 70 + ".example.com/me.png",
        "HTTP://EXAMPLE.COM",
        "https://0.com",
        "",
    ],
)
def test_image_takes_what_the_schema_describes(image):
    response = sign_up(image=image)
    assert response.status_code == 201, response.content
    assert User.objects.get(email="mim@example.com").image == image


def test_a_null_image_is_no_picture():
    """The reference client sends a Google account without a photo as `image: null`."""
    body = {"name": "Mim", "email": "mim@example.com", "role": "Patient", "image": None}
    response = APIClient().post("/api/v1/users/", {**body, "password": GOOD_PASSWORD})
    assert response.status_code == 201, response.content
    assert User.objects.get(email="mim@example.com").image == ""


def test_doctor_sign_up_may_say_it_is_not_verified():
    response = sign_up(role="Doctor", isVerified=False, isverified=False)
    assert response.status_code == 201, response.content
    assert response.json()["data"]["isVerified"] is False
