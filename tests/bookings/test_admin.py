import pytest
from django.test import Client

from bookings import services as booking_services
from bookings.models import Booking, BookingStatus
from scheduling import timefmt
from scheduling.models import Slot, SlotStatus
from tests.factories import BookingFactory, PatientFactory, ServiceFactory, SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/scheduling/service/",
        "/admin/scheduling/service/?q=Teeth",
        "/admin/scheduling/slot/",
        "/admin/scheduling/slot/?q=example.com&status__exact=published",
        "/admin/scheduling/slot/?start__year=2026",
        "/admin/bookings/booking/",
        "/admin/bookings/booking/?q=example.com&status__exact=pending_payment",
        "/admin/bookings/booking/?payment_status__exact=paid&created_at__year=2026",
    ],
)
def test_changelists_search_and_filter(admin_client, path):
    BookingFactory(slot=SlotFactory(service=ServiceFactory(name="Teeth Cleaning")))
    assert admin_client.get(path).status_code == 200


def test_change_pages_render_and_booking_money_is_read_only(admin_client):
    booking = BookingFactory()
    assert admin_client.get(f"/admin/scheduling/slot/{booking.slot_id}/change/").status_code == 200
    response = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/")
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "price" not in form.fields and "status" not in form.fields
    assert admin_client.get("/admin/bookings/booking/add/").status_code == 403


def test_cancel_slot_action_goes_through_the_service(admin_client):
    free = SlotFactory()
    booked = SlotFactory()
    booking_services.booking_create(patient=PatientFactory(), slot_id=booked.pk)
    response = admin_client.post(
        "/admin/scheduling/slot/",
        {"action": "cancel_slots", "_selected_action": [free.pk, booked.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Slot.objects.get(pk=free.pk).status == SlotStatus.CANCELLED
    assert Slot.objects.get(pk=booked.pk).status == SlotStatus.PUBLISHED
    assert "active booking" in response.content.decode()


def test_admin_slot_form_refuses_overlap(admin_client, doctor):
    existing = SlotFactory(doctor=doctor)
    # The admin reads and shows times in clinic time.
    start, end = (at.astimezone(timefmt.clinic_tz()) for at in (existing.start, existing.end))
    response = admin_client.post(
        "/admin/scheduling/slot/add/",
        {
            "doctor": doctor.pk,
            "service": existing.service_id,
            "start_0": start.strftime("%Y-%m-%d"),
            "start_1": start.strftime("%H:%M:%S"),
            "end_0": end.strftime("%Y-%m-%d"),
            "end_1": end.strftime("%H:%M:%S"),
            "capacity": 1,
            "status": "published",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Overlaps" in response.content.decode()
    assert Slot.objects.filter(doctor=doctor).count() == 1


def test_cancel_booking_action_frees_the_seat(admin_client, admin_user):
    slot = SlotFactory()
    booking = booking_services.booking_create(patient=PatientFactory(), slot_id=slot.pk)
    admin_client.post(
        "/admin/bookings/booking/",
        {"action": "cancel_bookings", "_selected_action": [booking.pk]},
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and booking.cancelled_by == admin_user
    assert Slot.objects.get(pk=slot.pk).seats_taken == 0
    assert Booking.objects.count() == 1


# ---- issue 17: the bookings list and a booking's page in clinic time


def test_booking_list_and_page_show_clinic_time(admin_client):
    from datetime import UTC, datetime

    start = datetime(2099, 12, 2, 4, 0, tzinfo=UTC)  # 10.00 AM in Asia/Dhaka
    slot = SlotFactory(start=start, end=datetime(2099, 12, 2, 5, 0, tzinfo=UTC))
    booking = BookingFactory(slot=slot, created_at=datetime(2099, 12, 1, 20, 30, tzinfo=UTC))
    listing = admin_client.get("/admin/bookings/booking/").content.decode()
    assert "Wed 02 Dec 2099, 10.00 AM-11.00 AM" in listing
    assert f'href="/admin/bookings/booking/{booking.pk}/change/"' in listing
    for gone in ("column-price", "column-created_at"):  # on the booking's page instead
        assert gone not in listing
    page = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/").content.decode()
    assert "UTC" not in page
    assert "Dec. 2, 2099, 2:30 a.m." in page  # created 20:30 UTC = 02:30 next day in Dhaka
    slot_page = admin_client.get(f"/admin/scheduling/slot/{slot.pk}/change/").content.decode()
    assert 'value="10:00:00"' in slot_page  # the start as the clinic reads it
    assert "2099-12-02 10:00 Asia/Dhaka" in str(slot)


def test_a_closed_booking_offers_no_cancel_button(admin_client):
    booking = BookingFactory(status=BookingStatus.CANCELLED)
    page = admin_client.get(f"/admin/bookings/booking/{booking.pk}/change/").content.decode()
    assert "/cancel/" not in page
    confirm = admin_client.get(f"/admin/bookings/booking/{booking.pk}/cancel/").content.decode()
    assert "nothing to cancel" in confirm
    assert admin_client.get("/admin/bookings/booking/999999/cancel/").status_code == 302
