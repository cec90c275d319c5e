from datetime import UTC, date, datetime, time

import pytest
from django.test import override_settings

from scheduling import timefmt

# The suite-wide cache reset touches the database cache table.
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Saturday, May 27, 2023", date(2023, 5, 27)),
        ("Monday, June 5, 2023", date(2023, 6, 5)),
        ("monday,   june 5, 2023", date(2023, 6, 5)),
        ("2026-05-27", date(2026, 5, 27)),
        ("May 27, 2023", date(2023, 5, 27)),
    ],
)
def test_dates_parse(raw, expected):
    assert timefmt.parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "tomorrow", "2026-02-30", "Friday, May 27, 2023", "27/05/2023", None, 20260527, []],
)
def test_bad_dates_are_refused(raw):
    with pytest.raises(timefmt.TimeFormatError):
        timefmt.parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "start", "end", "next_day"),
    [
        ("12.00 PM-02.00 PM", time(12), time(14), False),
        ("03.00 Pm-04.00 PM", time(15), time(16), False),
        ("09.30 am - 10.15 am", time(9, 30), time(10, 15), False),
        ("12:00-14:00", time(12), time(14), False),
        ("10-12", time(10), time(12), False),
        ("12.00 AM-02.00 PM", time(12), time(14), False),  # the reference client's noon
        ("11.00 PM-12.00 AM", time(23), time(0), True),
    ],
)
def test_labels_parse(raw, start, end, next_day):
    assert timefmt.parse_label(raw) == (start, end, next_day)


@pytest.mark.parametrize(
    "raw",
    ["", "noon", "02.00 PM-12.00 PM", "13.00 PM-02.00 PM", "25:00-26:00", "10:70-11:00", 5, None],
)
def test_bad_labels_are_refused(raw):
    with pytest.raises(timefmt.TimeFormatError):
        timefmt.parse_label(raw)


@override_settings(CLINIC_TIME_ZONE="Asia/Dhaka")
def test_round_trip_in_clinic_zone():
    interval = timefmt.label_to_interval("Wednesday, May 27, 2026", "03.00 Pm-04.00 PM")
    assert interval.start == datetime(2026, 5, 27, 9, 0, tzinfo=UTC)
    assert interval.end == datetime(2026, 5, 27, 10, 0, tzinfo=UTC)
    assert timefmt.format_date(interval.start) == "Wednesday, May 27, 2026"
    assert timefmt.format_label(interval.start, interval.end) == "03.00 PM-04.00 PM"
    assert timefmt.local_iso(interval.start) == "2026-05-27T15:00:00+06:00"


@override_settings(CLINIC_TIME_ZONE="Asia/Dhaka")
def test_day_is_not_zero_padded_like_the_reference_client():
    assert timefmt.format_date(date(2023, 6, 5)) == "Monday, June 5, 2023"


class TestDaylightSaving:
    @pytest.fixture(autouse=True)
    def _new_york(self, settings):
        settings.CLINIC_TIME_ZONE = "America/New_York"

    def test_spring_forward_slot_spans_the_gap(self):
        # 01:00 EST (UTC-5) to 04:00 EDT (UTC-4): two real hours, not three.
        interval = timefmt.label_to_interval("2026-03-08", "01.00 AM-04.00 AM")
        assert interval.start == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)
        assert interval.end == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)
        assert timefmt.format_label(interval.start, interval.end) == "01.00 AM-04.00 AM"

    def test_time_that_does_not_exist_is_refused(self):
        with pytest.raises(timefmt.TimeFormatError, match="does not exist"):
            timefmt.label_to_interval("2026-03-08", "02.30 AM-03.30 AM")

    def test_repeated_hour_means_the_first_occurrence(self):
        # 01:30 happens twice on 2026-11-01; we take the first (EDT, UTC-4).
        interval = timefmt.label_to_interval("2026-11-01", "01.30 AM-02.30 AM")
        assert interval.start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
        assert interval.end == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)  # 02:30 EST
        assert timefmt.format_label(interval.start, interval.end) == "01.30 AM-02.30 AM"

    def test_day_bounds_follow_the_zone(self):
        start, end = timefmt.day_bounds(date(2026, 3, 8))
        assert (end - start).total_seconds() == 23 * 3600
        start, end = timefmt.day_bounds(date(2026, 11, 1))
        assert (end - start).total_seconds() == 25 * 3600
