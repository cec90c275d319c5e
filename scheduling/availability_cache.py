"""appointmentOptions' answers (a date, the upcoming window without a date, either of one
service) composed from one cached unit, the clinic day, and never served stale.

It is the busiest read and the costliest (a day is a few hundred slots, 45 kB of JSON; the
window fourteen days of them, 630 kB), and it changes only when someone writes or when time
passes. A day's entry holds, per active service, its free slots of that day, each as its
JSON already written (serializers.free_slot_out) with what a read needs to cut and sum:
the slot's start, its free seats and its doctor. Every answer is composed at read time
from the entries of the days it covers: one day for a date, the fifteen clinic days the
window touches without one; the first day loses the slots already started, the window's
last day the slots starting at or after its end; the seats are summed and the doctors
listed in order of first appearance, and the bytes are those of the direct render
(availability_out through json_bytes). So the date, the window and the by-service answers
share one cached unit, and a write makes the next read compute only the day it touched.

A read fetches, in one round trip, the versions of everything and of each of its days and
the entries of the days this process does not hold: each process keeps the entries it read
or computed last (LOCAL_DAYS of them), checked against the shared versions on every read
like one from Redis, so a window read moves 16 versions instead of 650 kB of entries. A day
held here but changed since is fetched again if its stamp (asked only then) says another
worker stored it under the versions now; the days still missing are computed in one slot
query and one hold query over their range, with the services of the days still true (else
one query of the services), and stored. The process also keeps the last answer of each
form it composed, with the entries it came from: the same entries cut at the same places
are the same bytes, handed out without composing (_composed).

A day's entry carries two guards, both checked on every read:

- the versions it was computed under: its day's and the one of everything. Every service
  that changes what the answer shows calls `availability_changed` with the slots (or days)
  it changed (a seat taken or given back, a slot published, changed or withdrawn), which
  replaces those days' versions once its transaction commits, so every worker sees the
  change at once: a reader reads the versions before it computes, so one that computed
  from the data before the commit stored its entry under versions the commit's replacement
  ends, and one that read the new versions computes after the commit. Until the commit the
  cached answers are the committed truth, so the write replaces nothing itself (it did,
  once: a Redis round trip a booking saved). A write whose days are unknown (a doctor's
  name, verification or activity; the admin's edits of services, slots and users,
  ChangesAvailabilityAdmin) replaces the version of everything. So a booking ends its own
  day's entry only: the window read next computes that day again and takes the other
  fourteen from the cache. The call is explicit, not a model signal: signals miss bulk
  writes (bulk_create, QuerySet.update).
- the instant it stops being true by itself: when the next hold on that day lapses (its
  seat comes back), at the midnight a listed doctor's licence expires, and MAX_AGE at the
  latest. A slot that starts needs no limit (a read drops it), nor does the window's
  moving end (a read cuts its last day, which is cached whole).

A write made outside the services announces itself with availability_changed, or shows
after MAX_AGE at the latest. Releasing lapsed holds needs no call: every read already
counts them as free. Without Redis the cache is a dummy (see settings) and every read
renders directly from the database, as it does if Redis fails.
"""

from __future__ import annotations

import logging
import secrets
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import orjson
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.db import transaction

from accounts.credentials import clinic_today, licence_expires_at
from doctors_portal.api.renderers import json_bytes
from scheduling import selectors, timefmt
from scheduling.serializers import availability_out, free_slot_out, option_doctor_out

logger = logging.getLogger(__name__)

CACHE_ALIAS = "availability"
MAX_AGE = timedelta(seconds=60)  # a safety net: every known change ends an entry sooner
_VERSION_KEY = "version"  # of everything
_ENTRY_LAYOUT = 2


def _day_key(day: date) -> str:
    return f"version:{day.isoformat()}"


def _entry_key(day: date) -> str:
    # The entry's layout (_Day) is in the key: a deploy that changes it reads none of the
    # old ones (pickled with another layout).
    return f"entry:{_ENTRY_LAYOUT}:{day.isoformat()}"


def _stamp_key(day: date) -> str:
    # The versions of the day's entry stored last (a few bytes): a process holding the
    # day's older entry reads this, not the entry, to learn whether a newer one is stored.
    return f"stamp:{_ENTRY_LAYOUT}:{day.isoformat()}"


def _day_version_seconds() -> int:
    # A day's version outlives every read of that day (nobody asks for a past date).
    return (settings.PUBLISH_HORIZON_DAYS + 2) * 86400


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = timefmt.clinic_today(start), timefmt.clinic_today(end)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class _Part(NamedTuple):
    """One service's free slots of one day, in start order, ready to cut and join. The
    numbers are arrays, one buffer each rather than an object a slot: a day's entry is
    fewer and smaller allocations to unpickle, hold and free."""

    starts: array  # of float timestamps: compared with the read's bounds
    free: array  # of int
    doctor_ids: array  # of int
    offsets: array  # of int: where each slot's JSON starts in `joined` (and where it ends)
    joined: bytes  # every slot's JSON, each followed by a comma
    total: int  # sum(free)
    doctors: dict[int, dict]  # id -> option_doctor_out, in order of first appearance


class _Day(NamedTuple):
    versions: dict[str, str | None]
    valid_until: datetime
    heads: list[dict]  # availability_out of each active service without slots, in order
    parts: dict[int, _Part]  # service id -> its slots of the day (none: absent)


def availability_answer(*, day: date | None, now: datetime, service_id: int | None = None) -> bytes:
    """The JSON of [availability_out] for one clinic day, or for the upcoming window (day
    None: from now to BOOKING_HORIZON_DAYS ahead), of every service or only `service_id`,
    composed from the cached days while they are still true."""
    if day is None:
        start, end = selectors.upcoming_window(now=now)
    else:
        start, end = timefmt.day_bounds(day)
    start = max(start, now)
    cache = caches[CACHE_ALIAS]
    if isinstance(cache, DummyCache):  # no shared cache configured
        return _render(start=start, end=end, now=now, service_id=service_id)
    days = _days(start, end) if day is None else [day]
    held = {d: _local_get(cache.make_key(_entry_key(d))) for d in days}
    try:
        # One round trip: every version the days depend on, and the entries of the days this
        # process does not hold. Read before computing: a change committed meanwhile
        # replaces what an entry is stored under.
        asked = [_entry_key(d) for d in days if held[d] is None]
        found = cache.get_many([_VERSION_KEY, *map(_day_key, days), *asked])
        entries, stale = _still_true_days(cache, days, held=held, found=found, now=now)
        if stale:
            # Held here but changed since: fetched again only if another worker stored the
            # day under the versions now (its stamp says so; the entry is checked all the
            # same). The stamps are asked only here: a read that holds its days true (the
            # common case) moves the versions alone.
            found.update(cache.get_many([_stamp_key(d) for d in stale]))
            renewed = [d for d in stale if _stamped(found, d)]
            if renewed:
                fetched = {**found, **cache.get_many([_entry_key(d) for d in renewed])}
                entries.update(_still_true_days(cache, renewed, held={}, found=fetched, now=now)[0])
    except Exception:  # the cache is an optimisation: any failure means "compute"
        logger.warning("availability cache unreachable; computing", exc_info=True)
        return _render(start=start, end=end, now=now, service_id=service_id)
    missing = [d for d in days if d not in entries]
    if missing:
        # The services shown are those of any day still true (the same version of
        # everything): then the computed days need no query of the services.
        heads = next(iter(entries.values())).heads if entries else None
        computed = _compute(day=day, now=now, service_id=service_id, days=missing, heads=heads)
        for d, (valid_until, heads, parts) in computed.items():
            versions = {_VERSION_KEY: found.get(_VERSION_KEY), _day_key(d): found.get(_day_key(d))}
            entries[d] = _Day(versions, valid_until, heads, parts)
        # As stored (and held here): the next read composes from these very objects.
        entries.update(_store(cache, {d: entries[d] for d in missing}, now=now))
    used = tuple(entries[d] for d in days)
    cuts = _cuts(used, start=start, end=end, now=now, service_id=service_id)
    return _composed(used, form=(day, service_id), cuts=cuts, service_id=service_id)


def _stamped(found: dict, day: date) -> bool:
    stamp = found.get(_stamp_key(day))
    return stamp is not None and all(found.get(k) == v for k, v in stamp.items())


def _still_true_days(
    cache, days: list[date], *, held: dict[date, _Day | None], found: dict, now: datetime
) -> tuple[dict[date, _Day], list[date]]:
    """(the days whose entry, held here or found in Redis, is still true; the days held
    here that are not). Entries found are kept here for the next read."""
    entries, stale = {}, []
    for d in days:
        entry = held.get(d)
        if entry is None:
            entry = found.get(_entry_key(d))
            if entry is not None and _still_true(entry, found=found, now=now):
                entries[d] = _local_put(cache.make_key(_entry_key(d)), entry)
        elif _still_true(entry, found=found, now=now):
            entries[d] = entry
        else:
            stale.append(d)
    return entries, stale


# The days' entries this process read or computed last (each checked against the shared
# versions on every read, as one from Redis): a read of the window takes its fifteen days
# from here and only their versions from Redis, instead of 650 kB to unpickle.
LOCAL_DAYS = 32
_local: OrderedDict[str, _Day] = OrderedDict()
_local_lock = threading.Lock()


def _local_get(key: str) -> _Day | None:
    with _local_lock:
        entry = _local.get(key)
        if entry is not None:
            _local.move_to_end(key)
        return entry


def _local_put(key: str, entry: _Day) -> _Day:
    with _local_lock:
        _local[key] = entry
        _local.move_to_end(key)
        while len(_local) > LOCAL_DAYS:
            _local.popitem(last=False)
    return entry


def _still_true(entry: _Day, *, found: dict, now: datetime) -> bool:
    return now < entry.valid_until and all(found.get(k) == v for k, v in entry.versions.items())


def _render(*, start: datetime, end: datetime, now: datetime, service_id: int | None) -> bytes:
    """The answer straight from the database: what a composed answer must equal."""
    items = selectors.availability_between(start, end, now=now, service_id=service_id)
    return json_bytes([availability_out(item) for item in items])


def _compute(
    *,
    day: date | None,
    now: datetime,
    service_id: int | None,
    days: list[date],
    heads: list[dict] | None = None,
) -> dict[date, tuple[datetime, list[dict], dict[int, _Part]]]:
    """(valid until, heads, parts) of each of these days, every service: one slot query and
    one hold query over their range, and one of the services unless `heads` gives them.
    `day` and `service_id` name the answer asked for (the benchmark's server counts the
    misses per kind, doctors_portal/bench_urls.py)."""
    first, _ = timefmt.day_bounds(days[0])
    _, last = timefmt.day_bounds(days[-1])
    if heads is None:
        items = selectors.availability_between(first, last, now=now)
        heads = [availability_out(selectors.ServiceAvailability(item.service)) for item in items]
        found = {item.service.pk: item.slots for item in items}
    else:
        ids = [head["id"] for head in heads]
        found = selectors.free_slots_between(first, last, now=now, service_ids=ids) if ids else {}
    wanted = set(days)
    slots: dict[date, dict[int, list[selectors.FreeSlot]]] = {d: {} for d in days}
    for pk, listed in found.items():
        for slot in listed:
            on = timefmt.clinic_today(slot.start)
            if on in wanted:
                slots[on].setdefault(pk, []).append(slot)
    lapses: dict[date, datetime] = {}
    for slot_start, lapse in selectors.hold_lapses_between(start=first, end=last, now=now):
        on = timefmt.clinic_today(slot_start)
        lapses[on] = min(lapse, lapses.get(on, lapse))
    return {
        d: (
            _valid_until(now=now, slots=slots[d], lapse=lapses.get(d)),
            heads,
            {pk: _part(listed) for pk, listed in slots[d].items()},
        )
        for d in days
    }


def _part(slots: list[selectors.FreeSlot]) -> _Part:
    rendered = [json_bytes(free_slot_out(slot)) for slot in slots]
    offsets = [0]
    for text in rendered:
        offsets.append(offsets[-1] + len(text) + 1)
    doctors: dict[int, dict] = {}
    for slot in slots:
        if slot.doctor.pk not in doctors:
            doctors[slot.doctor.pk] = option_doctor_out(slot.doctor)
    free = array("q", [slot.free_seats for slot in slots])
    return _Part(
        array("d", [slot.start.timestamp() for slot in slots]),
        free,
        array("q", [slot.doctor.pk for slot in slots]),
        array("q", offsets),
        b"".join(text + b"," for text in rendered),
        sum(free),
        doctors,
    )


def _valid_until(
    *, now: datetime, slots: dict[int, list[selectors.FreeSlot]], lapse: datetime | None
) -> datetime:
    limits = [now + MAX_AGE]
    expiries = {
        slot.doctor.license_expires_on
        for listed in slots.values()
        for slot in listed
        if slot.doctor.license_expires_on is not None
    }
    # A listed doctor's licence expires: their slots leave the list at that midnight. Only
    # an expiry before the entry's MAX_AGE matters (and 9999-12-31 has no midnight after).
    if expiries and min(expiries) <= clinic_today(now + MAX_AGE):
        limits.append(licence_expires_at(min(expiries)))
    if lapse is not None:
        limits.append(lapse)  # its seat comes back
    return min(limits)


def _cuts(
    days: tuple[_Day, ...], *, start: datetime, end: datetime, now: datetime, service_id: int | None
) -> tuple[int, ...]:
    """Where the answer for [start, end) cuts each part of these days: (first, last) of
    every shown service on every day, in the answer's order (0, 0 without a part). A slot
    starting at `start` is listed unless it starts now (a started slot is gone; one at a
    day's midnight belongs to that day); one at or after the end is not yet."""
    before = end.timestamp()
    started = start <= now
    after = now.timestamp() if started else start.timestamp()
    first_listed = bisect_right if started else bisect_left
    cuts: list[int] = []
    for head in days[0].heads:
        pk = head["id"]
        if service_id is not None and pk != service_id:
            continue
        for entry in days:
            part = entry.parts.get(pk)
            if part is None:
                cuts += (0, 0)
            else:
                cuts += (first_listed(part.starts, after), bisect_left(part.starts, before))
    return tuple(cuts)


# The answer this process composed last for each of the last LOCAL_ANSWERS forms asked
# (a date or the window, of every service or one), with the entries it was composed from.
# An answer is a pure function of its days' entries and of where it cuts them (_compose),
# so the same entries (the same objects: kept alive here, so no other object can take
# their identity) cut at the same places are the same bytes. A write, a lapse or MAX_AGE
# gives a day a new entry, and time passing a slot's start or the window's end moves a
# cut: either misses. So a read of the fortnight that holds its days true skips composing
# its 600 kB. One answer a form: a new one lets the entries of the old go.
LOCAL_ANSWERS = 4
_answers: OrderedDict[tuple, tuple[tuple, tuple[_Day, ...], bytes]] = OrderedDict()


def _composed(
    days: tuple[_Day, ...], *, form: tuple, cuts: tuple[int, ...], service_id: int | None
) -> bytes:
    key = (tuple(map(id, days)), cuts)
    with _local_lock:
        memo = _answers.get(form)
        if memo is not None and memo[0] == key:
            _answers.move_to_end(form)
            return memo[2]
    answer = _compose(days, cuts=cuts, service_id=service_id)
    with _local_lock:
        _answers[form] = (key, days, answer)
        _answers.move_to_end(form)
        while len(_answers) > LOCAL_ANSWERS:
            _answers.popitem(last=False)
    return answer


def _compose(days: tuple[_Day, ...], *, cuts: tuple[int, ...], service_id: int | None) -> bytes:
    """The answer from the entries of the days it covers, in order, cut at `cuts`
    (_cuts): the same bytes as _render."""
    answer = []
    at = iter(cuts)
    for head in days[0].heads:
        pk = head["id"]
        if service_id is not None and pk != service_id:
            continue
        chunks, total, doctors = [], 0, {}
        for entry in days:
            first, last = next(at), next(at)
            if first >= last:
                continue
            part = entry.parts[pk]
            chunks.append(part.joined[part.offsets[first] : part.offsets[last] - 1])
            if first == 0 and last == len(part.starts):
                total += part.total
                for doctor_id, doctor in part.doctors.items():
                    doctors.setdefault(doctor_id, doctor)
            else:
                total += sum(part.free[first:last])
                for doctor_id in part.doctor_ids[first:last]:
                    if doctor_id not in doctors:
                        doctors[doctor_id] = part.doctors[doctor_id]
        service = dict(head)  # availability_out's keys, in its order
        service["availableSpaces"] = total
        service["doctors"] = list(doctors.values())
        service["slots"] = orjson.Fragment(b"[" + b",".join(chunks) + b"]")
        answer.append(service)
    return json_bytes(answer)


def _store(cache, entries: dict[date, _Day], *, now: datetime) -> dict[date, _Day]:
    """Stores these entries (starting the versions still missing) and holds them here;
    returns those stored, as stored."""
    stored: dict[date, _Day] = {}
    try:
        started: dict[str, str] = {}
        kept = {}
        for day, entry in entries.items():
            versions = dict(entry.versions)
            for name, version in versions.items():
                if version is None:  # first use of that day, or Redis restarted: start one
                    if name not in started:
                        timeout = None if name == _VERSION_KEY else _day_version_seconds()
                        token = secrets.token_hex(8)
                        # Another worker or a write started it first: the next read stores.
                        started[name] = token if cache.add(name, token, timeout=timeout) else ""
                    versions[name] = started[name]
            if all(versions.values()):
                kept[_entry_key(day)] = entry._replace(versions=versions)
                kept[_stamp_key(day)] = versions
        if kept:
            # Redis forgets an entry a little after it can last be valid (reads check it).
            cache.set_many(kept, timeout=int(MAX_AGE.total_seconds()) + 2)
            for day in entries:
                if _entry_key(day) in kept:
                    stored[day] = _local_put(cache.make_key(_entry_key(day)), kept[_entry_key(day)])
    except Exception:
        logger.warning("availability cache unreachable; not stored", exc_info=True)
    return stored


def availability_changed(
    *,
    slots: Iterable[Any] | None = None,
    days: Iterable[date] | None = None,
    using: str | None = None,
) -> None:
    """The cached answers covering the clinic days of these slots' starts (and these days)
    are stale once this transaction commits (at once outside one); with neither, every
    cached answer is (a change whose days are unknown)."""
    if slots is None and days is None:
        keys = [_VERSION_KEY]
    else:
        touched = set(days or ())
        touched.update(timefmt.clinic_today(slot.start) for slot in slots or ())
        keys = sorted(map(_day_key, touched))
        if not keys:
            return
    # After the commit only: before it, another worker's read computes the committed
    # truth, and no write reads the cached answers (only the read view, scheduling.api).
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
