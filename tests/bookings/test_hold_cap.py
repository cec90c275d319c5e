"""One patient holds at most MAX_ACTIVE_HOLDS_PER_PATIENT unpaid seats (API and pages, and
under concurrency); cancelling and booking again keeps the first hold's expiry; the
booking page is throttled by the same throttle, in the same bucket, as POST bookings."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from bookings import services
from bookings.models import Booking, BookingStatus
from tests.conftest import bearer_client
from tests.factories import PatientFactory, SlotFactory

CAP_MESSAGE = "Pay for or cancel a held appointment first"


def _slots(n: int, **fields):
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    return [
        SlotFactory(start=start + timedelta(hours=i), end=start + timedelta(hours=i, minutes=30))
        for i in range(n)
    ]


def api_book(client, slot):
    return client.post("/api/v1/bookings", {"slotId": slot.pk}, format="json")


def page_book(client, slot):
    return client.post(reverse("pages:book", args=[slot.pk]), {"phone": ""})


@pytest.fixture
def page_client(client, patient):
    client.force_login(patient)
    return client


@pytest.mark.django_db
class TestHoldCap:
    def test_a_third_unpaid_hold_is_409_through_the_api(self, client_for, patient):
        slots = _slots(3)
        client = client_for(patient)
        assert [api_book(client, s).status_code for s in slots[:2]] == [201, 201]
        response = api_book(client, slots[2])
        assert response.status_code == 409
        body = response.json()
        assert body["message"] == "Conflict"
        assert body["errorMessages"] == [{"path": "slotId", "message": CAP_MESSAGE}]
        assert Booking.objects.filter(patient=patient).count() == 2
        slots[2].refresh_from_db()
        assert slots[2].seats_taken == 0

    def test_a_third_unpaid_hold_is_refused_on_the_page(self, page_client, patient):
        slots = _slots(3)
        assert [page_book(page_client, s).status_code for s in slots[:2]] == [302, 302]
        response = page_book(page_client, slots[2])
        assert response.status_code == 409
        assert CAP_MESSAGE in response.content.decode()
        assert Booking.objects.filter(patient=patient).count() == 2

    def test_the_page_and_the_api_share_the_cap(self, client_for, page_client, patient):
        slots = _slots(3)
        assert api_book(client_for(patient), slots[0]).status_code == 201
        assert page_book(page_client, slots[1]).status_code == 302
        assert api_book(client_for(patient), slots[2]).status_code == 409

    def test_paying_cancelling_or_lapsing_frees_a_place(self, client_for, patient):
        slots = _slots(5)
        client = client_for(patient)
        with time_machine.travel(timezone.now(), tick=False) as clock:
            first, second = (api_book(client, s).json()["data"]["id"] for s in slots[:2])
            assert api_book(client, slots[2]).status_code == 409
            services.booking_confirm_paid(booking_id=first)  # paid: no longer a hold
            assert api_book(client, slots[2]).status_code == 201
            assert api_book(client, slots[3]).status_code == 409
            assert client.post(f"/api/v1/bookings/{second}/cancel").status_code == 200
            assert api_book(client, slots[3]).status_code == 201
            assert api_book(client, slots[4]).status_code == 409
            clock.shift(timedelta(minutes=15, seconds=1))  # both holds lapse
            client = client_for(patient)  # a fresh access token (they last 15 minutes)
            assert api_book(client, slots[4]).status_code == 201

    def test_the_cap_is_a_setting_and_per_patient(self, settings, client_for, patient):
        settings.MAX_ACTIVE_HOLDS_PER_PATIENT = 1
        slots = _slots(2)
        assert api_book(client_for(patient), slots[0]).status_code == 201
        assert api_book(client_for(patient), slots[1]).status_code == 409
        assert api_book(client_for(PatientFactory()), slots[1]).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_of_one_patient_never_pass_the_cap():
    """Real threads, one connection each, one patient pressing "book" on six slots at once."""
    patient = PatientFactory()
    slots = _slots(6)
    clients = [bearer_client(patient) for _ in slots]
    barrier = threading.Barrier(len(slots))
    codes: list[int] = []
    lock = threading.Lock()

    def attempt(client, slot):
        try:
            barrier.wait(timeout=30)
            code = api_book(client, slot).status_code
            with lock:
                codes.append(code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=attempt, args=pair) for pair in zip(clients, slots, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    print(f"{connection.vendor}: {sorted(codes)}")
    assert sorted(codes) == [201, 201, 409, 409, 409, 409]
    held = Booking.objects.filter(patient=patient, status=BookingStatus.PENDING_PAYMENT)
    assert held.count() == 2


@pytest.mark.django_db
class TestCancelThenRebook:
    def test_rebooking_keeps_the_first_holds_expiry(self, client_for, page_client, patient):
        (slot,) = _slots(1)
        client = client_for(patient)
        with time_machine.travel(timezone.now(), tick=False) as clock:
            first = api_book(client, slot).json()["data"]
            original = Booking.objects.get(pk=first["id"]).expires_at
            for rebook in (api_book, page_book, api_book):
                clock.shift(timedelta(minutes=4))
                latest = Booking.objects.filter(patient=patient, slot=slot).latest("id")
                assert client.post(f"/api/v1/bookings/{latest.pk}/cancel").status_code == 200
                assert rebook(client if rebook is api_book else page_client, slot).status_code in (
                    201,
                    302,
                )
                renewed = Booking.objects.filter(patient=patient, slot=slot).latest("id")
                assert renewed.pk != latest.pk and renewed.expires_at == original
            clock.shift(timedelta(minutes=3, seconds=1))  # 15 minutes after the first
            # The seat is free for anyone once the first window ends.
            assert api_book(client_for(PatientFactory()), slot).status_code == 201

    def test_after_the_window_a_new_hold_gets_its_own_time(self, client_for, patient):
        (slot,) = _slots(1)
        client = client_for(patient)
        with time_machine.travel(timezone.now(), tick=False) as clock:
            first = api_book(client, slot).json()["data"]["id"]
            client.post(f"/api/v1/bookings/{first}/cancel")
            clock.shift(timedelta(minutes=16))
            assert api_book(client_for(patient), slot).status_code == 201
            latest = Booking.objects.filter(patient=patient, slot=slot).latest("id")
            assert latest.expires_at == timezone.now() + timedelta(minutes=15)

    def test_another_slot_is_a_new_hold(self, client_for, patient):
        slots = _slots(2)
        client = client_for(patient)
        with time_machine.travel(timezone.now(), tick=False) as clock:
            api_book(client, slots[0])
            clock.shift(timedelta(minutes=5))
            api_book(client, slots[1])
            assert Booking.objects.get(slot=slots[1]).expires_at == timezone.now() + timedelta(
                minutes=15
            )


@pytest.mark.django_db
class TestPageThrottle:
    @pytest.fixture(autouse=True)
    def _two_a_minute(self, monkeypatch):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "booking", "2/min")

    def test_the_booking_page_is_throttled_like_the_api(self, page_client, patient):
        slots = _slots(3)
        codes = [page_book(page_client, s).status_code for s in slots]
        assert codes == [302, 302, 429]
        assert Booking.objects.filter(patient=patient).count() == 2

    def test_one_bucket_for_the_page_and_the_api(self, client_for, page_client, patient):
        slots = _slots(3)
        assert api_book(client_for(patient), slots[0]).status_code == 201
        assert page_book(page_client, slots[1]).status_code == 302
        third = page_book(page_client, slots[2])
        assert third.status_code == 429 and int(third["Retry-After"]) >= 1
        assert api_book(client_for(patient), slots[2]).status_code == 429

    def test_showing_the_form_is_not_counted(self, page_client):
        slots = _slots(1)
        for _ in range(4):
            assert page_client.get(reverse("pages:book", args=[slots[0].pk])).status_code == 200
