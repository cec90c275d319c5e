"""appointmentOptions' answer for a date (or for the upcoming window, without a date), kept
in the shared cache and never served stale.

It is the busiest read and the costliest (a few hundred slots, 40 kB of JSON), and it
changes only when someone writes or when time passes. A cached answer carries two guards,
both checked on every read:

- the versions it was computed under: one per clinic day it covers (the date asked, or
  every day of the upcoming window) and one for everything. Every service that changes
  what the answer shows calls `availability_changed` with the slots (or days) it changed
  (a seat taken or given back, a slot published, changed or withdrawn), which replaces
  those days' versions once at the write and again after its transaction commits, so
  every worker sees the change at once: a reader that computed from the data before the
  commit stored its answer under versions read before it computed, already gone. A write
  whose days are unknown (a doctor's name, verification or activity; the admin's edits
  of services, slots and users, ChangesAvailabilityAdmin) replaces the version of
  everything. So a booking ends the answers of its own day and of the windows covering
  it, and leaves every other day's cached. The call is explicit, not a model signal:
  signals miss bulk writes (bulk_create, QuerySet.update).
- the instant it stops being true by itself: when the first listed slot starts, when
  the next hold on that date lapses (its seat comes back), for the upcoming window when
  the next slot beyond its end comes within the horizon, and MAX_AGE at the latest.

A write made outside the services announces itself with availability_changed, or shows
after MAX_AGE at the latest. Releasing lapsed holds needs no call: every read already
counts them as free. Without Redis the cache is a dummy (see
settings) and every read computes. If Redis fails the read computes from the database.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import transaction

from accounts.credentials import clinic_today, licence_expires_at
from scheduling import selectors, timefmt

logger = logging.getLogger(__name__)

CACHE_ALIAS = "availability"
MAX_AGE = timedelta(seconds=60)  # a safety net: every known change ends an answer sooner
_VERSION_KEY = "version"  # of everything


def _day_key(day: date) -> str:
    return f"version:{day.isoformat()}"


def _day_version_seconds() -> int:
    # A day's version outlives every read of that day (nobody asks for a past date).
    return (settings.PUBLISH_HORIZON_DAYS + 2) * 86400


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = timefmt.clinic_today(start), timefmt.clinic_today(end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _version_keys(*, day: date | None, now: datetime) -> tuple[list[str], list[str]]:
    """(the versions an answer computed now depends on, the versions to read to check any
    answer still within MAX_AGE). The upcoming window's answer depends on every day it may
    show before it expires: from now to its end MAX_AGE later."""
    if day is not None:
        keys = [_VERSION_KEY, _day_key(day)]
        return keys, keys
    _start, end = selectors.upcoming_window(now=now)
    covered = [_VERSION_KEY, *map(_day_key, _days(now, end + MAX_AGE))]
    # An answer stored up to MAX_AGE ago may name the day before today.
    earlier = _day_key(timefmt.clinic_today(now - MAX_AGE))
    return covered, covered if earlier in covered else [*covered, earlier]


def availability_answer(
    *,
    day: date | None,
    now: datetime,
    render: Callable[[list[selectors.ServiceAvailability]], Any],
    service_id: int | None = None,
) -> Any:
    """render(availability) of one clinic day, or of the upcoming window (day None: from
    now to BOOKING_HORIZON_DAYS ahead), of every service or only `service_id`, from the
    cache while it is still true."""
    cache = caches[CACHE_ALIAS]
    if isinstance(cache, DummyCache):  # no shared cache configured
        return render(_compute(day=day, now=now, service_id=service_id))
    key = "upcoming" if day is None else f"day:{day.isoformat()}"
    if service_id is not None:
        key = f"{key}:service:{service_id}"
    depends, checked = _version_keys(day=day, now=now)
    try:
        # One round trip: the answer and every version it may depend on. Read before
        # computing: a change committed meanwhile replaces what the answer is stored under.
        found = cache.get_many([*checked, key])
    except Exception:  # the cache is an optimisation: any failure means "compute"
        logger.warning("availability cache unreachable; computing", exc_info=True)
        found, cache = {}, None
    entry = found.get(key)
    if entry is not None:
        versions, valid_until, answer = entry
        if now < valid_until and all(found.get(k) == v for k, v in versions.items()):
            return answer
    items = _compute(day=day, now=now, service_id=service_id)
    answer = render(items)
    if cache is not None:
        valid_until = _valid_until(day=day, now=now, items=items)
        versions = {k: found.get(k) for k in depends}
        _store(cache, key, versions, answer, valid_until=valid_until, now=now)
    return answer


def _compute(
    *, day: date | None, now: datetime, service_id: int | None = None
) -> list[selectors.ServiceAvailability]:
    if day is None:
        return selectors.availability_upcoming(now=now, service_id=service_id)
    return selectors.availability_for_date(day=day, now=now, service_id=service_id)


def _store(
    cache,
    key: str,
    versions: dict[str, str | None],
    answer: Any,
    *,
    valid_until: datetime,
    now: datetime,
) -> None:
    try:
        for name, version in versions.items():
            if version is None:  # first use of that day, or Redis restarted: start one
                versions[name] = version = secrets.token_hex(8)
                timeout = None if name == _VERSION_KEY else _day_version_seconds()
                if not cache.add(name, version, timeout=timeout):
                    return  # another worker or a write started it first; the next read stores
        # Redis forgets it a little after it stops being valid (the read checks the instant).
        seconds = int((valid_until - now).total_seconds()) + 2
        cache.set(key, (versions, valid_until, answer), timeout=seconds)
    except Exception:
        logger.warning("availability cache unreachable; not stored", exc_info=True)


def _valid_until(
    *, day: date | None, now: datetime, items: list[selectors.ServiceAvailability]
) -> datetime:
    limits = [now + MAX_AGE]
    starts = [slot.start for item in items for slot in item.slots]
    if starts:
        limits.append(min(starts))  # it leaves the list when it starts
    expiries = {
        slot.doctor.license_expires_on
        for item in items
        for slot in item.slots
        if slot.doctor.license_expires_on is not None
    }
    # A listed doctor's licence expires: their slots leave the list at that midnight. Only
    # an expiry before the answer's MAX_AGE matters (and 9999-12-31 has no midnight after).
    if expiries and min(expiries) <= clinic_today(now + MAX_AGE):
        limits.append(licence_expires_at(min(expiries)))
    if day is None:
        start, end = selectors.upcoming_window(now=now)
        # The window's end moves with the clock: the next slot beyond it enters the answer
        # once it is BOOKING_HORIZON_DAYS away.
        entering = selectors.next_slot_start_from(at=end)
        if entering is not None:
            limits.append(entering - (end - now))
    else:
        start, end = timefmt.day_bounds(day)
    lapse = selectors.hold_next_lapse(start=start, end=end, now=now)
    if lapse is not None:
        limits.append(lapse)  # its seat comes back
    return min(limits)


def availability_changed(
    *,
    slots: Iterable[Any] | None = None,
    days: Iterable[date] | None = None,
    using: str | None = None,
) -> None:
    """The cached answers covering the clinic days of these slots' starts (and these days)
    are stale from now on, and again once this transaction commits; with neither, every
    cached answer is (a change whose days are unknown)."""
    if slots is None and days is None:
        keys = [_VERSION_KEY]
    else:
        touched = set(days or ())
        touched.update(timefmt.clinic_today(slot.start) for slot in slots or ())
        keys = sorted(map(_day_key, touched))
        if not keys:
            return
    _new_versions(keys)
    transaction.on_commit(lambda: _new_versions(keys), using=using)


def _new_versions(keys: list[str]) -> None:
    timeout = None if keys == [_VERSION_KEY] else _day_version_seconds()
    try:
        caches[CACHE_ALIAS].set_many({k: secrets.token_hex(8) for k in keys}, timeout=timeout)
    except Exception:
        # Readers fail on the same Redis and compute; entries kept across the outage
        # expire by MAX_AGE at the latest.
        logger.warning("availability cache unreachable; version not replaced", exc_info=True)


class ChangesAvailabilityAdmin:
    """For a ModelAdmin whose saves and deletes change what availability shows (a service's
    name or price, a slot, a doctor): the admin writes without the services."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        availability_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        availability_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        availability_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        availability_changed()
