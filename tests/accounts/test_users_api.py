"""GET/PATCH/DELETE users, user?email=, usersrole?email=: who may do what."""

import re

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import DoctorProfile, Role, User
from accounts.services import token_pair_for
from tests.accounts.helpers import assert_error, error_paths
from tests.factories import (
    AdminFactory,
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
)

pytestmark = pytest.mark.django_db


# ---- GET users (admin list) ----


def test_list_needs_a_token_and_the_admin_role(patient, doctor, client_for):
    assert_error(APIClient().get("/api/v1/users"), 401, "Authentication Error")
    assert_error(client_for(patient).get("/api/v1/users"), 403, "Permission Denied")
    assert_error(client_for(doctor).get("/api/v1/users/"), 403, "Permission Denied")


def test_list_filters_searches_and_paginates(admin_user, client_for):
    PatientFactory(name="Alice Smith", email="alice@example.com")
    PatientFactory(name="Bob", email="bob@clinic.org")
    DoctorFactory(name="Dr. Carol", email="carol@example.com")
    client = client_for(admin_user)

    response = client.get("/api/v1/users?userType=patient")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Users retrieved successfully"
    assert body["meta"] == {"page": 1, "limit": 10, "total": 2}
    assert {u["email"] for u in body["data"]} == {"alice@example.com", "bob@clinic.org"}

    doctors = client.get("/api/v1/users/?userType=DOCTOR").json()["data"]
    assert [d["email"] for d in doctors] == ["carol@example.com"]
    assert doctors[0]["isVerified"] is True and doctors[0]["isverified"] == "verified"

    by_search = client.get("/api/v1/users?searchTerm=CLINIC").json()["data"]
    assert [u["email"] for u in by_search] == ["bob@clinic.org"]
    by_role = client.get("/api/v1/users?searchTerm=doct").json()["data"]
    assert [u["email"] for u in by_role] == ["carol@example.com"]

    page = client.get("/api/v1/users?page=2&limit=2&ordering=email").json()
    assert page["meta"] == {"page": 2, "limit": 2, "total": 4}
    # alice, bob, carol, then the admin (userN@example.com).
    assert [u["email"] for u in page["data"]] == ["carol@example.com", admin_user.email]
    newest_first = client.get("/api/v1/users?limit=1&ordering=-email").json()["data"]
    assert [u["email"] for u in newest_first] == [admin_user.email]

    capped = client.get("/api/v1/users?limit=1000").json()
    assert capped["meta"]["limit"] == 100


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("userType=Nurse", "userType"),
        ("page=0", "page"),
        ("limit=abc", "limit"),
        ("ordering=password", "ordering"),
    ],
)
def test_list_bad_query_is_400(admin_user, client_for, query, path):
    response = client_for(admin_user).get(f"/api/v1/users?{query}")
    assert_error(response, 400, "Validation Error")
    assert error_paths(response) == {path}


def test_list_leaves_out_deleted_users(admin_user, client_for):
    gone = PatientFactory()
    client = client_for(admin_user)
    assert client.delete(f"/api/v1/users/{gone.pk}").status_code == 200
    emails = [u["email"] for u in client.get("/api/v1/users?limit=100").json()["data"]]
    assert gone.email not in emails and not any(e.endswith(".invalid") for e in emails)


@pytest.mark.parametrize("size", [5, 40])
def test_list_query_count_does_not_grow_with_rows(
    admin_user, client_for, django_assert_num_queries, size
):
    service = ServiceFactory()
    for i in range(size):
        if i % 2:
            DoctorFactory(profile__specialty=service)
        else:
            PatientFactory()
    client = client_for(admin_user)
    # The token's user, then one page with profiles and specialties joined and the total
    # as a subquery.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/users?limit=100")
    assert response.status_code == 200
    assert len(response.json()["data"]) == size + 1
    with django_assert_num_queries(2):
        response = client.get("/api/v1/users?limit=3&page=2")
    assert response.json()["meta"]["total"] == size + 1
    assert len(response.json()["data"]) == 3


# ---- GET users/:id, user?email=, usersrole?email= ----


def test_self_and_admin_see_a_user_others_get_404(patient, other_patient, admin_user, client_for):
    assert client_for(patient).get(f"/api/v1/users/{patient.pk}").json()["data"]["id"] == (
        patient.pk
    )
    body = client_for(admin_user).get(f"/api/v1/users/{patient.pk}/").json()
    assert body["message"] == "User retrieved successfully"
    assert body["data"]["email"] == patient.email
    assert_error(client_for(other_patient).get(f"/api/v1/users/{patient.pk}"), 404, "Not Found")
    assert_error(APIClient().get(f"/api/v1/users/{patient.pk}"), 401)
    assert_error(client_for(admin_user).get("/api/v1/users/999999"), 404)
    assert_error(client_for(admin_user).get("/api/v1/users/6385cfeef6afce75f83b4fc6"), 404)


def test_user_by_email_and_user_email_alias(patient, other_patient, admin_user, client_for):
    mine = client_for(patient).get(f"/api/v1/user?email={patient.email.upper()}")
    assert mine.status_code == 200 and mine.json()["data"]["id"] == patient.pk
    alias = client_for(patient).get(f"/api/v1/user/?userEmail={patient.email}")
    assert alias.json()["data"]["id"] == patient.pk
    assert (
        client_for(admin_user).get(f"/api/v1/user?email={other_patient.email}").status_code == 200
    )
    assert_error(client_for(patient).get(f"/api/v1/user?email={other_patient.email}"), 404)
    assert_error(client_for(patient).get("/api/v1/user"), 400)
    assert_error(APIClient().get(f"/api/v1/user?email={patient.email}"), 401)


@pytest.mark.parametrize(
    ("factory", "data", "is_admin"),
    [
        (PatientFactory, "Patient", False),
        (DoctorFactory, "Doctor", False),
        (AdminFactory, "admin", True),
    ],
)
def test_usersrole_spells_the_role_as_the_reference_client_reads_it(
    client_for, factory, data, is_admin
):
    user = factory()
    body = client_for(user).get(f"/api/v1/usersrole?email={user.email}").json()
    assert body["data"] == data
    assert body["role"] == user.role
    assert body["isAdmin"] is is_admin


def test_usersrole_of_someone_else(patient, doctor, admin_user, client_for):
    assert_error(client_for(patient).get(f"/api/v1/usersrole/?email={doctor.email}"), 404)
    body = client_for(admin_user).get(f"/api/v1/usersrole?email={doctor.email}").json()
    assert body["data"] == "Doctor" and body["isAdmin"] is False
    assert_error(APIClient().get(f"/api/v1/usersrole?email={doctor.email}"), 401)


# ---- PATCH users/:id and users?id= ----


def test_self_updates_own_profile_fields(patient, client_for):
    response = client_for(patient).patch(
        f"/api/v1/users/{patient.pk}", {"name": "New Name", "phone": "999", "image": ""}
    )
    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "New Name"
    patient.refresh_from_db()
    assert (patient.name, patient.phone) == ("New Name", "999")


def test_profile_updates_are_throttled_per_user(patient, other_patient, client_for, monkeypatch):
    """PATCH users (a profile, a photo or licence upload) has the "profile" rate of
    THROTTLE_PROFILE_RATE, per user: past it a 429 in the envelope with Retry-After that
    changes nothing; another user has their own count, and reads are not counted."""
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "profile", "2/min")
    client = client_for(patient)
    codes = [
        client.patch(f"/api/v1/users/{patient.pk}", {"name": f"Name {n}"}).status_code
        for n in range(2)
    ]
    assert codes == [200, 200]
    assert client.get(f"/api/v1/users/{patient.pk}").status_code == 200
    refused = client.patch(f"/api/v1/users?id={patient.pk}", {"name": "Refused"})
    assert_error(refused, 429, "Too Many Requests")
    assert int(refused["Retry-After"]) >= 1
    patient.refresh_from_db()
    assert patient.name == "Name 1"
    other = client_for(other_patient).patch(f"/api/v1/users/{other_patient.pk}", {"name": "B"})
    assert other.status_code == 200, other.content


def test_doctor_updates_doctor_fields_including_the_reference_alias(doctor, client_for):
    service = ServiceFactory(name="Pediatric Dental")
    response = client_for(doctor).patch(
        f"/api/v1/users?id={doctor.pk}",
        {"specialty": "Pediatric Dental", "registrationnumber": "R-9", "bio": "Kids"},
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["specialty"] == "Pediatric Dental" and data["licenseNumber"] == "R-9"
    profile = DoctorProfile.objects.get(user=doctor)
    assert (profile.specialty, profile.license_number, profile.bio) == (service, "R-9", "Kids")


@pytest.mark.parametrize(
    "body",
    [{"role": "Admin"}, {"isVerified": True}, {"isverified": True}, {"email": "x@example.com"}],
)
def test_non_admin_cannot_change_role_verification_or_email(unverified_doctor, client_for, body):
    response = client_for(unverified_doctor).patch(f"/api/v1/users/{unverified_doctor.pk}", body)
    assert_error(response, 403, "Permission Denied")
    unverified_doctor.refresh_from_db()
    assert unverified_doctor.role == Role.DOCTOR
    assert unverified_doctor.email != "x@example.com"
    assert DoctorProfile.objects.get(user=unverified_doctor).is_verified is False


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"password": "x"}, "password"),
        ({"isAdmin": True}, "isAdmin"),
        ({}, ""),
        ({"name": ""}, "name"),
        ({"name": 5.5, "image": "nope"}, "image"),
        ({"specialty": "Astrology"}, "specialty"),
    ],
)
def test_bad_patch_is_400_and_changes_nothing(doctor, client_for, body, path):
    before = (doctor.name, doctor.image)
    response = client_for(doctor).patch(f"/api/v1/users/{doctor.pk}", body, format="json")
    assert_error(response, 400, "Validation Error")
    assert path in error_paths(response)
    doctor.refresh_from_db()
    assert (doctor.name, doctor.image) == before


def test_patient_has_no_doctor_fields(patient, client_for):
    response = client_for(patient).patch(f"/api/v1/users/{patient.pk}", {"bio": "x"})
    assert_error(response, 400)
    assert error_paths(response) == {"bio"}


def test_patch_someone_else_is_404_and_anonymous_401(patient, other_patient, client_for):
    assert_error(
        client_for(patient).patch(f"/api/v1/users/{other_patient.pk}", {"name": "Hacked"}), 404
    )
    assert_error(APIClient().patch(f"/api/v1/users/{other_patient.pk}", {"name": "Hacked"}), 401)
    assert_error(client_for(patient).patch("/api/v1/users", {"name": "Hacked"}), 400)
    other_patient.refresh_from_db()
    assert other_patient.name != "Hacked"


def test_admin_verifies_and_revokes_a_doctor_recording_who_and_when(
    admin_user, unverified_doctor, client_for
):
    client = client_for(admin_user)
    response = client.patch(f"/api/v1/users?id={unverified_doctor.pk}", {"isVerified": True})
    assert response.status_code == 200, response.content
    assert response.json()["data"]["isVerified"] is True
    profile = DoctorProfile.objects.get(user=unverified_doctor)
    assert profile.is_verified and profile.verified_by == admin_user
    assert profile.verified_at is not None

    response = client.patch(f"/api/v1/users/{unverified_doctor.pk}", {"isverified": False})
    assert response.json()["data"]["isverified"] is None
    profile.refresh_from_db()
    # Revoking keeps who verified last and when; the events keep the whole history.
    assert not profile.is_verified and profile.verified_by == admin_user
    assert list(profile.user.verification_events.values_list("verified", "by")) == [
        (True, admin_user.pk),
        (False, admin_user.pk),
    ]


def test_admin_cannot_verify_a_patient(admin_user, patient, client_for):
    response = client_for(admin_user).patch(f"/api/v1/users/{patient.pk}", {"isVerified": True})
    assert_error(response, 400)
    assert not DoctorProfile.objects.filter(user=patient).exists()


def test_admin_sets_roles_in_any_case(admin_user, patient, client_for):
    client = client_for(admin_user)
    response = client.patch(f"/api/v1/users/{patient.pk}", {"role": "admin"})
    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.role == Role.ADMIN and patient.is_staff

    response = client.patch(f"/api/v1/users/{patient.pk}", {"role": "Doctor"})
    assert response.json()["data"]["isVerified"] is False
    assert DoctorProfile.objects.filter(user=patient, is_verified=False).exists()

    assert_error(client.patch(f"/api/v1/users/{patient.pk}", {"role": "Nurse"}), 400)
    # Demoting oneself could leave no administrator.
    assert_error(client.patch(f"/api/v1/users/{admin_user.pk}", {"role": "Patient"}), 400)
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


def test_admin_cannot_change_an_email(admin_user, patient, client_for):
    response = client_for(admin_user).patch(f"/api/v1/users/{patient.pk}", {"email": "n@e.com"})
    assert_error(response, 400)
    assert error_paths(response) == {"email"}


# ---- DELETE users/:id and users?id= ----


def test_delete_deactivates_anonymises_and_keeps_bookings(admin_user, client_for):
    booking = BookingFactory()
    type(booking.slot).objects.filter(pk=booking.slot_id).update(seats_taken=1)  # its hold
    patient = booking.patient
    patient.firebase_uid = "fb-uid-1"
    patient.save()
    pair = token_pair_for(patient)
    as_it_was = patient.email

    response = client_for(admin_user).delete(f"/api/v1/users/{patient.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "User deleted successfully"
    assert body["deletedCount"] == 1 and body["data"]["deletedCount"] == 1
    assert body["data"]["email"] == as_it_was and body["data"]["isActive"] is True

    patient.refresh_from_db()
    assert re.fullmatch(r"deleted-[0-9a-f]{32}@deleted\.invalid", patient.email), patient.email
    assert (patient.name, patient.phone, patient.image) == ("Deleted user", "", "")
    assert patient.firebase_uid is None and not patient.has_usable_password()
    assert not patient.is_active and patient.deleted_at is not None
    booking.refresh_from_db()
    assert booking.patient_id == patient.pk  # kept, visible to admins
    outstanding = OutstandingToken.objects.filter(user=patient)
    assert outstanding.exists()
    assert BlacklistedToken.objects.filter(token__in=outstanding).count() == outstanding.count()

    # Neither the old access token nor the refresh token work any more.
    stale = APIClient()
    stale.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['accessToken']}")
    assert_error(stale.get(f"/api/v1/users/{patient.pk}"), 401)
    assert_error(
        APIClient().post("/api/v1/auth/token/refresh", {"refresh": pair["refreshToken"]}), 401
    )
    # The freed email can register again.
    assert not User.objects.filter(email=as_it_was).exists()


def test_delete_with_query_id_and_twice(admin_user, doctor, client_for):
    client = client_for(admin_user)
    assert client.delete(f"/api/v1/users?id={doctor.pk}").status_code == 200
    assert DoctorProfile.objects.filter(user=doctor).exists()
    assert_error(client.delete(f"/api/v1/users/{doctor.pk}/"), 404)


def test_admins_and_the_user_delete_and_an_admin_never_themself(
    admin_user, patient, other_patient, doctor, client_for
):
    assert_error(APIClient().delete(f"/api/v1/users/{patient.pk}"), 401)
    assert_error(client_for(other_patient).delete(f"/api/v1/users/{patient.pk}"), 404)
    assert_error(client_for(doctor).delete(f"/api/v1/users?id={patient.pk}"), 404)
    assert_error(client_for(admin_user).delete(f"/api/v1/users/{admin_user.pk}"), 403)
    assert_error(client_for(admin_user).delete("/api/v1/users/424242"), 404)
    assert_error(client_for(admin_user).delete("/api/v1/users"), 400)
    assert User.objects.filter(is_active=True).count() == 4
    # Erasure of one's own account (API.md "Account lifecycle").
    assert client_for(patient).delete(f"/api/v1/users/{patient.pk}").status_code == 200
    assert User.objects.filter(is_active=True).count() == 3


def test_unsupported_verb_is_405(admin_user, client_for):
    assert_error(client_for(admin_user).put(f"/api/v1/users/{admin_user.pk}", {}), 405)


def test_empty_patch_from_the_reference_client_says_what_to_send(
    admin_user, unverified_doctor, client_for
):
    response = client_for(admin_user).patch(f"/api/v1/users?id={unverified_doctor.pk}")
    body = assert_error(response, 400)
    assert '"isVerified": true' in body["errorMessages"][0]["message"]
    assert DoctorProfile.objects.get(user=unverified_doctor).is_verified is False


def test_created_at_reads_as_the_serializer_field_writes_it(admin_user, client_for):
    from rest_framework import serializers

    from accounts.serializers import UserSerializer

    user = DoctorFactory()
    listed = client_for(admin_user).get("/api/v1/users?userType=Doctor").json()["data"]
    shown = next(u for u in listed if u["id"] == user.pk)["createdAt"]
    assert shown == serializers.DateTimeField().to_representation(user.created_at)
    assert shown == UserSerializer(user).data["createdAt"]
    assert shown.endswith("Z")
