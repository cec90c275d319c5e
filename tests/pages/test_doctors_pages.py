"""The doctors directory, a doctor's page, and the home page's first free date (issue 14),
with names written by accounts.names.display_name and times by scheduling.timefmt."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import DoctorProfile, User
from bookings.models import BookingStatus
from scheduling import timefmt
from tests.factories import BookingFactory, DoctorFactory, PatientFactory, ServiceFactory
from tests.scheduling.helpers import clinic_day, slot_at

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def dental(db):
    return ServiceFactory(name="Teeth Cleaning")


def test_directory_lists_verified_doctors_with_next_free_time(client, dental):
    nadia = DoctorFactory(name="Dr. Nadia Karim", profile__specialty=dental)
    nadia.doctor_profile.bio = "Twenty years of gentle dentistry."
    nadia.doctor_profile.save()
    DoctorFactory(name="Hidden Hasan", profile__verified=False)
    first = slot_at(clinic_day(3), "10.00 AM-11.00 AM", doctor=nadia, service=dental)
    page = html(client.get("/doctors/"))
    assert "Dr. Nadia Karim" in page and "Dr. Dr." not in page
    assert "Hidden Hasan" not in page
    assert "Twenty years of gentle dentistry." in page
    assert f"Next available: <strong>{timefmt.format_when(first.start)}</strong>" in page
    assert f'href="/doctors/{nadia.pk}/"' in page
    assert "1 doctor" in page


def test_directory_filters_by_specialty_and_search(client, dental):
    cardio = ServiceFactory(name="Cardiology")
    DoctorFactory(name="Jürgen Müller", profile__specialty=dental)
    DoctorFactory(name="Omar Faruk", profile__specialty=cardio)
    by_specialty = html(client.get("/doctors/", {"specialty": cardio.pk}))
    assert "Omar Faruk" in by_specialty and "Müller" not in by_specialty
    by_name = html(client.get("/doctors/", {"q": "MÜLLER"}))
    assert "Jürgen Müller" in by_name and "Omar" not in by_name
    none = html(client.get("/doctors/", {"q": "nobody"}))
    assert "No doctor matches." in none


@pytest.mark.parametrize(
    "query", [{"specialty": "999999"}, {"q": "x" * 101}, {"page": "0"}, {"page": "abc"}]
)
def test_directory_bad_input_is_400_with_every_doctor(client, query):
    DoctorFactory(name="Nadia Karim")
    response = client.get("/doctors/", query)
    assert response.status_code == 400
    assert "Nadia Karim" in html(response)
    assert 'class="errorlist"' in html(response)


def test_directory_pages(client):
    for i in range(12):
        DoctorFactory(name=f"Doctor {i:02d}")
    first = html(client.get("/doctors/"))
    assert "Doctor 09" in first and "Doctor 10" not in first
    assert "page=2" in first
    second = html(client.get("/doctors/", {"page": 2}))
    assert "Doctor 10" in second and "Doctor 09" not in second
    assert html(client.get("/doctors/", {"page": 99}))  # beyond the last: empty, not an error


def test_directory_queries_do_not_grow_with_doctors(client, dental):
    for i in range(3):
        d = DoctorFactory(name=f"Doctor {i}", profile__specialty=dental)
        slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=d, service=dental)
    with CaptureQueriesContext(connection) as few:
        client.get("/doctors/")
    for i in range(3, 10):
        d = DoctorFactory(name=f"Doctor {i}", profile__specialty=dental)
        slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=d, service=dental)
    with CaptureQueriesContext(connection) as many:
        client.get("/doctors/")
    assert len(few) == len(many) <= 4, [q["sql"] for q in many.captured_queries]


def test_doctor_page_shows_next_free_time_and_booking_links(client, dental):
    nadia = DoctorFactory(name="Nadia Karim", profile__specialty=dental)
    first = slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=nadia, service=dental)
    second = slot_at(clinic_day(3), "09.00 AM-10.00 AM", doctor=nadia, service=dental)
    full = slot_at(clinic_day(1), "09.00 AM-10.00 AM", doctor=nadia, service=dental)
    BookingFactory(slot=full, patient=PatientFactory(), status=BookingStatus.CONFIRMED)
    type(full).objects.filter(pk=full.pk).update(seats_taken=1)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/doctors/{nadia.pk}/")
    page = html(response)
    assert response.status_code == 200
    assert "<h1>Dr. Nadia Karim</h1>" in page
    assert f"Next available: <strong>{timefmt.format_when(first.start)}</strong>" in page
    assert f'href="/book/{first.pk}/"' in page and f'href="/book/{second.pk}/"' in page
    assert f'href="/book/{full.pk}/"' not in page
    assert timefmt.format_label(first.start, first.end) in page
    assert len(queries) <= 3, [q["sql"] for q in queries.captured_queries]


def test_doctor_page_without_free_times(client):
    nadia = DoctorFactory(name="Nadia Karim")
    assert "Dr. Nadia Karim has no free times at the moment." in html(
        client.get(f"/doctors/{nadia.pk}/")
    )


@pytest.mark.parametrize("who", ["unverified", "inactive", "licence expired", "patient"])
def test_doctor_page_is_404_for_anyone_but_a_verified_doctor(client, who):
    if who == "unverified":
        user = DoctorFactory(profile__verified=False)
    elif who == "inactive":
        user = DoctorFactory()
        User.objects.filter(pk=user.pk).update(is_active=False)
    elif who == "licence expired":  # accounts.credentials: not bookable, so not listed
        user = DoctorFactory()
        DoctorProfile.objects.filter(user=user).update(
            license_expires_on=timefmt.clinic_today() - timedelta(days=1)
        )
        assert f'href="/doctors/{user.pk}/"' not in html(client.get("/doctors/"))
    else:
        user = PatientFactory()
    assert client.get(f"/doctors/{user.pk}/").status_code == 404


def test_home_jumps_to_the_first_date_with_free_times(client, dental):
    doctor = DoctorFactory()
    later = slot_at(clinic_day(4), "10.00 AM-11.00 AM", doctor=doctor, service=dental)
    slot_at(clinic_day(6), "10.00 AM-11.00 AM", doctor=doctor, service=dental)
    page = html(client.get("/"))
    assert f"Free places on {timefmt.format_date(later.start)}" in page
    assert "the first free times are on" in page
    assert f'value="{clinic_day(4).isoformat()}"' in page
    # A date asked for is shown as asked.
    asked = html(client.get("/", {"date": clinic_day(1).isoformat()}))
    assert f"Free places on {timefmt.format_date(clinic_day(1))}" in asked
    assert "the first free times are on" not in asked


def test_home_without_any_free_time_shows_today(client, dental):
    page = html(client.get("/"))
    assert f"Free places on {timefmt.format_date(clinic_day(0))}" in page
    assert "the first free times are on" not in page


def test_home_lists_services_without_free_places_last(client):
    doctor = DoctorFactory()
    ServiceFactory(name="Allergy")  # first by name, no free place
    busy = ServiceFactory(name="Zoology Check")
    ServiceFactory(name="Bones")
    slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=doctor, service=busy)
    page = html(client.get("/", {"date": clinic_day(2).isoformat()}))
    order = [page.index(f'data-service="{name}"') for name in ("Zoology Check", "Allergy", "Bones")]
    assert order == sorted(order)


def test_pages_write_a_doctor_typed_with_dr_once(client, dental):
    doctor = DoctorFactory(name="dr. Tanvir Karim")
    slot = slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=doctor, service=dental)
    for path in ("/doctors/", f"/doctors/{doctor.pk}/", f"/?date={clinic_day(2).isoformat()}"):
        page = html(client.get(path))
        assert "Dr. Tanvir Karim" in page, path
        assert "Dr. dr." not in page and "Dr. Dr." not in page, path
    patient = PatientFactory()
    client.force_login(patient)
    page = html(client.get(f"/book/{slot.pk}/"))
    assert "Dr. Tanvir Karim" in page and "Dr. dr." not in page


def test_nav_links_the_directory(client):
    assert '<a href="/doctors/">Doctors</a>' in html(client.get("/"))


def test_next_available_counts_an_unpaid_hold_as_taken(client, dental):
    doctor = DoctorFactory(name="Nadia Karim")
    held = slot_at(clinic_day(1), "10.00 AM-11.00 AM", doctor=doctor, service=dental)
    BookingFactory(
        slot=held,
        patient=PatientFactory(),
        status=BookingStatus.PENDING_PAYMENT,
        expires_at=timezone.now() + timedelta(minutes=10),
    )
    type(held).objects.filter(pk=held.pk).update(seats_taken=1)
    free = slot_at(clinic_day(2), "10.00 AM-11.00 AM", doctor=doctor, service=dental)
    page = html(client.get(f"/doctors/{doctor.pk}/"))
    assert timefmt.format_when(free.start) in page
    assert timefmt.format_when(held.start) not in page
