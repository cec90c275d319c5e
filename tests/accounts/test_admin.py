"""Django admin: filters, search, verification actions and deletes through the services."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import DoctorProfile, Role
from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_user_changelist")


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_only_admins_open_the_admin(patient, doctor):
    for user in (patient, doctor):
        client = Client()
        client.force_login(user)
        response = client.get(CHANGELIST)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_changelist_filters_by_role_and_searches(admin_client):
    PatientFactory(name="Zed Patient", email="zed@example.com")
    DoctorFactory(name="Yara Doctor", email="yara@example.com")
    doctors = admin_client.get(CHANGELIST, {"role__exact": Role.DOCTOR}).content.decode()
    assert "yara@example.com" in doctors and "zed@example.com" not in doctors
    found = admin_client.get(CHANGELIST, {"q": "zed"}).content.decode()
    assert "zed@example.com" in found and "yara@example.com" not in found


def test_doctor_change_page_shows_the_profile_inline(admin_client, doctor):
    response = admin_client.get(reverse("admin:accounts_user_change", args=[doctor.pk]))
    assert response.status_code == 200
    assert "doctor_profile-TOTAL_FORMS" in response.content.decode()


def test_a_titled_doctor_name_is_not_titled_twice_in_the_admin(admin_client):
    doctor = DoctorFactory(name="Dr. Tanvir Karim")
    page = admin_client.get(reverse("admin:accounts_user_change", args=[doctor.pk]))
    assert "Dr. Tanvir Karim" in page.content.decode()
    assert "Dr. Dr." not in page.content.decode()
    assert str(doctor.doctor_profile) == "Dr. Tanvir Karim"


def test_verify_and_revoke_actions(admin_client, admin_user):
    pending = DoctorFactory(profile__verified=False)
    patient = PatientFactory()
    response = admin_client.post(
        CHANGELIST,
        {"action": "verify_doctors", "_selected_action": [pending.pk, patient.pk]},
        follow=True,
    )
    assert response.status_code == 200
    profile = DoctorProfile.objects.get(user=pending)
    assert profile.is_verified and profile.verified_by == admin_user and profile.verified_at
    assert not DoctorProfile.objects.filter(user=patient).exists()

    admin_client.post(
        CHANGELIST, {"action": "revoke_verification", "_selected_action": [pending.pk]}
    )
    profile.refresh_from_db()
    # Revoking keeps who verified last and when; the events keep the whole history.
    assert not profile.is_verified and profile.verified_by == admin_user
    assert list(profile.user.verification_events.values_list("verified", "by")) == [
        (True, admin_user.pk),
        (False, admin_user.pk),
    ]


def test_role_change_in_the_form_goes_through_the_service(admin_client):
    patient = PatientFactory()
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[patient.pk]),
        {"name": patient.name, "role": Role.DOCTOR, "phone": "", "image": "", "_save": "Save"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    patient.refresh_from_db()
    assert patient.role == Role.DOCTOR
    assert DoctorProfile.objects.filter(user=patient, is_verified=False).exists()


# ---- issue 17: "Is verified" editable on a doctor's page, through the verification service


def _doctor_form(doctor, profile, **profile_fields) -> dict:
    data = {
        "name": doctor.name,
        "role": Role.DOCTOR,
        "phone": "",
        "image": "",
        "_save": "Save",
        "doctor_profile-TOTAL_FORMS": "1",
        "doctor_profile-INITIAL_FORMS": "1",
        "doctor_profile-MIN_NUM_FORMS": "0",
        "doctor_profile-MAX_NUM_FORMS": "1",
        "doctor_profile-0-id": str(profile.pk),
        "doctor_profile-0-user": str(doctor.pk),
        "doctor_profile-0-specialty": "",
        "doctor_profile-0-license_number": profile.license_number,
        "doctor_profile-0-bio": "",
    }
    data.update({f"doctor_profile-0-{key}": value for key, value in profile_fields.items()})
    return data


def test_is_verified_on_the_doctors_page_goes_through_the_service(admin_client, admin_user):
    doctor = DoctorFactory(profile__verified=False, profile__license_number="BMDC-777")
    profile = DoctorProfile.objects.get(user=doctor)
    url = reverse("admin:accounts_user_change", args=[doctor.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="doctor_profile-0-is_verified"' in page  # an editable checkbox

    response = admin_client.post(
        url, _doctor_form(doctor, profile, is_verified="on", license_number="BMDC-778")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    profile.refresh_from_db()
    # The service's record of who and when, not a bare flag; the other field saved too.
    assert profile.is_verified and profile.verified_by == admin_user and profile.verified_at
    assert profile.license_number == "BMDC-778"
    assert "Verified" in admin_client.get(response["Location"]).content.decode()

    response = admin_client.post(url, _doctor_form(doctor, profile))  # checkbox cleared
    assert response.status_code == 302
    profile.refresh_from_db()
    # Revoked; who verified last stays, and both events are in the history.
    assert not profile.is_verified and profile.verified_by == admin_user
    assert list(doctor.verification_events.values_list("verified", flat=True)) == [True, False]


def test_the_users_list_shows_the_licence_number(admin_client):
    DoctorFactory(profile__license_number="BMDC-4242")
    page = admin_client.get(CHANGELIST).content.decode()
    assert "column-licence_number" in page and "BMDC-4242" in page


def test_the_admin_has_the_products_name_and_no_token_tables(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Doctors Portal administration" in page and "Django administration" not in page
    assert "Times in clinic time" in page and "Asia/Dhaka" in page
    for hidden in ("token_blacklist", "/admin/auth/group/", "accessfailurelog"):
        assert hidden not in page
    # Unlocking an account is deleting its axes access attempts: those stay.
    assert "/admin/axes/accessattempt/" in page
    assert admin_client.get("/admin/token_blacklist/outstandingtoken/").status_code == 404
