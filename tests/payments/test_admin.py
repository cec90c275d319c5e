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
