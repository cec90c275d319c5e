from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import DoctorProfile, Role, User
from doctors_portal.management.commands.seed_demo import DEMO_PASSWORD
from scheduling.models import Service

pytestmark = pytest.mark.django_db

REFERENCE_SERVICES = {
    "Teeth Orthodontics",
    "Cosmetic Dentistry",
    "Teeth Cleaning",
    "Cavity Protection",
    "Pediatric Dental",
    "Oral Surgery",
}


def snapshot():
    return (
        list(User.objects.order_by("pk").values()),
        list(DoctorProfile.objects.order_by("pk").values()),
        list(Service.objects.order_by("pk").values()),
    )


def test_seed_demo_creates_the_demo_world_and_is_idempotent():
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert set(Service.objects.values_list("name", flat=True)) == REFERENCE_SERVICES
    assert all(isinstance(s.price, Decimal) and s.price > 0 for s in Service.objects.all())
    assert User.objects.filter(role=Role.ADMIN).count() == 1
    assert User.objects.filter(role=Role.PATIENT).count() == 2
    profiles = DoctorProfile.objects.select_related("user")
    assert sorted(p.is_verified for p in profiles) == [False, True, True]
    admin = User.objects.get(role=Role.ADMIN)
    assert all(p.verified_by == admin for p in profiles if p.is_verified)
    assert all(u.check_password(DEMO_PASSWORD) for u in User.objects.all())
    printed = out.getvalue()
    for user in User.objects.all():
        assert user.email in printed
    assert DEMO_PASSWORD in printed

    before = snapshot()
    call_command("seed_demo", stdout=StringIO())
    assert snapshot() == before
