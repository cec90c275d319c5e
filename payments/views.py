"""The payment page: Stripe.js and its Card Element, loaded from STRIPE_JS_URL.

The offline demo's stand-in Stripe.js is handled in payments.stand_in, not here.

The page asks payments.services for the booking's PaymentIntent, the browser pays it
with Stripe.js, and `pay_complete` calls payments.services.payment_sync, the same
sync from Stripe that POST payment and the webhook use. The page never
decides that a booking is paid: only an intent Stripe reports `succeeded` does.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bookings.models import BookingStatus
from doctors_portal.errors import DomainError
from doctors_portal.pages import page_status, service_errors
from doctors_portal.pages.bookings import booking_card
from payments import selectors, services, stand_in
from payments.errors import PaymentInFlight
from payments.services import SyncOutcome


def _payable_booking(request, pk):
    booking = selectors.booking_payable_by(user=request.user, booking_id=pk)
    if booking is None:
        raise Http404("No such booking.")
    return booking_card(booking, timezone.now())


def _render_pay(request, booking, payment):
    return render(
        request,
        "pages/pay.html",
        {
            "booking": booking,
            "payment": payment,
            "client_secret": payment.client_secret,
            **stand_in.pay_page_context(),
        },
    )


def _expired(request, booking, message: str):
    return render(
        request, "pages/hold_expired.html", {"booking": booking, "message": message}, status=409
    )


def _done(request, booking):
    if booking.shown_status == BookingStatus.CONFIRMED:
        messages.info(request, "This appointment is already paid and confirmed.")
    return redirect("pages:my_appointments")


@login_required
def pay(request, pk: int):
    booking = _payable_booking(request, pk)
    if booking.shown_status == BookingStatus.EXPIRED:
        return _expired(request, booking, "Your hold on this time ran out before payment.")
    if booking.shown_status != BookingStatus.PENDING_PAYMENT:
        return _done(request, booking)
    try:
        payment = services.payment_intent_for_booking(patient=request.user, booking_id=booking.pk)
    except DomainError as exc:
        message = " ".join(m for _p, m in service_errors(exc))
        if page_status(exc) == 409 and not isinstance(exc, PaymentInFlight):
            return _expired(request, booking, message)
        return render(
            request,
            "pages/pay_unavailable.html",
            {"booking": booking, "message": message},
            status=page_status(exc),
        )
    return _render_pay(request, booking, payment)


@login_required
@require_POST
def pay_complete(request, pk: int):
    booking = _payable_booking(request, pk)
    payment = selectors.payment_for_booking(booking=booking.booking)
    if payment is None:
        return redirect("pages:pay", pk=booking.pk)
    card_id = request.POST.get(stand_in.CARD_FIELD, "")
    if card_id and booking.shown_status == BookingStatus.EXPIRED:
        # Charging here is ours to decide: a lapsed hold is not charged at all.
        return _expired(request, booking, "Your hold on this time ran out before payment.")
    try:
        stand_in.confirm_card(payment=payment, card_id=card_id)
        # Whatever the browser says, the intent's state is read from Stripe itself.
        synced = services.payment_sync(intent_id=payment.intent_id, booking_id=booking.pk)
    except DomainError as exc:
        messages.error(request, " ".join(m for _p, m in service_errors(exc)))
        return redirect("pages:pay", pk=booking.pk)
    return _after_sync(request, synced)


def _after_sync(request, synced: services.PaymentSync):
    """Tell the patient what Stripe said; the same outcomes POST payment answers with."""
    outcome = synced.outcome
    if outcome == SyncOutcome.PROCESSING:
        messages.info(request, "Your bank is still processing the payment; check back soon.")
    elif outcome == SyncOutcome.NOT_COMPLETED:
        messages.error(request, "The payment was not completed; nothing was charged.")
        return redirect("pages:pay", pk=synced.booking.pk)
    elif outcome == SyncOutcome.DECLINED:
        reason = synced.decline_message or "The card was declined."
        messages.error(
            request,
            f"The payment did not go through: {reason} "
            "Your booking is still pending; try another card.",
        )
        return redirect("pages:pay", pk=synced.booking.pk)
    elif outcome == SyncOutcome.REFUNDED_CANCELLED:
        messages.error(
            request,
            "The payment arrived after this booking was cancelled. The full amount was refunded.",
        )
    elif outcome == SyncOutcome.REFUNDED_SEAT_GONE:
        messages.error(
            request,
            "The payment arrived after your hold ran out and the time went to someone else. "
            "The full amount was refunded.",
        )
    elif not synced.booking_is_confirmed:
        messages.error(request, services.booking_payment_summary(synced.booking))
    else:
        messages.success(request, "Payment received: your appointment is confirmed.")
        # The confirmation mail goes to the patient's address (bookings.notifications).
        messages.info(
            request,
            f"We emailed you a confirmation at {synced.booking.patient.email}, "
            "with the appointment attached for your calendar.",
        )
    return redirect("pages:my_appointments")
