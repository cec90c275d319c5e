"""Continue with Firebase, against the real Firebase Auth emulator."""

import re

import pytest

from accounts.models import Role, User

pytestmark = pytest.mark.django_db(transaction=True)


def test_continue_with_firebase_registers_and_signs_in(firebase_emulator, settings, new_page, shot):
    settings.FIREBASE_WEB_API_KEY = "fake-api-key"
    uid, _token = firebase_emulator.sign_up("farida@example.com", "emulator-pass-1")

    page = new_page(phone=True)
    page.goto("/login/")
    page.get_by_label("Firebase email").fill("farida@example.com")
    page.get_by_label("Firebase password").fill("emulator-pass-1")
    shot(page, "firebase-sign-in")
    page.get_by_role("button", name="Continue with Firebase").click()
    page.wait_for_url(re.compile(r"^(?!.*/login/)"))
    assert "Sign out" in page.inner_text("header"), page.inner_text("main")

    user = User.objects.get(email="farida@example.com")
    assert (user.firebase_uid, user.role) == (uid, Role.PATIENT)
    assert page.errors == []


def test_a_wrong_firebase_password_is_said_beside_the_form(firebase_emulator, settings, new_page):
    settings.FIREBASE_WEB_API_KEY = "fake-api-key"
    firebase_emulator.sign_up("omar@example.com", "emulator-pass-1")
    page = new_page()
    page.goto("/login/")
    page.get_by_label("Firebase email").fill("omar@example.com")
    page.get_by_label("Firebase password").fill("not-the-password")
    page.get_by_role("button", name="Continue with Firebase").click()
    # A selector, not wait_for_function: the page's CSP forbids the eval that one polls with.
    page.wait_for_selector("#firebase-error:not(:empty)")
    assert "firebase" in page.inner_text("#firebase-error").lower()
    assert not User.objects.filter(email="omar@example.com").exists()
