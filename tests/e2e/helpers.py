"""Steps the journeys share: what a person does in the browser, nothing more."""

import re

from scheduling import timefmt
from tests.factories import TEST_PASSWORD

VISA = "4242424242424242"
# Stripe's test card that is accepted when entered but declined when charged.
DECLINED = "4000000000000341"


def sign_in(page, email: str, password: str = TEST_PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^(?!.*/login/)"))


def show_day(page, day) -> None:
    page.goto("/")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_role("button", name="Show free places").click()
    page.wait_for_url(f"**/?date={day.isoformat()}")


def slot_link(page, slot):
    return page.locator(f'a.slot[data-slot-id="{slot.pk}"]')


def label_of(slot) -> str:
    return timefmt.format_label(slot.start, slot.end)


def enter_card(page, number: str) -> None:
    """Type a card into the Card Element (the stand-in's plain inputs, same element API)."""
    card = page.locator("#card-element")
    card.locator("input").first.wait_for()
    card.get_by_label("Card number", exact=True).fill(number)
    card.get_by_label("Card exp month", exact=True).fill("12")
    card.get_by_label("Card exp year", exact=True).fill("34")
    card.get_by_label("Card cvc", exact=True).fill("123")
    card.get_by_label("Card postal code", exact=True).fill("1207")


def pay(page, number: str) -> None:
    enter_card(page, number)
    page.locator("#pay-button").click()
