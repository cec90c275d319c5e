"""Profile photos and licence documents: uploaded as multipart to PATCH users/:id (and
the /profile/ page), checked by content, stored through the default storage, served
only to whom may see them. Bad files: a clear 400 and nothing stored or changed."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from accounts.models import DoctorProfile, User
from tests.accounts.helpers import assert_error, error_paths
from tests.accounts.upload_helpers import (
    bad_files,
    image_bytes,
    pdf_bytes,
    stored_files,
    upload,
)
from tests.factories import DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def _patch(client, user, data):
    return client.patch(f"/api/v1/users/{user.pk}", data, format="multipart")


def test_a_photo_is_resized_re_encoded_and_stripped_of_metadata(patient, client_for, media_root):
    response = _patch(
        client_for(patient), patient, {"photo": upload("me.jpg", image_bytes(), "image/jpeg")}
    )
    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    assert patient.photo.name.startswith("photos/") and patient.photo.name.endswith(".jpg")
    image_url = response.json()["data"]["image"]
    assert image_url.startswith(f"/api/v1/users/{patient.pk}/photo?v=")
    with default_storage.open(patient.photo.name) as handle:
        stored = handle.read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert max(image.size) == 512 and image.size == (512, 384)
    assert not image.getexif() and b"SecretCam" not in stored and b"Copyright" not in stored
    assert stored_files(media_root) == [patient.photo.name]

    served = client_for(patient).get(image_url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == stored


def test_a_transparent_png_becomes_a_jpeg_on_white(patient, client_for):
    rgba = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = io.BytesIO()
    rgba.save(out, format="PNG")
    response = _patch(client_for(patient), patient, {"photo": upload("t.png", out.getvalue())})
    assert response.status_code == 200, response.content
    patient.refresh_from_db()
    with default_storage.open(patient.photo.name) as handle:
        image = Image.open(handle)
        assert image.format == "JPEG" and image.getpixel((5, 5)) == (255, 255, 255)


def test_a_new_photo_replaces_the_old_file_and_null_removes_it(
    patient, client_for, media_root, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    with django_capture_on_commit_callbacks(execute=True):
        _patch(client, patient, {"photo": upload("a.jpg", image_bytes(), "image/jpeg")})
    first = User.objects.get(pk=patient.pk).photo.name
    with django_capture_on_commit_callbacks(execute=True):
        _patch(client, patient, {"photo": upload("b.png", image_bytes("PNG"))})
    second = User.objects.get(pk=patient.pk).photo.name
    assert first != second and stored_files(media_root) == [second]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v1/users/{patient.pk}", {"photo": None}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["image"] == patient.image
    assert stored_files(media_root) == []


def test_who_sees_a_photo(client_for, api_client):
    doctor, patient, other = DoctorFactory(), PatientFactory(), PatientFactory()
    for user in (doctor, patient):
        _patch(client_for(user), user, {"photo": upload("p.jpg", image_bytes(), "image/jpeg")})
    # A doctor's photo is public (shown beside their name); a patient's is theirs.
    assert api_client.get(f"/api/v1/users/{doctor.pk}/photo").status_code == 200
    assert client_for(other).get(f"/api/v1/users/{doctor.pk}/photo").status_code == 200
    assert_error(api_client.get(f"/api/v1/users/{patient.pk}/photo"), 404, "Not Found")
    assert_error(client_for(other).get(f"/api/v1/users/{patient.pk}/photo"), 404, "Not Found")
    assert client_for(patient).get(f"/api/v1/users/{patient.pk}/photo").status_code == 200
    assert_error(api_client.get(f"/api/v1/users/{other.pk}/photo"), 404)  # none uploaded
    assert_error(api_client.get("/api/v1/users/not-a-number/photo"), 404)


def test_a_doctor_adds_licence_details_and_a_document(doctor, client_for, admin_user, api_client):
    unverified = DoctorFactory(profile__verified=False)
    response = _patch(
        client_for(unverified),
        unverified,
        {
            "licenseNumber": "BMDC-A-55501",
            "licenseAuthority": "Bangladesh Medical and Dental Council",
            "licenseExpiresOn": "2031-06-30",
            "licenseDocument": upload("scan.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["licenseNumber"] == "BMDC-A-55501"
    assert data["licenseAuthority"] == "Bangladesh Medical and Dental Council"
    assert data["licenseExpiresOn"] == "2031-06-30"
    url = data["licenseDocument"]
    assert url == f"/api/v1/users/{unverified.pk}/licence-document"
    for who in (unverified, admin_user):
        served = client_for(who).get(url)
        assert served.status_code == 200
        assert served["Content-Type"] == "application/pdf"
        assert served["Content-Disposition"].startswith("attachment")
        assert b"".join(served.streaming_content) == pdf_bytes()
    # Never public: anonymous is asked to sign in; another doctor or a patient: 404.
    assert_error(api_client.get(url), 401)
    for client in (client_for(doctor), client_for(PatientFactory())):
        assert_error(client.get(url), 404, "Not Found")


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_a_licence_scan_image_is_kept_as_sent(kind, doctor, client_for):
    data = image_bytes(kind.upper(), size=(300, 200))
    response = _patch(client_for(doctor), doctor, {"licenseDocument": upload(f"s.{kind}", data)})
    assert response.status_code == 200, response.content
    name = DoctorProfile.objects.get(user=doctor).license_document.name
    assert name.endswith(".jpg" if kind == "jpeg" else ".png")
    with default_storage.open(name) as handle:
        assert handle.read() == data


def _state(user):
    user = User.objects.get(pk=user.pk)
    profile = DoctorProfile.objects.filter(user=user).values().first()
    return (user.name, user.phone, user.photo.name, user.updated_at, profile)


@pytest.mark.parametrize("case", sorted(bad_files()))
@pytest.mark.parametrize("field", ["photo", "licenseDocument"])
def test_bad_uploads_are_a_clear_400_and_nothing_is_stored(case, field, client_for, media_root):
    doctor = DoctorFactory()
    before = _state(doctor)
    name, data, content_type = bad_files()[case]
    response = _patch(
        client_for(doctor),
        doctor,
        {"name": "Changed Name", "licenseNumber": "NEW-1", field: upload(name, data, content_type)},
    )
    body = assert_error(response, 400, "Validation Error")
    assert error_paths(response) == {field}, body
    message = body["errorMessages"][0]["message"]
    expected = {
        "too large": "larger than 5 MB",
        "zero bytes": "empty",
        "image bomb": "pixels",
        "truncated png": "damaged or incomplete",
        "truncated jpeg": "damaged or incomplete",
    }.get(case, "must be a")
    assert expected in message, message
    assert stored_files(media_root) == []
    assert _state(doctor) == before


def test_a_truncated_pdf_is_refused(doctor, client_for, media_root):
    response = _patch(
        client_for(doctor), doctor, {"licenseDocument": upload("c.pdf", pdf_bytes()[:-8])}
    )
    assert_error(response, 400)
    assert "damaged" in response.json()["errorMessages"][0]["message"]
    assert stored_files(media_root) == []


def test_a_later_refusal_leaves_no_uploaded_file_behind(doctor, client_for, media_root):
    # The photo is fine, the specialty is not: nothing is written, nothing stays stored.
    response = _patch(
        client_for(doctor),
        doctor,
        {"photo": upload("ok.jpg", image_bytes(), "image/jpeg"), "specialty": "No Such"},
    )
    assert_error(response, 400)
    assert stored_files(media_root) == []
    assert not User.objects.get(pk=doctor.pk).photo


def test_a_patient_cannot_send_doctor_fields_or_a_licence(patient, client_for, media_root):
    response = _patch(
        client_for(patient), patient, {"licenseDocument": upload("s.pdf", pdf_bytes())}
    )
    assert_error(response, 400)
    assert error_paths(response) == {"licenseDocument"}
    assert stored_files(media_root) == []


def test_nobody_edits_another_users_profile(patient, other_patient, doctor, client_for, api_client):
    data = {"photo": upload("p.jpg", image_bytes(), "image/jpeg")}
    assert_error(_patch(api_client, patient, data), 401)
    assert_error(_patch(client_for(other_patient), patient, data), 404)
    assert_error(_patch(client_for(doctor), patient, {"name": "X"}), 404)


def test_a_body_over_the_upload_limit_is_413(patient, client_for, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    data = {"photo": upload("p.jpg", b"\xff" * 600_000, "image/jpeg")}
    assert_error(_patch(client_for(patient), patient, data), 413)


def test_json_bodies_keep_the_one_mebibyte_limit(patient, client_for):
    big = {"name": "x" * (1024 * 1024 + 10)}
    response = client_for(patient).patch(f"/api/v1/users/{patient.pk}", big, format="json")
    assert_error(response, 413)


def test_a_picture_link_replaces_the_uploaded_photo(
    patient, client_for, media_root, django_capture_on_commit_callbacks
):
    client = client_for(patient)
    _patch(client, patient, {"photo": upload("a.jpg", image_bytes(), "image/jpeg")})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            f"/api/v1/users/{patient.pk}", {"image": "https://img.example.org/me.png"}
        )
    assert response.json()["data"]["image"] == "https://img.example.org/me.png"
    assert stored_files(media_root) == [] and not User.objects.get(pk=patient.pk).photo


def test_file_reads_take_few_queries(client_for, admin_user, django_assert_max_num_queries):
    doctor = DoctorFactory()
    _patch(
        client_for(doctor),
        doctor,
        {
            "photo": upload("p.jpg", image_bytes(), "image/jpeg"),
            "licenseDocument": upload("l.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    admin = client_for(admin_user)
    with django_assert_max_num_queries(2):  # the caller, the file's row
        assert admin.get(f"/api/v1/users/{doctor.pk}/photo").status_code == 200
    with django_assert_max_num_queries(2):
        assert admin.get(f"/api/v1/users/{doctor.pk}/licence-document").status_code == 200
