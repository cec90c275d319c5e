"""Verification and revocation are events with who, when and why, kept forever
(API.md "Doctor credentials"); `verifiedBy` is shown once verified."""

import pytest

from accounts.models import VerificationEvent
from tests.accounts.helpers import assert_error

pytestmark = pytest.mark.django_db


def test_verify_then_revoke_keeps_both_events_and_shows_who_verified(
    admin_user, unverified_doctor, client_for
):
    admin = client_for(admin_user)
    url = f"/api/v1/users/{unverified_doctor.pk}"
    verified = admin.patch(url, {"isVerified": True, "verificationReason": "Licence checked"})
    assert verified.status_code == 200, verified.json()
    data = verified.json()["data"]
    assert data["verifiedBy"] == {"id": admin_user.pk, "name": admin_user.name}
    assert data["verifiedAt"]

    revoked = admin.patch(url, {"isVerified": False, "verificationReason": "Licence lapsed"})
    history = revoked.json()["data"]["verificationHistory"]
    assert [(e["verified"], e["by"]["id"], e["reason"]) for e in history] == [
        (True, admin_user.pk, "Licence checked"),
        (False, admin_user.pk, "Licence lapsed"),
    ]
    assert all(e["at"] for e in history)
    # The doctor sees their own history; the export carries it.
    mine = client_for(unverified_doctor).get(url).json()["data"]
    assert len(mine["verificationHistory"]) == 2
    export = client_for(unverified_doctor).get(f"{url}/export").json()["data"]
    assert len(export["verificationHistory"]) == 2
    assert VerificationEvent.objects.filter(doctor=unverified_doctor).count() == 2


def test_only_admins_give_a_reason_and_only_with_a_verification(
    admin_user, unverified_doctor, client_for
):
    url = f"/api/v1/users/{unverified_doctor.pk}"
    assert_error(client_for(unverified_doctor).patch(url, {"verificationReason": "me"}), 403)
    assert_error(client_for(admin_user).patch(url, {"verificationReason": "why"}), 400)
    assert not VerificationEvent.objects.exists()


def test_other_users_never_see_a_history(doctor, patient, client_for):
    assert_error(client_for(patient).get(f"/api/v1/users/{doctor.pk}"), 404)
