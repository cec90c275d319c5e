"""Editing one's profile with a photo, and a doctor adding licence details, in a real
browser at phone width (390x844). With E2E_DOC_SCREENSHOTS=1 the screenshots are also
written to docs/screenshots/15-*.png."""

import os
from datetime import timedelta
from pathlib import Path

import pytest

from accounts.credentials import clinic_today
from accounts.models import DoctorProfile, User
from tests.accounts.upload_helpers import image_bytes, pdf_bytes
from tests.e2e.helpers import sign_in
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db(transaction=True)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _doc_shot(shot, page, name: str) -> None:
    shot(page, name)
    if os.environ.get("E2E_DOC_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"15-{name}.png"), full_page=True)


def _fits(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")


def test_a_patient_edits_their_profile_with_a_photo_on_a_phone(new_page, shot, tmp_path):
    patient = PatientFactory(name="Amina Rahman")
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(image_bytes(size=(2000, 1500), color=(40, 120, 200)))
    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.get_by_role("link", name="Profile").click()
    page.wait_for_url("**/profile/")
    page.get_by_label("Full name").fill("Amina R. Chowdhury")
    page.get_by_label("Phone").fill("+880 1711 123456")
    page.get_by_label("Photo").set_input_files(str(photo))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your profile is saved.").wait_for()
    image = page.locator("#profile-photo")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('#profile-photo').naturalWidth === 512")
    assert _fits(page)
    _doc_shot(shot, page, "profile-photo-phone")
    patient = User.objects.get(pk=patient.pk)
    assert (patient.name, patient.phone) == ("Amina R. Chowdhury", "+880 1711 123456")
    assert patient.photo.name.endswith(".jpg")
    assert page.errors == []


def test_a_bad_photo_is_explained_beside_the_field(new_page, shot, tmp_path):
    patient = PatientFactory()
    fake = tmp_path / "not-really.png"
    fake.write_bytes(b"MZ this is a program, not a picture" * 50)
    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.goto("/profile/")
    page.get_by_label("Photo").set_input_files(str(fake))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("A photo must be a JPEG, PNG or WebP image.").wait_for()
    assert _fits(page)
    _doc_shot(shot, page, "profile-bad-photo-phone")
    assert not User.objects.get(pk=patient.pk).photo


def test_a_doctor_adds_licence_details_on_a_phone(new_page, shot, tmp_path):
    ServiceFactory(name="Dermatology")
    doctor = DoctorFactory(name="Farhan Kabir", profile__verified=False)
    scan = tmp_path / "licence.pdf"
    scan.write_bytes(pdf_bytes())
    page = new_page(phone=True)
    sign_in(page, doctor.email)
    page.goto("/profile/")
    page.locator("#notice-unverified").wait_for()
    page.get_by_label("Specialty").select_option(label="Dermatology")
    page.get_by_label("About you").fill("Skin, hair and nails; ten years in Dhaka.")
    page.get_by_label("Licence number").fill("BMDC-A-70411")
    page.get_by_label("Issued by").fill("Bangladesh Medical and Dental Council")
    page.get_by_label("Valid until").fill("2031-12-31")
    page.get_by_label("Licence document").set_input_files(str(scan))
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your profile is saved.").wait_for()
    page.locator("#licence-document-current").wait_for()
    assert _fits(page)
    _doc_shot(shot, page, "doctor-licence-phone")
    profile = DoctorProfile.objects.get(user=doctor)
    assert profile.license_number == "BMDC-A-70411"
    assert str(profile.license_expires_on) == "2031-12-31"
    assert profile.license_document.name.endswith(".pdf")
    assert page.errors == []


def test_a_doctor_whose_licence_expired_is_told_on_the_dashboard(new_page, shot):
    doctor = DoctorFactory(name="Nadia Islam")
    DoctorProfile.objects.filter(user=doctor).update(
        license_expires_on=clinic_today() - timedelta(days=1)
    )
    page = new_page(phone=True)
    sign_in(page, doctor.email)
    page.goto("/doctor/")
    notice = page.locator("#licence-notice")
    notice.wait_for()
    assert "Patients cannot book you" in notice.inner_text()
    assert _fits(page)
    _doc_shot(shot, page, "doctor-licence-expired-phone")
