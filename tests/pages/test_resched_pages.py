"""The reschedule, waitlist and attendance pages (server side; the browser journeys are in
tests/e2e/test_resched_journeys.py)."""

import pytest
from django.test import Client

from bookings import services
from bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from scheduling.models import Slot
from tests.bookings.waitlist_helpers import confirmed_booking, hour_slot
from tests.factories import BookingFactory, PatientFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def service():
    return ServiceFactory(name="Consultation")


def test_my_appointments_offers_reschedule_and_it_moves(patient, doctor, service):
    old = hour_slot(doctor, service, hours_ahead=72)
    new = hour_slot(doctor, service, hours_ahead=96)
    booking = confirmed_booking(patient, old)
    client = signed_in(patient)
    page = client.get("/appointments/").content.decode()
    assert f"/appointments/{booking.pk}/reschedule/" in page
    choose = client.get(f"/appointments/{booking.pk}/reschedule/")
    assert choose.status_code == 200 and f'value="{new.pk}"' in choose.content.decode()
    response = client.post(f"/appointments/{booking.pk}/reschedule/", {"slot": new.pk})
    assert response.status_code == 302
    assert Booking.objects.get(pk=booking.pk).slot_id == new.pk


def test_reschedule_page_inside_cutoff_is_refused_for_the_patient(patient, doctor, service):
    soon = hour_slot(doctor, service, hours_ahead=3)
    later = hour_slot(doctor, service, hours_ahead=6)
    booking = confirmed_booking(patient, soon)
    client = signed_in(patient)
    assert (
        f"/appointments/{booking.pk}/reschedule/"
        not in client.get("/appointments/").content.decode()
    )
    assert client.get(f"/appointments/{booking.pk}/reschedule/").status_code == 409
    client.post(f"/appointments/{booking.pk}/reschedule/", {"slot": later.pk})
    assert Booking.objects.get(pk=booking.pk).slot_id == soon.pk
    assert (
        signed_in(PatientFactory()).get(f"/appointments/{booking.pk}/reschedule/").status_code
        == 404
    )


def test_full_slot_page_joins_waitlist_and_offer_is_claimed(patient, doctor, service):
    slot = hour_slot(doctor, service, hours_ahead=72)
    holder = confirmed_booking(PatientFactory(), slot)
    client = signed_in(patient)
    full = client.get(f"/book/{slot.pk}/")
    assert full.status_code == 409 and "join-waitlist" in full.content.decode()
    assert client.post(f"/book/{slot.pk}/waitlist/").status_code == 302
    listing = client.get("/waitlist/").content.decode()
    assert 'number <strong class="place">1</strong> in line' in listing
    services.booking_cancel(booking_id=holder.pk, by=doctor)
    listing = client.get("/waitlist/").content.decode()
    assert f"/book/{slot.pk}/" in listing and "claim-offer" in listing
    page = client.get(f"/book/{slot.pk}/")
    assert page.status_code == 200 and "offer-held" in page.content.decode()
    assert signed_in(PatientFactory()).get(f"/book/{slot.pk}/").status_code == 409
    response = client.post(f"/book/{slot.pk}/", {"phone": "+8801711111111"})
    assert response.status_code == 302, response.content.decode()[:500]
    assert WaitlistEntry.objects.get(patient=patient).status == WaitlistStatus.CLAIMED


def test_leave_waitlist_page(patient, doctor, service):
    slot = hour_slot(doctor, service, hours_ahead=72)
    confirmed_booking(PatientFactory(), slot)
    entry = services.waitlist_join(patient=patient, slot_id=slot.pk)
    assert signed_in(PatientFactory()).post(f"/waitlist/{entry.pk}/leave/").status_code == 404
    assert signed_in(patient).post(f"/waitlist/{entry.pk}/leave/").status_code == 302
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistStatus.LEFT


def test_dashboard_attendance_buttons_and_no_show_count(patient, doctor, other_doctor, service):
    from django.utils import timezone

    started = hour_slot(doctor, service, hours_ahead=-1)
    Slot.objects.filter(pk=started.pk).update(seats_taken=1)
    booking = BookingFactory(
        patient=patient, slot=started, status=BookingStatus.CONFIRMED, confirmed_at=timezone.now()
    )
    client = signed_in(doctor)
    page = client.get("/doctor/").content.decode()
    assert "mark-no-show" in page and f"/doctor/bookings/{booking.pk}/attendance/" in page
    assert (
        signed_in(other_doctor)
        .post(f"/doctor/bookings/{booking.pk}/attendance/", {"status": "no_show"})
        .status_code
        == 404
    )
    assert (
        client.post(f"/doctor/bookings/{booking.pk}/attendance/", {"status": "no_show"}).status_code
        == 302
    )
    assert Booking.objects.get(pk=booking.pk).status == BookingStatus.NO_SHOW
    page = client.get("/doctor/").content.decode()
    assert "1 no-show" in page and "mark-no-show" not in page
