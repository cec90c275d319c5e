"""Admin: payments to look into; refunds and Stripe events read-only (append-only)."""

import pytest
from django.test import Client

from payments.models import Payment, Refund, StripeEvent


@pytest.fixture
def admin_browser(admin_user):
    browser = Client()
    browser.force_login(admin_user)
    return browser


@pytest.fixture
def paid(booking, client_for, create_intent, pay):
    intent_id = create_intent(booking)
    pay(intent_id)
    client_for(booking.patient).post(
        "/api/v1/payment", {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    from bookings.services import booking_cancel

    booking_cancel(booking_id=booking.pk, by=booking.patient)
    StripeEvent.objects.create(event_id="evt_admin_1", type="x.y", payload={})
    return Payment.objects.get(booking=booking)


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["payment", "refund", "stripeevent"])
def test_admin_lists_and_shows_payment_records_read_only(admin_browser, paid, model):
    objects = {
        "payment": paid,
        "refund": Refund.objects.get(),
        "stripeevent": StripeEvent.objects.get(),
    }
    obj = objects[model]
    listing = admin_browser.get(f"/admin/payments/{model}/")
    assert listing.status_code == 200
    detail = admin_browser.get(f"/admin/payments/{model}/{obj.pk}/change/")
    assert detail.status_code == 200
    assert b'type="submit" value="Save"' not in detail.content
    assert admin_browser.get(f"/admin/payments/{model}/add/").status_code == 403
    assert admin_browser.post(f"/admin/payments/{model}/{obj.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_admin_payment_page_does_not_show_the_client_secret(admin_browser, paid):
    detail = admin_browser.get(f"/admin/payments/payment/{paid.pk}/change/")
    assert paid.client_secret.encode() not in detail.content


# ---- issue 17: a booking's page links to its payment and refunds, and cancels with refund


@pytest.fixture
def confirmed(booking, client_for, create_intent, pay):
    """A booking paid at localstripe and confirmed by the same sync POST payment uses."""
    intent_id = create_intent(booking)
    pay(intent_id)
    client_for(booking.patient).post(
        "/api/v1/payment", {"transactionid": intent_id, "bookingID": booking.pk}, format="json"
    )
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    return booking


@pytest.mark.django_db
def test_the_cancel_button_cancels_through_the_service_and_refunds_in_full(
    admin_browser, confirmed
):
    from bookings.models import Booking, BookingStatus, PaymentStatus

    page = admin_browser.get(f"/admin/bookings/booking/{confirmed.pk}/change/").content.decode()
    cancel_url = f"/admin/bookings/booking/{confirmed.pk}/cancel/"
    assert f'href="{cancel_url}"' in page
    payment = Payment.objects.get(booking=confirmed)
    assert f'href="/admin/payments/payment/{payment.pk}/change/"' in page

    confirm = admin_browser.get(cancel_url)
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert f"{confirmed.price} USD" in text and "the full amount is refunded" in text
    assert Booking.objects.get(pk=confirmed.pk).status == BookingStatus.CONFIRMED  # GET: nothing

    done = admin_browser.post(cancel_url, follow=True)
    assert done.redirect_chain[-1][0] == f"/admin/bookings/booking/{confirmed.pk}/change/"
    assert f"cancelled; refunded {confirmed.price} USD" in done.content.decode()
    booking = Booking.objects.select_related("slot").get(pk=confirmed.pk)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.payment_status == PaymentStatus.REFUNDED
    assert booking.slot.seats_taken == 0
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == confirmed.price

    # Both directions: booking -> payment and refunds; payment -> booking; refund -> both.
    page = done.content.decode()
    assert f'href="/admin/payments/refund/{refund.pk}/change/"' in page
    assert cancel_url not in page  # nothing left to cancel
    payment_page = admin_browser.get(f"/admin/payments/payment/{payment.pk}/change/")
    assert f'href="/admin/bookings/booking/{booking.pk}/change/"' in payment_page.content.decode()
    refund_page = admin_browser.get(f"/admin/payments/refund/{refund.pk}/change/").content.decode()
    assert f'href="/admin/payments/payment/{payment.pk}/change/"' in refund_page
    assert f'href="/admin/bookings/booking/{booking.pk}/change/"' in refund_page

    again = admin_browser.post(cancel_url, follow=True)
    assert "cannot be cancelled" in again.content.decode()
    assert Refund.objects.filter(payment=payment).count() == 1


@pytest.mark.django_db
def test_the_cancel_button_is_staff_only(client_for, confirmed, patient):
    from django.test import Client

    from bookings.models import Booking, BookingStatus

    browser = Client()
    browser.force_login(patient)
    response = browser.post(f"/admin/bookings/booking/{confirmed.pk}/cancel/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert Booking.objects.get(pk=confirmed.pk).status == BookingStatus.CONFIRMED
