"""Holds, as scheduling needs them: a slot's free seats count the lapsed holds on it, its
cached availability ends when a hold lapses, and changing a slot first gives the seats of
lapsed holds back. Holds are bookings' rows, and bookings builds on scheduling, so
scheduling names what it needs here and bookings registers the answers from its
AppConfig.ready (bookings.seats.HOLDS): scheduling imports no bookings module.
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


_registered: list[Holds] = []


def holds_register(holds: Holds) -> None:
    _registered[:] = [holds]


def holds() -> Holds:
    if not _registered:
        raise ImproperlyConfigured("No holds registered: is the bookings app installed?")
    return _registered[0]
