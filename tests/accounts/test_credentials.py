"""Doctor credentials: the one definition of a bookable doctor, licence expiry without a
job, the doctor told why, licence edits sent back to verification, the admin's own
verification page and the awaiting-verification list, and their audit entries."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts import credentials
from accounts.models import DoctorProfile, Role, User, VerificationEvent
from tests.accounts.helpers import assert_error
from tests.conftest import bearer_client
from tests.factories import DoctorFactory, PatientFactory, ServiceFactory, SlotFactory
from tests.test_audit import changes_of, trail

pytestmark = pytest.mark.django_db

CLINIC = ZoneInfo(settings.CLINIC_TIME_ZONE)
EXPIRY = date(2030, 3, 10)


def _clinic(*args) -> datetime:
    return datetime(*args, tzinfo=CLINIC)


@pytest.mark.parametrize("active", [True, False])
@pytest.mark.parametrize("verified", [True, False])
@pytest.mark.parametrize("expires_on", [None, EXPIRY - timedelta(days=1), EXPIRY])
def test_the_database_filter_and_the_python_rule_agree(active, verified, expires_on):
    doctor = DoctorFactory(is_active=active, profile__verified=verified)
    DoctorProfile.objects.filter(user=doctor).update(license_expires_on=expires_on)
    in_db = User.objects.filter(credentials.bookable_doctor_q(today=EXPIRY), pk=doctor.pk).exists()
    doctor = User.objects.select_related("doctor_profile").get(pk=doctor.pk)
    assert credentials.user_bookable(doctor, today=EXPIRY) is in_db
    assert in_db is (active and verified and expires_on != EXPIRY - timedelta(days=1))


def _world():
    service = ServiceFactory(name="Licence Care")
    doctor = DoctorFactory(profile__specialty=service)
    DoctorProfile.objects.filter(user=doctor).update(license_expires_on=EXPIRY)
    start = _clinic(2030, 3, 12, 10)
    slot = SlotFactory(doctor=doctor, service=service, start=start, end=start + timedelta(hours=1))
    return doctor, slot


def _offered(client, slot) -> bool:
    day = client.get("/api/v1/appointmentOptions", {"date": "2030-03-12"}).json()["data"]
    upcoming = client.get("/api/v1/appointmentOptions").json()["data"]
    ids = [{s["id"] for item in answer for s in item["slots"]} for answer in (day, upcoming)]
    assert ids[0] == ids[1] or slot.pk not in ids[0] ^ ids[1]
    return slot.pk in ids[0] and slot.pk in ids[1]


def _listed(client, doctor) -> bool:
    data = client.get(f"/api/v1/slot/{doctor.email}").json()["data"]
    return bool(data["docSlot"])


def test_slots_are_bookable_through_the_last_day_and_not_after_with_no_job():
    doctor, slot = _world()
    anonymous = Client()
    # The last valid day, a minute before the clinic's midnight: offered everywhere.
    with time_machine.travel(_clinic(2030, 3, 10, 23, 59, 30), tick=False):
        assert _offered(anonymous, slot) and _listed(anonymous, doctor)
    # 40 s later, past midnight: gone at once (a cached answer included), no task run.
    with time_machine.travel(_clinic(2030, 3, 11, 0, 0, 10), tick=False):
        assert not _offered(anonymous, slot) and not _listed(anonymous, doctor)
        patient = PatientFactory()
        response = bearer_client(patient).post(
            "/api/v1/bookings", {"slotId": slot.pk}, format="json"
        )
        assert_error(response, 404)
        assert not patient.bookings.exists()
        # The doctor is told why, in the API and on their dashboard.
        me = bearer_client(doctor).get(f"/api/v1/users/{doctor.pk}").json()["data"]
        assert me["bookable"] is False
        assert [r["code"] for r in me["notBookableReasons"]] == ["licence_expired"]
        assert "expired on 2030-03-10" in me["notBookableReasons"][0]["message"]
        session = Client()
        session.force_login(doctor)
        page = session.get("/doctor/").content.decode()
        assert 'id="licence-notice"' in page and "expired on 2030-03-10" in page
    # The day before the expiry a booking goes through.
    with time_machine.travel(_clinic(2030, 3, 9, 12), tick=False):
        patient = PatientFactory()
        response = bearer_client(patient).post(
            "/api/v1/bookings", {"slotId": slot.pk}, format="json"
        )
        assert response.status_code == 201, response.content


def test_others_do_not_see_bookability(doctor, client_for, admin_user):
    assert (
        "bookable"
        not in client_for(admin_user).get("/api/v1/users?userType=Doctor").json()["data"][0]
    )
    shown = client_for(admin_user).get(f"/api/v1/users/{doctor.pk}").json()["data"]
    assert shown["bookable"] is True and shown["notBookableReasons"] == []


def test_a_verified_doctor_changing_their_licence_awaits_verification_again(doctor, client_for):
    response = client_for(doctor).patch(
        f"/api/v1/users/{doctor.pk}", {"licenseExpiresOn": "2040-01-01"}, format="json"
    )
    data = response.json()["data"]
    assert data["isVerified"] is False and data["bookable"] is False
    assert [r["code"] for r in data["notBookableReasons"]] == ["unverified"]
    last = data["verificationHistory"][-1]
    assert last["verified"] is False and last["by"]["id"] == doctor.pk
    assert "changed their licence" in last["reason"]
    assert DoctorProfile.objects.get(user=doctor).license_revision == 1


def test_other_edits_and_unchanged_licences_keep_the_verification(doctor, client_for):
    profile = DoctorProfile.objects.get(user=doctor)
    client = client_for(doctor)
    client.patch(f"/api/v1/users/{doctor.pk}", {"bio": "Hello", "phone": "+1 555"}, format="json")
    client.patch(
        f"/api/v1/users/{doctor.pk}", {"licenseNumber": profile.license_number}, format="json"
    )
    profile.refresh_from_db()
    assert profile.is_verified and profile.license_revision == 0
    assert not VerificationEvent.objects.filter(doctor=doctor).exists()


def test_an_admin_editing_the_licence_keeps_the_verification(doctor, admin_user, client_for):
    response = client_for(admin_user).patch(
        f"/api/v1/users/{doctor.pk}",
        {"licenseAuthority": "General Medical Council", "licenseExpiresOn": "2035-12-31"},
        format="json",
    )
    data = response.json()["data"]
    assert data["isVerified"] is True and data["licenseAuthority"] == "General Medical Council"


def test_licence_fields_are_refused_for_patients_and_bad_dates(patient, doctor, client_for):
    response = client_for(patient).patch(
        f"/api/v1/users/{patient.pk}", {"licenseAuthority": "X"}, format="json"
    )
    assert_error(response, 400)
    response = client_for(doctor).patch(
        f"/api/v1/users/{doctor.pk}", {"licenseExpiresOn": "31/12/2030"}, format="json"
    )
    assert_error(response, 400)
    assert response.json()["errorMessages"][0]["path"] == "licenseExpiresOn"


def test_licence_edits_are_in_the_audit_trail(doctor, client_for, admin_user):
    client_for(doctor).patch(
        f"/api/v1/users/{doctor.pk}",
        {"licenseNumber": "NEW-778", "licenseExpiresOn": "2032-01-31"},
        format="json",
    )
    entries = trail(client_for(admin_user), "user", doctor.pk)
    ((revision, actor),) = changes_of(entries, "license_revision")
    assert revision == {"from": "0", "to": "1"} and actor["id"] == doctor.pk
    ((expiry, _),) = changes_of(entries, "license_expires_on")
    assert expiry["to"] == "2032-01-31"
    ((verified, _),) = changes_of(entries, "is_verified")
    assert verified == {"from": "True", "to": "False"}
    # The number itself is not kept in the trail (kept forever; erasure cannot reach it).
    assert "NEW-778" not in str(entries)


# ---------------------------------------------------------------- the admin's pages


def _admin_session(admin_user) -> Client:
    session = Client()
    session.force_login(admin_user)
    return session


def test_verify_from_the_doctors_own_admin_page_with_a_reason(admin_user, client_for):
    doctor = DoctorFactory(profile__verified=False)
    session = _admin_session(admin_user)
    change = session.get(reverse("admin:accounts_user_change", args=[doctor.pk]))
    url = reverse("admin:accounts_user_verification", args=[doctor.pk])
    assert url in change.content.decode()
    assert session.get(url).status_code == 200
    response = session.post(url, {"verified": "1", "reason": "Checked on the BMDC register"})
    assert response.status_code == 302
    event = VerificationEvent.objects.get(doctor=doctor)
    assert (event.verified, event.by, event.reason) == (
        True,
        admin_user,
        "Checked on the BMDC register",
    )
    assert DoctorProfile.objects.get(user=doctor).is_verified
    ((change_, actor),) = changes_of(
        trail(client_for(admin_user), "user", doctor.pk), "is_verified"
    )
    assert change_ == {"from": "False", "to": "True"} and actor["id"] == admin_user.pk
    # Revoking, from the same page, needs a reason too.
    assert session.post(url, {"verified": "0", "reason": ""}).status_code == 200
    assert VerificationEvent.objects.filter(doctor=doctor).count() == 1
    session.post(url, {"verified": "0", "reason": "Licence suspended"})
    assert not DoctorProfile.objects.get(user=doctor).is_verified


def test_the_verification_page_is_for_admins_and_doctors_only(admin_user, patient, doctor):
    url = reverse("admin:accounts_user_verification", args=[patient.pk])
    assert _admin_session(admin_user).get(url).status_code == 404
    url = reverse("admin:accounts_user_verification", args=[doctor.pk])
    assert Client().get(url).status_code == 302  # to the admin's sign-in
    other = Client()
    other.force_login(doctor)
    assert other.get(url).status_code == 302
    assert other.post(url, {"verified": "0", "reason": "x"}).status_code == 302
    assert DoctorProfile.objects.get(user=doctor).is_verified


def test_the_awaiting_verification_list(admin_user, client_for, django_assert_max_num_queries):
    pending = DoctorFactory(profile__verified=False)
    verified = DoctorFactory()
    PatientFactory()
    page = _admin_session(admin_user).get(
        reverse("admin:accounts_user_changelist"), {"verification": "pending"}
    )
    assert page.status_code == 200
    listed = [u.pk for u in page.context["cl"].result_list]
    assert listed == [pending.pk]
    admin = client_for(admin_user)
    with django_assert_max_num_queries(4):
        response = admin.get("/api/v1/users", {"verification": "pending"})
    assert [u["id"] for u in response.json()["data"]] == [pending.pk]
    assert response.json()["meta"]["total"] == 1
    response = admin.get("/api/v1/users", {"userType": "doctor", "verification": "verified"})
    assert [u["id"] for u in response.json()["data"]] == [verified.pk]
    assert_error(admin.get("/api/v1/users", {"verification": "maybe"}), 400)
    # Only doctors are verified: another role with the filter lists nobody.
    patients_pending = {"userType": "Patient", "verification": "pending"}
    assert admin.get("/api/v1/users", patients_pending).json()["data"] == []
    assert_error(client_for(pending).get("/api/v1/users", {"verification": "pending"}), 403)


def _admin_inline_post(admin_user, doctor, expires_on: str):
    """The doctor's admin page saved with a new licence (number ADM-1, this expiry)."""
    profile = DoctorProfile.objects.get(user=doctor)
    session = _admin_session(admin_user)
    url = reverse("admin:accounts_user_change", args=[doctor.pk])
    form = session.get(url).context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(
        {
            "doctor_profile-TOTAL_FORMS": "1",
            "doctor_profile-INITIAL_FORMS": "1",
            "doctor_profile-MIN_NUM_FORMS": "0",
            "doctor_profile-MAX_NUM_FORMS": "1",
            "doctor_profile-0-id": str(profile.pk),
            "doctor_profile-0-user": str(doctor.pk),
            "doctor_profile-0-license_number": "ADM-1",
            "doctor_profile-0-license_authority": "Council",
            "doctor_profile-0-license_expires_on": expires_on,
            "doctor_profile-0-bio": "",
        }
    )
    return session.post(url, data)


def test_the_admin_inline_counts_a_licence_edit_as_a_revision(admin_user):
    doctor = DoctorFactory(profile__verified=False)
    assert doctor.role == Role.DOCTOR
    profile = DoctorProfile.objects.get(user=doctor)
    response = _admin_inline_post(admin_user, doctor, "2033-05-01")
    assert response.status_code == 302, response.content.decode()[:3000]
    profile.refresh_from_db()
    assert (profile.license_number, profile.license_revision) == ("ADM-1", 1)
    assert profile.license_expires_on == date(2033, 5, 1)


# ---------------------------------------------------------------- sane licence dates


ABSURD_EXPIRIES = ["0001-01-01", "1899-12-31", "9999-12-31"]


@pytest.mark.parametrize("expires_on", ABSURD_EXPIRIES)
def test_the_admin_refuses_an_absurd_licence_expiry(admin_user, expires_on):
    """A licence ends neither before LICENCE_EARLIEST_EXPIRY nor more than
    LICENCE_MAX_YEARS_AHEAD years from today: the model's validators, so the admin's form
    says so and stores nothing."""
    doctor = DoctorFactory(profile__verified=False)
    response = _admin_inline_post(admin_user, doctor, expires_on)
    assert response.status_code == 200  # the form again, with the error
    assert "license_expires_on" in response.context["inline_admin_formsets"][0].formset.errors[0]
    profile = DoctorProfile.objects.get(user=doctor)
    assert (profile.license_expires_on, profile.license_number) == (None, "BMDC-12345")


def test_the_admin_takes_an_expiry_at_either_end_of_the_range(admin_user):
    from accounts.models import LICENCE_EARLIEST_EXPIRY, latest_licence_expiry

    doctor = DoctorFactory(profile__verified=False)
    for day in (LICENCE_EARLIEST_EXPIRY, latest_licence_expiry()):
        response = _admin_inline_post(admin_user, doctor, day.isoformat())
        assert response.status_code == 302, response.content.decode()[:2000]
        assert DoctorProfile.objects.get(user=doctor).license_expires_on == day


@pytest.mark.parametrize("expires_on", ABSURD_EXPIRIES)
def test_the_api_and_the_profile_page_refuse_an_absurd_licence_expiry(
    doctor, client_for, expires_on
):
    response = client_for(doctor).patch(
        f"/api/v1/users/{doctor.pk}", {"licenseExpiresOn": expires_on}, format="json"
    )
    body = assert_error(response, 400, "Validation Error")
    assert [e["path"] for e in body["errorMessages"]] == ["licenseExpiresOn"]
    session = Client()
    session.force_login(doctor)
    page = session.post("/profile/", {"name": doctor.name, "license_expires_on": expires_on})
    assert page.status_code == 400
    assert "license_expires_on" in page.context["form"].errors
    assert DoctorProfile.objects.get(user=doctor).license_expires_on is None


# ---------------------------------------------------------------- ?verification=expired


def test_the_api_lists_doctors_whose_licence_expired_as_the_admin_filter(admin_user, client_for):
    """?verification=expired: live doctors whose licence's last day is before the clinic's
    today (the admin's "Licence expired" filter, one definition), verified or not."""
    today = credentials.clinic_today()
    lapsed = DoctorFactory()
    lapsed_unverified = DoctorFactory(profile__verified=False)
    last_day_today = DoctorFactory()
    DoctorFactory()  # no expiry recorded
    gone = DoctorFactory(is_active=False)
    DoctorProfile.objects.filter(user__in=[lapsed, lapsed_unverified, gone]).update(
        license_expires_on=today - timedelta(days=1)
    )
    DoctorProfile.objects.filter(user=last_day_today).update(license_expires_on=today)
    expected = sorted([lapsed.pk, lapsed_unverified.pk])
    response = client_for(admin_user).get("/api/v1/users", {"verification": "expired"})
    assert response.status_code == 200, response.content
    assert sorted(u["id"] for u in response.json()["data"]) == expected
    assert response.json()["meta"]["total"] == 2
    page = _admin_session(admin_user).get(
        reverse("admin:accounts_user_changelist"), {"verification": "expired"}
    )
    assert sorted(u.pk for u in page.context["cl"].result_list) == expected


def test_an_unknown_verification_state_is_400_listing_the_accepted_ones(admin_user, client_for):
    response = client_for(admin_user).get("/api/v1/users", {"verification": "lapsed"})
    body = assert_error(response, 400, "Validation Error")
    assert body["errorMessages"] == [
        {"path": "verification", "message": "Must be one of pending, verified, expired."}
    ]
