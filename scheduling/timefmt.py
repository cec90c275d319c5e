"""Dates and slot labels as the reference client writes them, and back.

Input dates: "Saturday, May 27, 2023", "Monday, June 5, 2023", "May 27, 2023",
"2026-05-27". Input labels: "12.00 PM-02.00 PM", "03.00 Pm-04.00 PM" (any case),
"12:00-14:00", "10-12", and the reference client's noon, "12.00 AM-02.00 PM" (see
parse_label). Output is always the reference's form in CLINIC_TIME_ZONE:
"Saturday, May 27, 2023" and "12.00 PM-02.00 PM". Storage is aware UTC.

Daylight saving time, decided once here:
- a local time that does not exist (the hour skipped in spring) is refused;
- a local time that happens twice (the hour repeated in autumn) means the first
  occurrence (`fold=0`), the earlier instant, so a label never silently moves later.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class TimeFormatError(ValueError):
    """A date or label the clinic cannot read; the message is fit for the client."""


class DateOutOfRange(TimeFormatError):
    """A real date outside what the clinic books: `past`, or `beyond` the publishing
    horizon (or beyond what the calendar can hold)."""

    def __init__(self, day: date, *, past: bool, detail: str):
        self.day, self.past = day, past
        super().__init__(f"Date out of range: {day.isoformat()} {detail}.")


def _beyond_the_calendar(day: date) -> DateOutOfRange:
    # date.min/date.max: a day's bounds in UTC, or the day after, do not exist.
    return DateOutOfRange(
        day, past=day.year < 2, detail="is outside the calendar the clinic can book"
    )


@lru_cache(maxsize=1)
def clinic_tz() -> tzinfo:
    # Cached: lists ask for it once a row, and reading a setting costs more than the
    # conversion it is for. Tests that change the setting clear it (below).
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


@receiver(setting_changed)
def _forget_clinic_tz(*, setting: str, **kwargs) -> None:
    if setting == "CLINIC_TIME_ZONE":
        clinic_tz.cache_clear()


def clinic_today(now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    return now.astimezone(clinic_tz()).date()


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WORDY_DATE_FORMATS = ("%A, %B %d, %Y", "%A, %B %d,%Y", "%B %d, %Y", "%A %B %d %Y", "%b %d, %Y")


def parse_date(raw) -> date:
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        raise TimeFormatError('Enter a date such as "Saturday, May 27, 2023" or "2026-05-27".')
    text = " ".join(raw.split())
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise TimeFormatError(f'"{raw}" is not a real date.') from None
    for fmt in _WORDY_DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt.startswith("%A"):
            weekday = text.split(",")[0].split()[0]
            if weekday.lower() != parsed.strftime("%A").lower():
                raise TimeFormatError(f'"{raw}": {parsed:%B} {parsed.day} is not a {weekday}.')
        return parsed
    raise TimeFormatError(f'"{raw}" is not a date. Use "Saturday, May 27, 2023" or "2026-05-27".')


_TIME = r"(\d{1,2})(?:[.:](\d{2}))?\s*([AaPp][Mm])?"
_LABEL = re.compile(rf"^\s*{_TIME}\s*[-\u2013\u2014]\s*{_TIME}\s*$")


def _to_time(hour: str, minute: str | None, meridiem: str | None, label: str) -> time:
    h, m = int(hour), int(minute or 0)
    if meridiem:
        if not 1 <= h <= 12:
            raise TimeFormatError(f'"{label}": {h} is not an hour on a 12-hour clock.')
        h = h % 12 + (12 if meridiem.lower() == "pm" else 0)
    elif h == 24 and m == 0:
        h = 0
    if h > 23 or m > 59:
        raise TimeFormatError(f'"{label}" has an impossible time.')
    return time(h, m)


def _readings(hour: str, minute: str | None, meridiem: str | None, label: str) -> list[time]:
    """What one end of a label may mean: "12.xx AM" is midnight, or noon as the reference
    client's own labels write it ("10.00 AM-12.00 AM", "12.00 AM-02.00 PM")."""
    at = _to_time(hour, minute, meridiem, label)
    if meridiem and meridiem.lower() == "am" and at.hour == 0:
        return [at, at.replace(hour=12)]
    return [at]


def _wall_minutes(start: time, end: time, next_day: bool) -> int:
    return (end.hour * 60 + end.minute + (24 * 60 if next_day else 0)) - (
        start.hour * 60 + start.minute
    )


def parse_label(raw) -> tuple[time, time, bool]:
    """(start, end, end_is_next_day). An end of midnight closes the day it started.

    "12.xx AM" is midnight unless that reading ends at or before its start or lasts longer
    than MAX_SLOT_MINUTES; then it is noon. A range longer than that either way is refused.
    """
    if not isinstance(raw, str):
        raise TimeFormatError('Enter a time range such as "12.00 PM-02.00 PM" or "12:00-14:00".')
    match = _LABEL.match(raw)
    if not match:
        raise TimeFormatError(
            f'"{raw}" is not a time range. Use "12.00 PM-02.00 PM" or "12:00-14:00".'
        )
    longest = settings.MAX_SLOT_MINUTES
    too_long = None
    # Midnight first; a noon reading only where midnight cannot be meant.
    for start in _readings(*match.group(1, 2, 3), raw):
        for end in _readings(*match.group(4, 5, 6), raw):
            next_day = end == time(0, 0) and start != time(0, 0)
            minutes = _wall_minutes(start, end, next_day)
            if 0 < minutes <= longest:
                return start, end, next_day
            if minutes > longest and too_long is None:
                too_long = minutes
    if too_long is not None:
        raise TimeFormatError(too_long_message(raw, too_long))
    raise TimeFormatError(f'"{raw}": the end must be after the start.')


def too_long_message(label, minutes: int) -> str:
    return (
        f'"{label}" lasts {minutes} minutes; a slot lasts at most '
        f"{settings.MAX_SLOT_MINUTES} minutes."
    )


def local_to_utc(day: date, at: time, *, what: str = "") -> datetime:
    """A wall-clock time in the clinic's zone as an aware UTC instant (see DST rules above)."""
    tz = clinic_tz()
    first = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of two, if repeated
    try:
        round_trip = first.astimezone(UTC).astimezone(tz)
    except OverflowError:
        raise _beyond_the_calendar(day) from None
    if round_trip.replace(tzinfo=None) != first.replace(tzinfo=None):
        raise TimeFormatError(
            f"{what or at.strftime('%H:%M')} on {day.isoformat()} does not exist in "
            f"{settings.CLINIC_TIME_ZONE}: the clocks skip it for daylight saving time."
        )
    return first.astimezone(UTC)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime


def label_to_interval(day, label) -> Interval:
    """A reference date and label as an aware UTC interval."""
    local_day = parse_date(day)
    start, end, next_day = parse_label(label)
    start_at = local_to_utc(local_day, start, what=f'"{label}"')
    end_day = _next_day(local_day) if next_day else local_day
    end_at = local_to_utc(end_day, end, what=f'"{label}"')
    if end_at <= start_at:
        raise TimeFormatError(f'"{label}": the end must be after the start.')
    minutes = int((end_at - start_at).total_seconds() // 60)
    if minutes > settings.MAX_SLOT_MINUTES:  # longer in real time than on the clock (DST)
        raise TimeFormatError(too_long_message(label, minutes))
    return Interval(start_at, end_at)


def _next_day(day: date) -> date:
    try:
        return day + timedelta(days=1)
    except OverflowError:
        raise _beyond_the_calendar(day) from None


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a clinic-local calendar day in UTC (23 or 25 hours on DST days).
    DateOutOfRange for the first and last days of the calendar, whose bounds it cannot hold."""
    tz = clinic_tz()
    try:
        start = datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(_next_day(day), time(0, 0), tzinfo=tz).astimezone(UTC)
    except OverflowError:
        raise _beyond_the_calendar(day) from None
    return start, end


def _clock(at: datetime) -> str:
    hour = at.hour % 12 or 12
    return f"{hour:02d}.{at.minute:02d} {'PM' if at.hour >= 12 else 'AM'}"


def format_date(at: datetime | date) -> str:
    """'Saturday, May 27, 2023', as the reference client's toLocaleDateString writes it."""
    if isinstance(at, datetime):
        at = at.astimezone(clinic_tz()).date()
    return _date_text(at)


@lru_cache(maxsize=4096)
def _date_text(day: date) -> str:
    # Pure (a date's name never changes), and a list shows the same few dates many times.
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def slot_texts(start: datetime, end: datetime) -> tuple[str, str, str, str]:
    """(local_iso(start), local_iso(end), format_date(start), format_label(start, end)) with
    each instant converted to the clinic's zone once: lists call this for every row."""
    return _slot_texts(start, end, clinic_tz())


@lru_cache(maxsize=16384)
def _slot_texts(start: datetime, end: datetime, tz) -> tuple[str, str, str, str]:
    # Pure, and a day's availability shows the same few hundred slots on every request.
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return (
        local_start.isoformat(),
        local_end.isoformat(),
        _date_text(local_start.date()),
        f"{_clock(local_start)}-{_clock(local_end)}",
    )


def format_label(start: datetime, end: datetime) -> str:
    tz = clinic_tz()
    return f"{_clock(start.astimezone(tz))}-{_clock(end.astimezone(tz))}"


def format_clock(at: datetime) -> str:
    """'10.00 AM' in the clinic's zone: one instant as a label writes it."""
    return _clock(at.astimezone(clinic_tz()))


def format_when(start: datetime, end: datetime | None = None) -> str:
    """'Saturday, May 27, 2023, 10.00 AM-11.00 AM' (without `end`: '…, 10.00 AM'): the date
    and time of an appointment wherever it is written (pages, mails, .ics, the admin)."""
    time_text = format_label(start, end) if end is not None else format_clock(start)
    return f"{format_date(start)}, {time_text}"


def local_iso(at: datetime) -> str:
    """ISO 8601 with the clinic's offset."""
    return at.astimezone(clinic_tz()).isoformat()
