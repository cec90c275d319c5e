"""Every write on payments (ARCHITECTURE invariants 2, 4 and 5).

Lock order is the one bookings.services uses: slot, then booking, then payment.
Stripe is only asked through payments.stripe_gateway; when it cannot be reached
the transaction rolls back and nothing here or on the booking changes.

A Payment's status only moves forward through its guard methods (`can_succeed`,
`can_fail`, `can_refund`), so the POST payment call and the webhook may both
arrive, in any order and more than once, and the result is the same.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.exceptions import APIException, NotFound, ValidationError

from accounts.models import User
from bookings.models import Booking, BookingStatus, PaymentStatus
from bookings.notifications import (
    send_after_commit,
    send_booking_confirmed,
    send_payment_refunded_seat_gone,
)
from bookings.services import SeatNoLongerAvailable, booking_confirm_paid
from doctors_portal.api.errors import Conflict, PaymentProviderUnavailable
from payments import stripe_gateway as gateway
from payments.errors import PaymentProviderRejected
from payments.models import Payment, PaymentState, Refund, StripeEvent
from scheduling.models import Slot

logger = logging.getLogger(__name__)

SEAT_GONE_REASON = "The seat was given to another patient before the payment arrived."
# Refund statuses that mean money is (being) returned; failed and canceled ones are not.
COUNTED_REFUND_STATUSES = ("succeeded", "pending", "requires_action")


class Outcome:
    CONFIRMED = "confirmed"
    ALREADY_APPLIED = "already applied"
    REFUNDED_SEAT_GONE = "refunded: seat no longer available"


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    booking: Booking
    result: str


def _booking_key(booking: Booking) -> str:
    # The creation time keeps keys unique even if ids restart (a fresh database, same account).
    return f"doctors-portal-booking-{booking.pk}-{int(booking.created_at.timestamp())}"


def _lock_booking(booking_id: int) -> Booking:
    slot_id = Booking.objects.values_list("slot_id", flat=True).get(pk=booking_id)
    list(Slot.objects.select_for_update().filter(pk=slot_id))
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("slot", "service")
        .get(pk=booking_id)
    )


def _lock_payment(payment_id: int) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


def _booking_refused(booking: Booking, now) -> str:
    """Why this booking cannot be paid now, or '' when it can."""
    if booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED):
        return "This booking is already paid."
    if booking.status == BookingStatus.PENDING_PAYMENT and booking.expires_at > now:
        return ""
    if booking.status in (BookingStatus.PENDING_PAYMENT, BookingStatus.EXPIRED):
        return "The hold on this booking has lapsed. Please book the time again."
    return f"A booking that is {booking.get_status_display().lower()} cannot be paid."


@transaction.atomic
def payment_intent_for_booking(*, patient: User, booking_id: int, now=None) -> Payment:
    """The booking's one PaymentIntent, created on first call and reused after.

    The amount and currency are the booking's own; nothing the client sends is charged.
    """
    now = now or timezone.now()
    # Only the booking row is locked: the slot stays free for others during the Stripe call.
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .filter(pk=booking_id, patient=patient)
        .first()
    )
    if booking is None:
        raise NotFound("No such booking.")
    refusal = _booking_refused(booking, now)
    if refusal:
        raise Conflict(refusal, path="bookingId")
    payment = Payment.objects.select_for_update().filter(booking=booking).first()
    if payment is not None:
        return payment
    intent = gateway.create_payment_intent(
        amount=booking.price,
        currency=booking.currency,
        booking_id=booking.pk,
        idempotency_key=f"{_booking_key(booking)}-payment-intent",
    )
    if intent.amount != booking.price or intent.currency != booking.currency.lower():
        # Only possible if Stripe replayed another request under our key: never reuse it.
        logger.error("PaymentIntent %s does not match booking %s", intent.id, booking.pk)
        raise PaymentProviderRejected()
    return Payment.objects.create(
        booking=booking,
        intent_id=intent.id,
        client_secret=intent.client_secret,
        amount=booking.price,
        currency=booking.currency,
        status=PaymentState.REQUIRES_PAYMENT,
        created_at=now,
    )


def _payment_matching(intent: gateway.Intent, booking_id: int | None) -> Payment:
    """The Payment this intent was created for, if it really is that booking's."""
    payment = Payment.objects.filter(intent_id=intent.id).first()
    belongs = (
        payment is not None
        and (booking_id is None or payment.booking_id == booking_id)
        and intent.booking_id == str(payment.booking_id)
    )
    if not belongs:
        raise ValidationError({"transactionid": ["This payment does not belong to this booking."]})
    return payment


@transaction.atomic
def payment_confirm_from_intent(
    *, intent: gateway.Intent, booking_id: int | None = None, now=None
) -> PaymentOutcome:
    """Confirm the booking an intent Stripe reports `succeeded` was created for.

    Shared by POST payment (which names the booking) and the webhook. The intent
    must belong to the booking and match its amount and currency. If the seat went
    to someone else while the payment was late, the money is refunded at once and
    the booking stays expired: no money is kept for a seat not given.
    """
    now = now or timezone.now()
    payment = _payment_matching(intent, booking_id)
    if not intent.succeeded:
        raise Conflict(
            f"The payment has not succeeded (Stripe status: {intent.status}).",
            path="transactionid",
        )
    if intent.amount != payment.amount or intent.currency != payment.currency.lower():
        # Our intents are created at the booking's price; a different one was altered at
        # Stripe. Nothing is confirmed; admins see the warning and the Stripe record.
        logger.warning(
            "PaymentIntent %s paid %s %s for booking %s priced %s %s",
            intent.id,
            intent.amount,
            intent.currency,
            payment.booking_id,
            payment.amount,
            payment.currency,
        )
        raise Conflict(
            "The amount paid does not match the booking's price; the booking is unchanged.",
            path="transactionid",
        )
    booking = _lock_booking(payment.booking_id)
    payment = _lock_payment(payment.pk)
    if not payment.can_succeed():
        return PaymentOutcome(payment, booking, Outcome.ALREADY_APPLIED)
    payment.status = PaymentState.SUCCEEDED
    payment.succeeded_at = now
    payment.failure_message = ""
    payment.save(update_fields=["status", "succeeded_at", "failure_message", "updated_at"])
    try:
        booking = booking_confirm_paid(booking_id=booking.pk, now=now)
    except SeatNoLongerAvailable:
        return _refund_unplaceable(payment=payment, booking=booking)
    send_after_commit(send_booking_confirmed, booking_id=booking.pk)
    return PaymentOutcome(payment, booking, Outcome.CONFIRMED)


def _refund_unplaceable(*, payment: Payment, booking: Booking) -> PaymentOutcome:
    refunded = _refund(
        payment=payment, booking=booking, amount=payment.amount, reason=SEAT_GONE_REASON
    )
    if booking.status == BookingStatus.PENDING_PAYMENT:
        booking.status = BookingStatus.EXPIRED
        booking.save(update_fields=["status", "updated_at"])
    send_after_commit(
        send_payment_refunded_seat_gone, booking_id=booking.pk, refund_amount=refunded
    )
    return PaymentOutcome(payment, booking, Outcome.REFUNDED_SEAT_GONE)


@transaction.atomic
def payment_record_failure(*, intent: gateway.Intent) -> Payment | None:
    """Record a declined or failed attempt. A late failure never un-pays a payment."""
    payment = Payment.objects.filter(intent_id=intent.id).first()
    if payment is None:
        return None
    booking = _lock_booking(payment.booking_id)
    payment = _lock_payment(payment.pk)
    if not payment.can_fail():
        return payment
    payment.status = PaymentState.FAILED
    payment.failure_message = (intent.error_message or "The payment failed.")[:500]
    payment.save(update_fields=["status", "failure_message", "updated_at"])
    if booking.payment_status in (PaymentStatus.UNPAID, PaymentStatus.PROCESSING):
        booking.payment_status = PaymentStatus.FAILED
        booking.save(update_fields=["payment_status", "updated_at"])
    return payment


@transaction.atomic
def payment_record_processing(*, intent: gateway.Intent) -> Payment | None:
    payment = Payment.objects.filter(intent_id=intent.id).first()
    if payment is None:
        return None
    booking = _lock_booking(payment.booking_id)
    payment = _lock_payment(payment.pk)
    if payment.status == PaymentState.REQUIRES_PAYMENT:
        payment.status = PaymentState.PROCESSING
        payment.save(update_fields=["status", "updated_at"])
        if booking.payment_status == PaymentStatus.UNPAID:
            booking.payment_status = PaymentStatus.PROCESSING
            booking.save(update_fields=["payment_status", "updated_at"])
    return payment


def _apply_refunded_total(*, payment: Payment, booking: Booking, total: Decimal) -> None:
    """Set how much of the payment is refunded. Moves forward only, never past the amount."""
    total = min(total, payment.amount)
    if total <= payment.amount_refunded:
        return
    payment.amount_refunded = total
    fully = total >= payment.amount
    payment.status = PaymentState.REFUNDED if fully else PaymentState.PARTIALLY_REFUNDED
    payment.save(update_fields=["amount_refunded", "status", "updated_at"])
    booking.payment_status = PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
    booking.save(update_fields=["payment_status", "updated_at"])


def _refund(*, payment: Payment, booking: Booking, amount: Decimal, reason: str) -> Decimal:
    """Refund through Stripe; the caller holds the payment's lock."""
    amount = min(amount, payment.refundable_amount)
    if not payment.can_refund() or amount <= 0:
        return Decimal("0")
    refund = gateway.create_refund(
        intent_id=payment.intent_id,
        amount=amount,
        currency=payment.currency,
        # Per booking and amount; what was refunded before keeps a second,
        # legitimate partial refund of the same amount from replaying the first.
        idempotency_key=f"{_booking_key(booking)}-refund-{amount}-after-{payment.amount_refunded}",
        metadata={"booking_id": booking.pk, "reason": reason},
    )
    Refund.objects.get_or_create(
        refund_id=refund.id,
        defaults={
            "payment": payment,
            "amount": refund.amount,
            "reason": reason[:255],
            "status": refund.status or "succeeded",
        },
    )
    _apply_refunded_total(
        payment=payment, booking=booking, total=payment.amount_refunded + refund.amount
    )
    return refund.amount


@transaction.atomic
def payment_refund_booking(*, booking: Booking, amount: Decimal, reason: str) -> Decimal:
    """Refund `amount` of a paid booking through Stripe; returns the amount refunded.

    Called by bookings.services.booking_cancel, which holds the slot and booking
    locks. If Stripe cannot be reached this raises and the cancellation rolls back.
    """
    payment = Payment.objects.select_for_update().filter(booking=booking).first()
    if payment is None:
        raise Conflict("This booking has no recorded payment to refund; contact the clinic.")
    return _refund(payment=payment, booking=booking, amount=amount, reason=reason)


# Webhook events ---------------------------------------------------------------


def _on_intent_succeeded(obj: dict, now) -> str:
    return payment_confirm_from_intent(intent=gateway.intent_from_dict(obj), now=now).result


def _on_intent_failed(obj: dict, now) -> str:
    payment = payment_record_failure(intent=gateway.intent_from_dict(obj))
    if payment is None:
        return "ignored: unknown payment"
    return f"payment {payment.status}"


def _on_intent_processing(obj: dict, now) -> str:
    payment = payment_record_processing(intent=gateway.intent_from_dict(obj))
    return "ignored: unknown payment" if payment is None else f"payment {payment.status}"


def _locked_payment_for_intent(intent_id: str | None) -> tuple[Payment, Booking] | None:
    payment = Payment.objects.filter(intent_id=intent_id).first() if intent_id else None
    if payment is None:
        return None
    booking = _lock_booking(payment.booking_id)
    return _lock_payment(payment.pk), booking


def _on_charge_refunded(obj: dict, now) -> str:
    intent_id, total = gateway.charge_refunded_amount(obj)
    found = _locked_payment_for_intent(intent_id)
    if found is None:
        return "ignored: unknown payment"
    payment, booking = found
    _apply_refunded_total(payment=payment, booking=booking, total=total)
    return f"payment {payment.status}, refunded {payment.amount_refunded}"


def _on_refund_event(obj: dict, now) -> str:
    refund = gateway.refund_from_dict(obj)
    found = _locked_payment_for_intent(refund.payment_intent_id)
    if found is None:
        return "ignored: unknown payment"
    payment, booking = found
    # Refunds made outside this app (the Stripe dashboard) are recorded here too.
    row, created = Refund.objects.get_or_create(
        refund_id=refund.id,
        defaults={
            "payment": payment,
            "amount": refund.amount,
            "reason": "Recorded from a Stripe event",
            "status": refund.status,
        },
    )
    if not created and row.status != refund.status:
        row.status = refund.status
        row.save(update_fields=["status"])
    counted = sum(
        (r.amount for r in payment.refunds.filter(status__in=COUNTED_REFUND_STATUSES)),
        Decimal("0"),
    )
    _apply_refunded_total(payment=payment, booking=booking, total=counted)
    return f"refund {refund.status}; payment {payment.status}"


EVENT_HANDLERS: dict[str, Callable[[dict, object], str]] = {
    "payment_intent.succeeded": _on_intent_succeeded,
    "payment_intent.payment_failed": _on_intent_failed,
    "payment_intent.processing": _on_intent_processing,
    "charge.refunded": _on_charge_refunded,
    "refund.created": _on_refund_event,
    "refund.updated": _on_refund_event,
}


@dataclass(frozen=True)
class EventResult:
    event: StripeEvent | None
    duplicate: bool
    outcome: str


@transaction.atomic
def stripe_event_apply(*, event: gateway.WebhookEvent, now=None) -> EventResult:
    """Apply a verified Stripe event once.

    Its StripeEvent row is inserted first, in the same transaction as the effect:
    a concurrent duplicate waits on the unique event_id and then changes nothing,
    and if the effect fails (Stripe unreachable during a refund) the row goes too,
    so Stripe's retry is applied later.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event.id, type=event.type, payload=event.payload, received_at=now
            )
    except IntegrityError:
        return EventResult(None, True, "duplicate: already applied")
    handler = EVENT_HANDLERS.get(event.type)
    if handler is None:
        outcome = "ignored: event type not handled"
    else:
        try:
            with transaction.atomic():
                outcome = handler(event.object, now)
        except (PaymentProviderUnavailable, PaymentProviderRejected):
            raise
        except (APIException, Booking.DoesNotExist) as exc:
            # A refused event (not ours, wrong amount…) is recorded, not retried forever.
            outcome = f"refused: {_detail(exc)}"
            logger.warning("Stripe event %s (%s) refused: %s", event.id, event.type, outcome)
    record.applied_at = now
    record.outcome = outcome[:255]
    record.save(update_fields=["applied_at", "outcome"])
    return EventResult(record, False, record.outcome)


def _detail(exc: Exception) -> str:
    detail = getattr(exc, "detail", None) or str(exc)
    if isinstance(detail, dict):
        detail = "; ".join(str(v[0] if isinstance(v, list) else v) for v in detail.values())
    return str(detail)
