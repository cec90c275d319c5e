"""Erasure cannot be blocked: anonymised addresses are unguessable and at `.invalid`,
which sign-up refuses, so no registration can make a deletion collide."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.helpers import assert_error, error_paths
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PASSWORD = "plum-orbit-cascade-91"


def sign_up(email: str):
    return APIClient().post(
        "/api/v1/users",
        {"name": "Squatter", "email": email, "role": "Patient", "password": PASSWORD},
    )


def test_the_predictable_deleted_address_cannot_be_registered_and_deletion_works(
    admin_user, client_for
):
    victim = PatientFactory()
    # Today's anonymised address is predictable from the sequential id.
    squat = sign_up(f"deleted-{victim.pk}@deleted.invalid")
    assert_error(squat, 400, "Validation Error")
    assert error_paths(squat) == {"email"}
    assert not User.objects.filter(email__iendswith=".invalid").exists()

    response = client_for(admin_user).delete(f"/api/v1/users/{victim.pk}")
    assert response.status_code == 200, response.content
    victim.refresh_from_db()
    assert not victim.is_active and victim.deleted_at is not None


def test_a_deletion_never_collides_even_with_a_row_already_at_the_old_address(
    admin_user, client_for
):
    victim = PatientFactory()
    # A row written before the rule (or by hand) at the old, guessable address.
    PatientFactory(email=f"deleted-{victim.pk}@deleted.invalid")
    response = client_for(admin_user).delete(f"/api/v1/users/{victim.pk}")
    assert response.status_code == 200, response.content
    victim.refresh_from_db()
    assert not victim.is_active


def test_anonymised_address_is_at_invalid_with_an_unguessable_part(admin_user, client_for):
    first, second = PatientFactory(), PatientFactory()
    for user in (first, second):
        assert client_for(admin_user).delete(f"/api/v1/users/{user.pk}").status_code == 200
        user.refresh_from_db()
    pattern = re.compile(r"^deleted-[0-9a-f]{32}@deleted\.invalid$")
    assert pattern.match(first.email), first.email
    assert pattern.match(second.email), second.email
    assert first.email != second.email


@pytest.mark.parametrize(
    "email",
    ["someone@deleted.invalid", "a@invalid", "A@Sub.Example.INVALID", "x@foo.invalid"],
)
def test_sign_up_refuses_every_invalid_address(email):
    response = sign_up(email)
    assert_error(response, 400, "Validation Error")
    assert error_paths(response) == {"email"}
    assert not User.objects.filter(email__iexact=email).exists()


def test_sign_up_page_refuses_invalid_addresses_too():
    response = Client().post(
        "/signup/",
        {
            "name": "Squatter",
            "email": "deleted-1@deleted.invalid",
            "role": "Patient",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert b"invalid" in response.content.lower()
    assert not User.objects.filter(email__iendswith=".invalid").exists()
