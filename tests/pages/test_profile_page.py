"""/profile/: one's own name, phone and photo; a doctor's practice and licence. The same
service as PATCH users/:id, so the same checks (a bad file: 400, nothing stored)."""

import pytest
from django.test import Client

from accounts.models import DoctorProfile, User, VerificationEvent
from tests.accounts.upload_helpers import bad_files, image_bytes, pdf_bytes, stored_files, upload
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def _session(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_sign_in():
    response = Client().get("/profile/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_patient_edits_name_phone_and_photo(media_root):
    patient = PatientFactory()
    client = _session(patient)
    page = client.get("/profile/")
    assert page.status_code == 200 and b"licence" not in page.content.lower()
    response = client.post(
        "/profile/",
        {
            "name": "New Name",
            "phone": "+880 1711 000000",
            "photo": upload("me.jpg", image_bytes(), "image/jpeg"),
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.name, patient.phone) == ("New Name", "+880 1711 000000")
    assert stored_files(media_root) == [patient.photo.name]
    page = client.get("/profile/").content.decode()
    assert f"/api/v1/users/{patient.pk}/photo?v=" in page
    # The page's <img> loads with the session.
    src = page.split('id="profile-photo"')[0].rsplit('src="', 1)[1].split('"')[0]
    assert client.get(src.replace("&amp;", "&")).status_code == 200


@pytest.mark.parametrize("case", ["text renamed .png", "image bomb", "zero bytes"])
def test_a_bad_photo_is_a_400_beside_the_field_and_nothing_changes(case, media_root):
    patient = PatientFactory(name="Kept Name")
    name, data, content_type = bad_files()[case]
    response = _session(patient).post(
        "/profile/", {"name": "Other", "phone": "", "photo": upload(name, data, content_type)}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["photo"]
    assert User.objects.get(pk=patient.pk).name == "Kept Name"
    assert stored_files(media_root) == []


def test_a_doctor_adds_their_licence_and_is_told_it_awaits_verification(media_root):
    service = ServiceFactory(name="Cardiology")
    doctor = DoctorFactory(profile__verified=False)
    client = _session(doctor)
    page = client.get("/profile/").content.decode()
    assert 'id="notice-unverified"' in page
    response = client.post(
        "/profile/",
        {
            "name": doctor.name,
            "phone": doctor.phone,
            "specialty": service.pk,
            "bio": "Twenty years of hearts.",
            "license_number": "BMDC-778899",
            "license_authority": "Bangladesh Medical and Dental Council",
            "license_expires_on": "2031-12-31",
            "license_document": upload("licence.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile = DoctorProfile.objects.get(user=doctor)
    assert profile.specialty == service and profile.license_number == "BMDC-778899"
    assert str(profile.license_expires_on) == "2031-12-31"
    assert stored_files(media_root) == [profile.license_document.name]
    page = client.get("/profile/").content.decode()
    assert 'id="licence-document-current"' in page
    assert client.get(f"/api/v1/users/{doctor.pk}/licence-document").status_code == 200


def test_a_verified_doctor_editing_the_licence_on_the_page_goes_back_to_verification():
    doctor = DoctorFactory()
    client = _session(doctor)
    client.post(
        "/profile/",
        {"name": doctor.name, "phone": doctor.phone, "license_number": "CHANGED-1"},
    )
    assert not DoctorProfile.objects.get(user=doctor).is_verified
    assert VerificationEvent.objects.get(doctor=doctor).by == doctor
    assert 'id="notice-unverified"' in client.get("/profile/").content.decode()


def test_the_profile_page_counts_in_the_apis_profile_throttle(monkeypatch):
    """The page's POST and PATCH users are one bucket (as the booking page and POST
    bookings): the page cannot be used to go round the API's rate."""
    from rest_framework.test import APIClient
    from rest_framework.throttling import SimpleRateThrottle

    from accounts.services import token_pair_for

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "profile", "2/min")
    patient = PatientFactory()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(patient)['accessToken']}")
    assert (
        api.patch(f"/api/v1/users/{patient.pk}", {"name": "One"}, format="json").status_code == 200
    )
    client = _session(patient)
    assert client.post("/profile/", {"name": "Two", "phone": ""}).status_code == 302
    refused = client.post("/profile/", {"name": "Three", "phone": ""})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    patient.refresh_from_db()
    assert patient.name == "Two"
