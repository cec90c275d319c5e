"""The parts of erasure and export that live in other apps, registered from their
AppConfig.ready: accounts is the lowest layer and imports none of them (the pattern
of bookings' refunder). Each app knows its own copies of a user's data. Likewise what
must follow a change of a doctor's public listing (scheduling's availability cache)."""

from __future__ import annotations

from collections.abc import Callable

# name -> fn(*, actor, user, now) -> int: run, in order, before the user row is anonymised
# (cancelling bookings, withdrawing slots); the int is reported as `name`.
ERASURE_STEPS: dict[str, Callable[..., int]] = {}
# fn(*, user): personal data copied out of the user row, cleared after it is anonymised.
COPY_ERASERS: list[Callable[..., None]] = []
# fn(*, user, now) -> dict: what erasing would do, for the confirmations.
ERASURE_PREVIEWS: list[Callable[..., dict]] = []
# fn(*, user) -> dict of export sections.
EXPORT_SECTIONS: list[Callable[..., dict]] = []
# fn(): what a doctor's listing shows (name, picture, specialty, verification, activity)
# changed; scheduling registers its availability cache's invalidation.
LISTING_CHANGED: list[Callable[[], None]] = []


def erasure_step_register(name: str, step: Callable[..., int]) -> None:
    ERASURE_STEPS[name] = step


def copy_eraser_register(eraser: Callable[..., None]) -> None:
    if eraser not in COPY_ERASERS:
        COPY_ERASERS.append(eraser)


def erasure_preview_register(preview: Callable[..., dict]) -> None:
    if preview not in ERASURE_PREVIEWS:
        ERASURE_PREVIEWS.append(preview)


def export_sections_register(sections: Callable[..., dict]) -> None:
    if sections not in EXPORT_SECTIONS:
        EXPORT_SECTIONS.append(sections)


def listing_changed_register(fn: Callable[[], None]) -> None:
    if fn not in LISTING_CHANGED:
        LISTING_CHANGED.append(fn)


def listing_changed() -> None:
    """A doctor's public listing changed: tell every app that shows it."""
    for fn in LISTING_CHANGED:
        fn()
