"""Every write on weekly hours (WeeklyRule) and time off (TimeOff), and their generation
into ordinary slots (API.md "Doctors and schedules").

- A rule is generated into Slot rows, up to BOOKING_HORIZON_DAYS ahead, by one bulk
  INSERT per rule, under the doctor's lock (the same one slot writes take) and, on
  PostgreSQL, the exclusion constraint `slot_doctor_no_overlap`. `generated_until` is
  the last clinic-local date already considered: a second run over the same dates
  changes nothing, and two runs at once serialise on the doctor's row (the second then
  sees the first's watermark).
- `schedules_extend` (the periodic task) moves every rule's watermark to the horizon as
  days pass.
- Withdrawing slots (changing or ending a rule, time off) never touches a booked seat:
  booked slots are kept and listed; lapsed holds are released first (bookings.seats).
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from accounts.permissions import is_admin
from doctors_portal.errors import Conflict, DomainError, NotFoundAt
from scheduling import recurrence, selectors, timefmt
from scheduling.availability_cache import availability_changed
from scheduling.models import WEEKDAYS, Service, Slot, SlotStatus, TimeOff, WeeklyRule
from scheduling.services import (
    _check_may_publish,
    _lock_doctor,
    _resolve_service,
    slots_withdraw_unbooked,
)

logger = logging.getLogger(__name__)

MIN_SLOT_MINUTES = 5
MAX_CAPACITY = 1000
MAX_REASON = 200


class BookedSlotsInside(Conflict):
    """A conflict listing the bookings that stand in the way (one errorMessages entry each)."""

    code = "booked_slots_inside"
    default_detail = "Booked appointments fall inside this time."


@dataclass
class ScheduleResult:
    rule: WeeklyRule
    created: int = 0
    removed: int = 0
    kept: list[Slot] = field(default_factory=list)


@dataclass
class TimeOffResult:
    time_off: TimeOff
    removed: int = 0
    created: int = 0


# ---------------------------------------------------------------- checks


def _horizon_day(now: datetime) -> date:
    """The last clinic-local date that rules are generated through."""
    return timefmt.clinic_today(now) + timedelta(days=settings.BOOKING_HORIZON_DAYS)


def _latest_day(now: datetime) -> date:
    return timefmt.clinic_today(now) + timedelta(days=settings.PUBLISH_HORIZON_DAYS)


def _check_rule(rule: WeeklyRule, *, now: datetime, checking_from: bool) -> None:
    """Every error of a rule's values at once (400), before anything is written."""
    errors: dict[str, list[str]] = {}
    days = rule.weekday_list
    if not days or any(day not in WEEKDAYS for day in days) or len(set(days)) != len(days):
        errors["weekdays"] = ["Name one or more of mon, tue, wed, thu, fri, sat, sun."]
    minutes = rule.slot_minutes
    if not isinstance(minutes, int) or not MIN_SLOT_MINUTES <= minutes <= settings.MAX_SLOT_MINUTES:
        errors["slotMinutes"] = [
            f"A whole number of minutes from {MIN_SLOT_MINUTES} to {settings.MAX_SLOT_MINUTES}."
        ]
    if not isinstance(rule.capacity, int) or not 1 <= rule.capacity <= MAX_CAPACITY:
        errors["capacity"] = [f"A whole number from 1 to {MAX_CAPACITY}."]
    if rule.end_time <= rule.start_time:
        errors["end"] = ["The end must be after the start (the same day)."]
    elif "slotMinutes" not in errors:
        span = datetime.combine(date.min, rule.end_time) - datetime.combine(
            date.min, rule.start_time
        )
        if span < timedelta(minutes=minutes):
            errors["end"] = [f"From start to end there is no room for a {minutes}-minute slot."]
    latest = _latest_day(now)
    if checking_from and rule.valid_from < timefmt.clinic_today(now):
        errors["validFrom"] = ["Weekly hours start today or later."]
    elif rule.valid_from > latest:
        errors["validFrom"] = [
            f"At most {settings.PUBLISH_HORIZON_DAYS} days ahead ({latest.isoformat()})."
        ]
    if rule.valid_until is not None:
        if rule.valid_until < rule.valid_from:
            errors["validUntil"] = ["validUntil must not be before validFrom."]
        elif rule.valid_until > latest:
            errors["validUntil"] = [
                f"At most {settings.PUBLISH_HORIZON_DAYS} days ahead ({latest.isoformat()}); "
                "leave it out for hours without an end."
            ]
    if errors:
        raise DomainError(errors=errors)


def _describe_rule(rule: WeeklyRule) -> str:
    until = f" until {rule.valid_until.isoformat()}" if rule.valid_until else ""
    return (
        f"your weekly hours #{rule.pk} ({', '.join(rule.weekday_list)} "
        f"{rule.start_time:%H:%M}-{rule.end_time:%H:%M}, from {rule.valid_from.isoformat()}"
        f"{until})"
    )


def _dates_meet(a: WeeklyRule, b: WeeklyRule) -> bool:
    a_until = a.valid_until or date.max
    b_until = b.valid_until or date.max
    return a.valid_from <= b_until and b.valid_from <= a_until


def _check_no_conflict(rule: WeeklyRule, *, now: datetime) -> None:
    """400 naming every other rule and every existing future slot the rule would overlap."""
    pattern = recurrence.pattern_of(rule)
    conflicts = [
        f"Overlaps {_describe_rule(other)}."
        for other in WeeklyRule.objects.filter(doctor_id=rule.doctor_id).exclude(pk=rule.pk)
        if recurrence.patterns_overlap(pattern, recurrence.pattern_of(other))
        and _dates_meet(rule, other)
    ]
    if conflicts:  # their slots would be listed too: the rules say it once
        raise DomainError(errors={"conflict": conflicts})
    begin = max(now, timefmt.day_bounds(rule.valid_from)[0])
    slots = (
        Slot.objects.filter(doctor_id=rule.doctor_id, end__gt=begin)
        .exclude(status=SlotStatus.CANCELLED)
        .filter(Q(rule__isnull=True) | ~Q(rule_id=rule.pk))
        .only("start", "end")
    )
    if rule.valid_until is not None:
        slots = slots.filter(start__lt=timefmt.day_bounds(rule.valid_until)[1])

    def valid(day: date) -> bool:
        return rule.valid_from <= day <= (rule.valid_until or date.max)

    for slot in slots:
        if recurrence.covers(pattern, slot.start, slot.end, valid=valid):
            conflicts.append(
                f"Overlaps your slot #{slot.pk} on {timefmt.format_date(slot.start)} "
                f"{timefmt.format_label(slot.start, slot.end)}."
            )
        if len(conflicts) >= 20:
            break
    if conflicts:
        raise DomainError(errors={"conflict": conflicts})


def _may_manage(*, doctor_id: int, by: User) -> bool:
    return is_admin(by) or by.pk == doctor_id


# ---------------------------------------------------------------- generation


class _Spans:
    """Sorted (start, end, ...) tuples, asked which one overlaps an interval."""

    def __init__(self, spans):
        self.spans = sorted(spans)
        self.starts = [span[0] for span in self.spans]
        self.longest = max((span[1] - span[0] for span in self.spans), default=timedelta(0))

    def overlapping(self, start: datetime, end: datetime) -> tuple | None:
        j = bisect.bisect_left(self.starts, end) - 1  # the last span starting before our end
        while j >= 0 and self.starts[j] + self.longest > start:
            if self.spans[j][1] > start:
                return self.spans[j]
            j -= 1
        return None


def _generate_locked(
    *, rule: WeeklyRule, first: date, last: date, now: datetime, strict: bool
) -> int:
    """Insert the rule's slots on the local dates [first, last] that are not there yet.

    Skipped: past starts, time off, and starts overlapping one of the rule's own slots
    (already generated, or kept booked). Overlapping any other slot is a 400 when
    `strict` (a doctor's request) and skipped otherwise (the periodic task: a slot
    published by hand since the rule was made wins).
    """
    candidates = [
        (start, end)
        for start, end in recurrence.occurrences(recurrence.pattern_of(rule), first, last)
        if start > now
    ]
    if not candidates:
        return 0
    low, high = candidates[0][0], candidates[-1][1]
    blocked = _Spans(
        TimeOff.objects.filter(doctor_id=rule.doctor_id, start__lt=high, end__gt=low).values_list(
            "start", "end"
        )
    )
    existing = _Spans(
        Slot.objects.filter(doctor_id=rule.doctor_id, start__lt=high, end__gt=low)
        .exclude(status=SlotStatus.CANCELLED)
        .values_list("start", "end", "rule_id", "pk")
    )
    new, conflicts = [], []
    for start, end in candidates:
        if blocked.overlapping(start, end):
            continue
        clash = existing.overlapping(start, end)
        if clash is not None:
            if clash[2] != rule.pk and strict:
                conflicts.append(
                    f"Overlaps your slot #{clash[3]} on {timefmt.format_date(clash[0])} "
                    f"{timefmt.format_label(clash[0], clash[1])}."
                )
            continue
        new.append(
            Slot(
                doctor_id=rule.doctor_id,
                service_id=rule.service_id,
                rule=rule,
                start=start,
                end=end,
                capacity=rule.capacity,
                status=SlotStatus.PUBLISHED,
                created_at=now,
            )
        )
    if conflicts:
        raise DomainError(errors={"conflict": conflicts[:20]})
    if not new:
        return 0
    try:
        with transaction.atomic():
            Slot.objects.bulk_create(new)
    except IntegrityError:
        # Only reachable when a slot was written without the doctor's lock.
        raise DomainError(
            errors={"conflict": ["Overlaps another of your slots; reload and try again."]}
        ) from None
    availability_changed(slots=new)
    return len(new)


def _generate_ahead(*, rule: WeeklyRule, now: datetime, strict: bool) -> int:
    """Generate from the rule's watermark (or today) to the horizon; move the watermark."""
    today = timefmt.clinic_today(now)
    horizon = _horizon_day(now)
    first = max(rule.valid_from, today)
    if rule.generated_until is not None:
        first = max(first, rule.generated_until + timedelta(days=1))
    last = min(rule.valid_until or date.max, horizon)
    created = 0
    if first <= last:
        created = _generate_locked(rule=rule, first=first, last=last, now=now, strict=strict)
    if rule.generated_until is None or rule.generated_until < horizon:
        rule.generated_until = horizon
        WeeklyRule.objects.filter(pk=rule.pk).update(generated_until=horizon)
    return created


def _lock_rule(*, rule_id: int) -> WeeklyRule | None:
    return WeeklyRule.objects.select_for_update().filter(pk=rule_id).first()


def _doctor_generates(doctor: User) -> bool:
    profile = getattr(doctor, "doctor_profile", None)
    return bool(doctor.is_active and profile is not None and profile.is_verified)


@transaction.atomic
def schedule_generate(*, rule_id: int, now: datetime | None = None) -> int:
    """Bring one rule up to the horizon; the number of slots created (0 when up to date)."""
    now = now or timezone.now()
    doctor_id = WeeklyRule.objects.filter(pk=rule_id).values_list("doctor_id", flat=True).first()
    if doctor_id is None:
        return 0
    doctor = User.objects.select_related("doctor_profile").get(pk=doctor_id)
    _lock_doctor(doctor)
    rule = _lock_rule(rule_id=rule_id)
    if rule is None or not _doctor_generates(doctor):
        return 0
    return _generate_ahead(rule=rule, now=now, strict=False)


def schedules_due(*, now: datetime) -> list[int]:
    """Ids of the rules whose generated dates fall short of the horizon."""
    horizon = _horizon_day(now)
    return list(
        WeeklyRule.objects.filter(
            Q(generated_until__isnull=True) | Q(generated_until__lt=horizon),
            Q(valid_until__isnull=True)
            | Q(generated_until__isnull=True)
            | Q(valid_until__gt=F("generated_until")),
            doctor__is_active=True,
            doctor__doctor_profile__is_verified=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def schedules_extend(*, now: datetime | None = None) -> int:
    """The periodic task: every rule generated up to the horizon, one transaction each (a
    failing rule is logged and retried next time, never blocks the others)."""
    now = now or timezone.now()
    created = 0
    for rule_id in schedules_due(now=now):
        try:
            created += schedule_generate(rule_id=rule_id, now=now)
        except Exception:
            logger.exception("weekly hours #%s could not be generated", rule_id)
    return created


# ---------------------------------------------------------------- withdrawing


def _future_slot_ids(*, rule: WeeklyRule, now: datetime) -> list[int]:
    return list(
        Slot.objects.filter(rule=rule, start__gt=now)
        .exclude(status=SlotStatus.CANCELLED)
        .values_list("pk", flat=True)
    )


# ---------------------------------------------------------------- rules


@transaction.atomic
def schedule_create(
    *,
    doctor: User,
    by: User,
    weekdays: list[str],
    start_time: time,
    end_time: time,
    slot_minutes: int,
    capacity: int = 1,
    valid_from: date,
    valid_until: date | None = None,
    service: Service | None = None,
    now: datetime | None = None,
) -> ScheduleResult:
    """A new weekly rule, generated at once up to the horizon; 400 naming any overlap."""
    now = now or timezone.now()
    _check_may_publish(doctor=doctor, by=by)
    service = _resolve_service(doctor=doctor, service=service)
    rule = WeeklyRule(
        doctor=doctor,
        service=service,
        weekdays=",".join(weekdays),
        start_time=start_time,
        end_time=end_time,
        slot_minutes=slot_minutes,
        capacity=capacity,
        valid_from=valid_from,
        valid_until=valid_until,
        created_at=now,
    )
    _check_rule(rule, now=now, checking_from=True)
    _lock_doctor(doctor)
    _check_no_conflict(rule, now=now)
    rule.save()
    created = _generate_ahead(rule=rule, now=now, strict=True)
    return ScheduleResult(rule, created=created)


def _rule_for(*, rule_id: int, by: User) -> tuple[User, WeeklyRule]:
    found = WeeklyRule.objects.filter(pk=rule_id).values_list("doctor_id", flat=True).first()
    if found is None or not _may_manage(doctor_id=found, by=by):
        raise NotFoundAt("No such weekly hours.", path="id")
    doctor = User.objects.select_related("doctor_profile", "doctor_profile__specialty").get(
        pk=found
    )
    _lock_doctor(doctor)
    rule = _lock_rule(rule_id=rule_id)
    if rule is None:
        raise NotFoundAt("No such weekly hours.", path="id")
    return doctor, rule


UPDATABLE = (
    "weekdays",
    "start_time",
    "end_time",
    "slot_minutes",
    "capacity",
    "valid_from",
    "valid_until",
    "service",
)


@transaction.atomic
def schedule_update(
    *,
    rule_id: int,
    by: User,
    changes: dict,
    doctor: User | None = None,
    now: datetime | None = None,
) -> ScheduleResult:
    """Change a rule: its future unbooked slots are withdrawn and the new ones generated;
    booked ones stay (`kept`). `changes` holds any of UPDATABLE (weekdays a list);
    `doctor`, when the caller named one, must be the rule's own."""
    now = now or timezone.now()
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise DomainError(errors={name: ["This field cannot be changed."] for name in unknown})
    owner, rule = _rule_for(rule_id=rule_id, by=by)
    if doctor is not None and doctor.pk != owner.pk:
        raise DomainError(
            errors={"docEmail": ["Weekly hours stay with their doctor: end them and add new ones."]}
        )
    doctor = owner
    _check_may_publish(doctor=doctor, by=by)
    for name, value in changes.items():
        if name == "weekdays":
            rule.weekdays = ",".join(value)
        elif name == "service":
            rule.service = _resolve_service(doctor=doctor, service=value)
        else:
            setattr(rule, name, value)
    _check_rule(rule, now=now, checking_from="valid_from" in changes)
    _check_no_conflict(rule, now=now)
    removed, kept = slots_withdraw_unbooked(slot_ids=_future_slot_ids(rule=rule, now=now), now=now)
    rule.generated_until = None
    rule.save()
    created = _generate_ahead(rule=rule, now=now, strict=True)
    return ScheduleResult(rule, created=created, removed=removed, kept=kept)


@transaction.atomic
def schedule_delete(*, rule_id: int, by: User, now: datetime | None = None) -> ScheduleResult:
    """End a rule: its future unbooked slots are withdrawn; booked ones stay (`kept`)."""
    now = now or timezone.now()
    _doctor, rule = _rule_for(rule_id=rule_id, by=by)
    removed, kept = slots_withdraw_unbooked(slot_ids=_future_slot_ids(rule=rule, now=now), now=now)
    as_it_was = WeeklyRule(**{f.attname: getattr(rule, f.attname) for f in rule._meta.fields})
    as_it_was.service = rule.service
    rule.delete()  # kept slots stay, with rule set to NULL
    return ScheduleResult(as_it_was, removed=removed, kept=kept)


# ---------------------------------------------------------------- time off


def _check_time_off(*, start: datetime, end: datetime, reason: str, now: datetime) -> None:
    errors: dict[str, list[str]] = {}
    latest = timefmt.day_bounds(_latest_day(now))[1]
    if end <= start:
        errors["end"] = ["The end must be after the start."]
    elif end <= now:
        errors["end"] = ["This time is already over."]
    elif end - start > timedelta(days=settings.PUBLISH_HORIZON_DAYS + 1):
        errors["end"] = [f"Time off lasts at most {settings.PUBLISH_HORIZON_DAYS} days at once."]
    if start > latest:
        errors["start"] = [f"At most {settings.PUBLISH_HORIZON_DAYS} days ahead."]
    if len(reason) > MAX_REASON:
        errors["reason"] = [f"At most {MAX_REASON} characters."]
    if errors:
        raise DomainError(errors=errors)


@transaction.atomic
def time_off_create(
    *,
    doctor: User,
    by: User,
    start: datetime,
    end: datetime,
    reason: str = "",
    now: datetime | None = None,
) -> TimeOffResult:
    """Withdraw the doctor's unbooked slots in [start, end) and keep rules out of it; 409
    listing the bookings when booked slots fall inside (nothing changes then)."""
    now = now or timezone.now()
    if not _may_manage(doctor_id=doctor.pk, by=by):
        raise NotFoundAt("No doctor has this email.", path="docEmail")
    _check_may_publish(doctor=doctor, by=by)
    reason = (reason or "").strip()
    _check_time_off(start=start, end=end, reason=reason, now=now)
    _lock_doctor(doctor)
    inside = list(
        Slot.objects.filter(doctor=doctor, start__lt=end, end__gt=max(start, now))
        .exclude(status=SlotStatus.CANCELLED)
        .values_list("pk", flat=True)
    )
    removed, kept = slots_withdraw_unbooked(slot_ids=inside, now=now)
    if kept:
        listed = selectors.slot_bookings_described(slots=kept, now=now)
        raise BookedSlotsInside(
            errors={"bookings": listed or ["Booked appointments fall inside; cancel them first."]}
        )
    time_off = TimeOff.objects.create(
        doctor=doctor, start=start, end=end, reason=reason, created_at=now
    )
    return TimeOffResult(time_off, removed=removed)


@transaction.atomic
def time_off_delete(*, time_off_id: int, by: User, now: datetime | None = None) -> TimeOffResult:
    """Remove time off; the doctor's rules generate their slots in it again (up to the dates
    they have reached). Slots published by hand and withdrawn by it do not come back."""
    now = now or timezone.now()
    found = TimeOff.objects.filter(pk=time_off_id).values_list("doctor_id", flat=True).first()
    if found is None or not _may_manage(doctor_id=found, by=by):
        raise NotFoundAt("No such time off.", path="id")
    doctor = User.objects.select_related("doctor_profile").get(pk=found)
    _lock_doctor(doctor)
    time_off = TimeOff.objects.filter(pk=time_off_id).first()
    if time_off is None:
        raise NotFoundAt("No such time off.", path="id")
    as_it_was = TimeOff(**{f.attname: getattr(time_off, f.attname) for f in time_off._meta.fields})
    time_off.delete()
    created = 0
    if _doctor_generates(doctor):
        tz = timefmt.clinic_tz()
        first = time_off.start.astimezone(tz).date()
        last_day = time_off.end.astimezone(tz).date()
        for rule in WeeklyRule.objects.select_for_update().filter(doctor=doctor).order_by("pk"):
            if rule.generated_until is None:
                continue
            upto = min(last_day, rule.generated_until, rule.valid_until or date.max)
            begin = max(first, rule.valid_from)
            if begin <= upto:
                created += _generate_locked(
                    rule=rule, first=begin, last=upto, now=now, strict=False
                )
    return TimeOffResult(as_it_was, created=created)
