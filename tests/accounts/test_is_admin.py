"""One definition of administrator rights (accounts.models.is_admin): an active account
with the Admin role. Every check (permissions, selectors, the Django admin) agrees."""

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import is_admin
from accounts.permissions import is_admin as permissions_is_admin
from bookings import selectors as booking_selectors
from scheduling import selectors as slot_selectors
from tests.factories import AdminFactory, BookingFactory, DoctorFactory, PatientFactory

pytestmark = pytest.mark.django_db


def test_only_an_active_admin_is_an_admin():
    admin = AdminFactory()
    assert is_admin(admin) and admin.is_admin and admin.is_staff
    for user in (PatientFactory(), DoctorFactory(), AnonymousUser(), None):
        assert not is_admin(user)
    admin.is_active = False
    assert not is_admin(admin)
    assert not admin.is_admin and not admin.is_staff
    assert permissions_is_admin is is_admin  # the same function, not a second spelling


def test_an_inactive_admin_has_no_admin_reach_anywhere():
    booking = BookingFactory()
    admin = AdminFactory()
    assert booking_selectors.booking_get(user=admin, booking_id=booking.pk) is not None
    assert slot_selectors.doctor_slots_private(doctor=booking.doctor, viewer=admin) is not None
    admin.is_active = False  # deactivated, with a session or token still in flight
    assert booking_selectors.booking_get(user=admin, booking_id=booking.pk) is None
    assert slot_selectors.doctor_slots_private(doctor=booking.doctor, viewer=admin) is None
    assert not admin.has_perm("scheduling.change_slot")
