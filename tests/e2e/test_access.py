"""Usable by anyone: keyboard only, phone width, no horizontal scrolling; and Firebase."""

import re

import pytest

from scheduling import timefmt
from tests.e2e.helpers import VISA, sign_in
from tests.e2e.test_journeys import assert_no_errors, future_slot
from tests.factories import DoctorFactory, PatientFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("stripe_pages")]


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until `selector` has the focus, as someone without a mouse would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} is not reachable with the Tab key")


def test_booking_and_paying_with_the_keyboard_only_on_a_phone(new_page, shot):
    slot = future_slot(DoctorFactory(name="Dr. Keya Das"), days=2, hour=16)
    patient = PatientFactory()
    page = new_page(phone=True)
    sign_in(page, patient.email)
    page.goto(f"/?date={timefmt.clinic_today(slot.start).isoformat()}")
    assert fits_the_screen(page)

    tab_to(page, f'a.slot[data-slot-id="{slot.pk}"]')
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/book/{slot.pk}/")
    assert fits_the_screen(page)
    tab_to(page, "#book-button")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/appointments/\d+/pay/$"))
    page.locator("#card-element input").first.wait_for()
    assert fits_the_screen(page)

    tab_to(page, "#card-element input")
    # The Card Element moves the focus on by itself as each part is complete.
    for value in (VISA, "12", "34", "123", "1207"):
        page.keyboard.type(value)
    shot(page, "keyboard-card-entered")
    tab_to(page, "#pay-button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/appointments/")
    assert page.locator("li.appointment").first.get_attribute("data-status") == "confirmed"
    assert fits_the_screen(page)
    shot(page, "keyboard-confirmed")
    assert_no_errors(page)


def test_every_page_fits_a_phone_screen(new_page):
    doctor = DoctorFactory()
    slot = future_slot(doctor, days=2)
    page = new_page(phone=True)
    pages = ["/", "/login/", "/signup/", f"/services/{slot.service_id}/", "/doctors/"]
    pages.append(f"/doctors/{doctor.pk}/")
    for url in pages:
        page.goto(url)
        assert fits_the_screen(page), url
    sign_in(page, doctor.email)
    page.goto("/doctor/")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 8)"""
    )
    assert fits_the_screen(page), wide
