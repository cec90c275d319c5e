"""Holds, as scheduling needs them: a slot's free seats count the lapsed holds (and lapsed
waitlist offers) on it, its cached availability ends when a hold lapses, changing a slot
first gives the seats of lapsed holds back, and withdrawing it closes its waitlist. Holds
are bookings' rows, and bookings builds on scheduling, so scheduling names what it needs
here and bookings registers the answers from its AppConfig.ready (bookings.seats.HOLDS):
scheduling imports no bookings module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet


@dataclass(frozen=True)
class Holds:
    lapsed: Callable[..., QuerySet]  # (*, now): unpaid holds whose time ran out
    running: Callable[..., QuerySet]  # (*, now): unpaid holds whose time still runs
    confirmed: Callable[[], QuerySet]  # paid bookings holding a seat
    # (*, slot, now) -> int, under the slot's lock: lapsed holds expired, seats given back.
    release_lapsed: Callable[..., int]
    # (*, slot, now): waitlist offers of `slot` (a Slot or an OuterRef) whose claim time ran
    # out; each still counts one seat in seats_taken until release_lapsed gives it back.
    lapsed_offers: Callable[..., QuerySet]
    # (*, slots, now) -> int, under the slots' locks when they are withdrawn: their
    # waitlists close and standing offers of them give their seats back (an offer holds no
    # booking, so it never keeps a slot from being withdrawn).
    slots_withdrawn: Callable[..., int]


_registered: list[Holds] = []


def holds_register(holds: Holds) -> None:
    _registered[:] = [holds]


def holds() -> Holds:
    if not _registered:
        raise ImproperlyConfigured("No holds registered: is the bookings app installed?")
    return _registered[0]
