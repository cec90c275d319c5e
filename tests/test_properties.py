"""Property-based tests (Hypothesis): the date, label and paging parsers fed extreme values,
directly and through the API and the pages, on whichever database the suite runs on.

Every input either parses into something that keeps the rules (a label is a positive range
of at most MAX_SLOT_MINUTES, a day has bounds 23 to 25 hours apart, a page is from 1 to
MAX_PAGE) or is refused with the parsers' own error, which the API turns into a 400. No
input reaches an OverflowError or a database's integer range (a 500).
"""

from datetime import date, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from doctors_portal.api.pagination import MAX_PAGE, bounded_int, positive_int
from scheduling import selectors, timefmt
from scheduling.api import DoctorSlotsPagination
from tests.factories import ServiceFactory
from tests.scheduling.helpers import clinic_day

pytestmark = pytest.mark.django_db

# Bounded for CI; derandomized so a run is repeatable, and no example database on disk.
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

EXTREME_INTS = st.one_of(
    st.integers(),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**63 + 2),
    st.integers(min_value=10**18, max_value=10**40),
    st.integers(max_value=0),
    st.sampled_from([MAX_PAGE, MAX_PAGE + 1, 99999999999999999999]),
)
NUMBERISH = st.one_of(
    EXTREME_INTS.map(str),
    st.text(max_size=30),
    st.sampled_from(["", " ", "1e3", "0x10", "1_000", "+5", "-0", "١٢", "9" * 5000]),
)
ANY_DATE = st.one_of(
    st.dates(),
    st.sampled_from([date.min, date.max, date(1, 1, 2), date(9999, 12, 30)]),
)
DATE_TEXT = st.one_of(
    ANY_DATE.map(date.isoformat),
    ANY_DATE.map(lambda d: f"{d:%A}, {d:%B} {d.day}, {d.year}"),
    st.text(max_size=40),
    st.from_regex(r"\A\d{4,6}-\d{1,3}-\d{1,3}\Z"),
)
CLOCK = st.tuples(st.integers(0, 99), st.sampled_from(["", "00", "15", "30", "59", "60", "99"]))
MERIDIEM = st.sampled_from(["", " AM", " PM", " am", " Pm", "AM"])


@st.composite
def labels(draw) -> str:
    """Labels in the reference's shapes, with hours and minutes anywhere from 0 to 99."""

    def one() -> str:
        hour, minute = draw(CLOCK)
        sep = draw(st.sampled_from([".", ":"]))
        text = f"{hour:02d}{sep}{minute}" if minute else f"{hour:02d}"
        return text + draw(MERIDIEM)

    dash = draw(st.sampled_from(["-", " - ", "\u2013"]))  # the en dash too
    return f"{one()}{dash}{one()}"


LABEL_TEXT = st.one_of(labels(), st.text(max_size=30))


# ------------------------------------------------------------------ parsers


@PROPERTY
@given(raw=NUMBERISH)
def test_page_numbers_are_bounded_or_refused(raw):
    try:
        page = bounded_int(raw, name="page", default=1, maximum=MAX_PAGE)
    except ValidationError as exc:
        assert "page" in exc.detail
    else:
        assert 1 <= page <= MAX_PAGE
    try:
        limit = positive_int(raw, name="limit", default=10, maximum=100)
    except ValidationError as exc:
        assert "limit" in exc.detail
    else:
        assert 1 <= limit <= 100


@PROPERTY
@given(raw=DATE_TEXT)
def test_dates_parse_or_are_refused(raw):
    try:
        day = timefmt.parse_date(raw)
    except timefmt.TimeFormatError:
        return
    assert isinstance(day, date)
    assert timefmt.parse_date(day.isoformat()) == day


@PROPERTY
@given(day=ANY_DATE)
def test_any_date_has_bounds_or_is_out_of_range(day):
    try:
        start, end = timefmt.day_bounds(day)
    except timefmt.DateOutOfRange as exc:
        assert day in (date.min, date.max) and str(exc).startswith("Date out of range")
    else:
        assert timedelta(hours=23) <= end - start <= timedelta(hours=25)
    assert timefmt.format_date(day)  # every date has a name


@PROPERTY
@given(day=ANY_DATE)
def test_only_today_to_the_horizon_is_bookable(day):
    now = timefmt.local_to_utc(clinic_day(0), time(9))
    today = timefmt.clinic_today(now)
    try:
        assert selectors.bookable_day(day=day, now=now) == day
    except timefmt.DateOutOfRange as exc:
        assert exc.past == (day < today)
        assert day < today or day > selectors.publish_horizon(now=now)
    else:
        assert today <= day <= selectors.publish_horizon(now=now)


@PROPERTY
@given(raw=LABEL_TEXT)
def test_labels_are_positive_ranges_of_at_most_max_minutes(raw):
    try:
        start, end, next_day = timefmt.parse_label(raw)
    except timefmt.TimeFormatError:
        return
    minutes = (end.hour * 60 + end.minute + (1440 if next_day else 0)) - (
        start.hour * 60 + start.minute
    )
    assert 0 < minutes <= 240
    assert next_day == (end == time(0) and start != time(0))


@PROPERTY
@given(day=ANY_DATE, raw=labels())
def test_an_interval_is_real_and_its_label_reads_back_the_same(day, raw):
    try:
        interval = timefmt.label_to_interval(day, raw)
    except timefmt.TimeFormatError:
        return
    assert timedelta(0) < interval.end - interval.start <= timedelta(minutes=240)
    # The labels we write are read back as the same interval (noon never becomes midnight).
    shown = timefmt.format_label(interval.start, interval.end)
    assert timefmt.label_to_interval(day, shown) == interval


# ------------------------------------------------------------------ through HTTP


@PROPERTY
@given(page=NUMBERISH, limit=NUMBERISH)
def test_paged_lists_answer_200_or_400(client_for, admin_user, doctor, patient, page, limit):
    lists = [
        (admin_user, "/api/v1/users", {}, 100),
        (patient, "/api/v1/bookings", {"email": patient.email}, 100),
        (doctor, "/api/v1/booking-doctor", {"email": doctor.email}, 100),
        # The doctor's own view: both of its lists paged.
        (doctor, f"/api/v1/slot/{doctor.email}", {}, DoctorSlotsPagination.max_limit),
    ]
    for user, path, query, largest in lists:
        response = client_for(user).get(path, {**query, "page": page, "limit": limit})
        assert response.status_code in (200, 400), (path, page, limit, response.content[:300])
        body = response.json()
        if response.status_code == 200:
            assert 1 <= body["meta"]["page"] <= MAX_PAGE
            assert 1 <= body["meta"]["limit"] <= largest
        else:
            assert {e["path"] for e in body["errorMessages"]} <= {"page", "limit"}


@PROPERTY
@given(raw=DATE_TEXT)
def test_options_and_doctor_days_answer_200_or_400(api_client, client_for, doctor, raw):
    response = api_client.get("/api/v1/appointmentOptions", {"date": raw})
    assert response.status_code in (200, 400), (raw, response.content[:300])
    if response.status_code == 400:
        assert response.json()["errorMessages"][0]["path"] == "date"
    response = client_for(doctor).get(
        "/api/v1/booking-doctor", {"email": doctor.email, "date": raw}
    )
    assert response.status_code in (200, 400), (raw, response.content[:300])


@pytest.fixture
def service():
    return ServiceFactory(name="Teeth Cleaning")


@PROPERTY
@given(day=ANY_DATE)
def test_pages_answer_a_notice_for_any_date(client, service, day):
    for path in (reverse("pages:home"), reverse("pages:service", args=[service.pk])):
        response = client.get(path, {"date": day.isoformat()})
        assert response.status_code in (200, 400), (path, day)
        if response.status_code == 400:
            assert b'class="notice"' in response.content


@PROPERTY
@given(day=ANY_DATE, raw=LABEL_TEXT)
def test_publishing_any_date_and_label_is_201_or_400(client_for, doctor, service, day, raw):
    response = client_for(doctor).post(
        "/api/v1/slots",
        {"docSlot": [{"date": day.isoformat(), "slot": [raw]}], "service": service.pk},
        format="json",
    )
    assert response.status_code in (201, 400), (day, raw, response.content[:300])
    if response.status_code == 201:
        assert day <= selectors.publish_horizon(now=timezone.now())
