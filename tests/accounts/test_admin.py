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
