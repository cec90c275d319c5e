"""A weekly rule's occurrences as UTC intervals, with dateutil's rrule (no database).

Wall-clock times are read in CLINIC_TIME_ZONE. Across a DST change:
- a start that does not exist (the clocks skip it, e.g. 02:30 on the spring Sunday in
  Europe/Berlin or America/New_York) is skipped;
- a start that happens twice (the autumn Sunday's repeated hour) is taken once, at its
  first occurrence (fold=0), and the second pass of that hour generates nothing;
- every slot lasts exactly `slot_minutes` of real time, so no two generated slots
  overlap, even where the wall clock jumps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dateutil import rrule, tz

from scheduling import timefmt
from scheduling.models import WEEKDAYS

RRULE_DAYS = dict(zip(WEEKDAYS, rrule.weekdays, strict=True))


@dataclass(frozen=True)
class Pattern:
    """What an occurrence needs of a rule (a WeeklyRule, or one not saved yet)."""

    weekdays: tuple[str, ...]
    start_time: time
    end_time: time
    slot_minutes: int


def pattern_of(rule) -> Pattern:
    return Pattern(tuple(rule.weekday_list), rule.start_time, rule.end_time, rule.slot_minutes)


def local_days(pattern: Pattern, first: date, last: date) -> list[date]:
    """The clinic-local dates in [first, last] that fall on the pattern's weekdays."""
    if last < first:
        return []
    days = rrule.rrule(
        rrule.DAILY,
        byweekday=[RRULE_DAYS[d] for d in pattern.weekdays],
        dtstart=datetime.combine(first, time()),
        until=datetime.combine(last, time()),
    )
    return [occurrence.date() for occurrence in days]


def day_starts(pattern: Pattern, day: date) -> list[datetime]:
    """The naive wall-clock starts of one day's slots: every slot_minutes from start_time
    while a whole slot fits before end_time (on the wall clock)."""
    last_start = datetime.combine(day, pattern.end_time) - timedelta(minutes=pattern.slot_minutes)
    first_start = datetime.combine(day, pattern.start_time)
    if last_start < first_start:
        return []
    return list(
        rrule.rrule(
            rrule.MINUTELY, interval=pattern.slot_minutes, dtstart=first_start, until=last_start
        )
    )


def occurrences(pattern: Pattern, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """(start, end) in UTC of every slot of the pattern on the local dates [first, last]."""
    zone = timefmt.clinic_tz()
    length = timedelta(minutes=pattern.slot_minutes)
    for day in local_days(pattern, first, last):
        # The working hours end at the first pass of end_time (fold=0), like every start.
        hours_end = datetime.combine(day, pattern.end_time, tzinfo=zone).astimezone(UTC)
        previous_end = None
        for wall in day_starts(pattern, day):
            if not tz.datetime_exists(wall, tz=zone):
                continue  # the clocks skip this time
            start = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
            end = start + length
            if previous_end is not None and start < previous_end:
                continue  # the clocks jumped forward into the slot before
            if end > hours_end:
                continue  # in real time it would run past the day's hours
            previous_end = end
            yield start, end


def covers(pattern: Pattern, start: datetime, end: datetime, *, valid) -> bool:
    """Whether a slot [start, end) falls in the pattern's hours on one of its days (for the
    "a rule overlapping an existing slot" check); `valid(day)` says if the rule runs then."""
    zone = timefmt.clinic_tz()
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    day = local_start.date()
    while day <= local_end.date():
        if WEEKDAYS[day.weekday()] in pattern.weekdays and valid(day):
            hours_start = datetime.combine(day, pattern.start_time, tzinfo=zone)
            hours_end = datetime.combine(day, pattern.end_time, tzinfo=zone)
            if local_start < hours_end and hours_start < local_end:
                return True
        day += timedelta(days=1)
    return False


def patterns_overlap(a: Pattern, b: Pattern) -> bool:
    """Whether two patterns share a weekday and wall-clock hours (dates checked apart)."""
    if not set(a.weekdays) & set(b.weekdays):
        return False
    return a.start_time < b.end_time and b.start_time < a.end_time
