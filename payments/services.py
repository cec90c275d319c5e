"""Every write on payments (ARCHITECTURE invariants 2, 4 and 5).

One flow syncs a booking's payment from Stripe, whoever asks: `payment_sync` asks
Stripe how the PaymentIntent stands (outside any lock or transaction), then
`payment_apply_snapshot` applies that answer under the booking's locks. POST payment,
the payment page and the webhook all call it, so they cannot drift apart.

A Payment's status only moves forward through its guard methods (`can_process`,
`can_succeed`, `can_fail`, `can_refund`) and its refunded total never shrinks, so
answers and events may arrive late, in any order and more than once, and the result is
the same. The booking's `payment_status` is derived from the Payment
(`Payment.booking_payment_status`) and written by `_booking_payment_status_write` only.

Lock order is the seat ledger's (bookings.seats): slot, then booking, then payment.
When Stripe cannot be reached nothing here or on the booking changes.
"""

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking, BookingStatus
from bookings.notifications import notify_booking_confirmed, notify_payment_refunded_seat_gone
from bookings.seats import SeatNoLongerAvailable, booking_lock
from bookings.services import booking_confirm_paid
from doctors_portal.errors import (
    Conflict,
    DomainError,
    NotFound,
    PaymentProviderUnavailable,
)
from payments import stripe_gateway as gateway
from payments.errors import PaymentInFlight, PaymentProviderRejected
from payments.models import (
    ChargeStatus,
    Payment,
    PaymentIntentClaim,
    Refund,
    RefundStatus,
    StripeEvent,
)

logger = logging.getLogger(__name__)

SEAT_GONE_REASON = "The seat was given to another patient before the payment arrived."
CANCELLED_REASON = "The booking was cancelled before the payment arrived."
REFUND_UNREACHABLE = (
    "The payment provider could not be reached, so nothing was refunded and the booking "
    "is unchanged; try again."
)
NOT_THIS_BOOKINGS = "This payment does not belong to this booking."


class SyncOutcome(StrEnum):
    """What syncing a payment from Stripe found and did."""

    CONFIRMED = "confirmed"
    ALREADY_APPLIED = "already applied"
    REFUND_RECORDED = "refund recorded"
    REFUNDED_SEAT_GONE = "refunded: seat no longer available"
    REFUNDED_CANCELLED = "refunded: booking cancelled"
    PROCESSING = "processing"
    DECLINED = "declined"
    NOT_COMPLETED = "not completed"


@dataclass(frozen=True)
class PaymentSync:
    payment: Payment
    booking: Booking
    outcome: SyncOutcome
    # Stripe's own word on the intent (`processing`, `requires_payment_method`...).
    stripe_status: str = ""
    decline_message: str = ""

    @property
    def booking_is_confirmed(self) -> bool:
        """Paid, and the appointment stands (not cancelled or refunded away since)."""
        return self.booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)


def booking_payment_summary(booking: Booking) -> str:
    """A paid-once booking that no longer stands, in words (cancelled, refunded...)."""
    return (
        f"This booking is {booking.get_status_display().lower()}; "
        f"its payment is {booking.get_payment_status_display().lower()}."
    )


def _booking_key(booking: Booking) -> str:
    # The creation time keeps keys unique even if ids restart (a fresh database, same account).
    return f"doctors-portal-booking-{booking.pk}-{int(booking.created_at.timestamp())}"


def _lock_payment(payment_id: int) -> Payment:
    # Last in the seat ledger's lock order: slot, booking (bookings.seats), then payment.
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


PRICE_CHANGED = "The booking's price changed while its payment was set up; try again."
# Past the Stripe call's bound a claim is a call that died (its process killed): taken over.
CLAIM_MARGIN_SECONDS = 5


def payment_intent_for_booking(*, patient: User, booking_id: int, now=None) -> Payment:
    """The booking's one PaymentIntent, created on first call and reused after.

    The amount and currency are the booking's own; nothing the client sends is charged.
    No lock, transaction or database connection is held while Stripe answers (a Stripe
    that hung held all three, and 30 calls ran a worker's pool dry):

    1. under the booking's lock: check, reuse its Payment, or claim the creation and
       commit (a second call meanwhile is 409 at once, never queued on the lock);
    2. ask Stripe, with the booking's idempotency key (a retry, or a call taking over a
       dead one's claim, gets the same intent back: one intent per booking at Stripe);
    3. under the lock again: re-check (still held and unpaid, same price) and store.

    If the re-check fails the new intent is cancelled at Stripe. Nobody could pay it
    anyway (its client secret was never handed out), so if Stripe cannot be reached for
    the cancel it is left to Stripe, logged.
    """
    claimed = _intent_claim(patient=patient, booking_id=booking_id, now=now or timezone.now())
    if isinstance(claimed, Payment):
        return claimed
    booking, token = claimed
    try:
        intent = gateway.create_payment_intent(
            amount=booking.price,
            currency=booking.currency,
            booking_id=booking.pk,
            idempotency_key=f"{_booking_key(booking)}-payment-intent",
        )
    except BaseException:
        with transaction.atomic():
            _intent_claim_end(booking_id=booking.pk, token=token)
        raise
    if intent.amount != booking.price or intent.currency != booking.currency.lower():
        # Only possible if Stripe replayed another request under our key: never reuse
        # it, and never cancel it (it may be another's).
        logger.error("PaymentIntent %s does not match booking %s", intent.id, booking.pk)
        with transaction.atomic():
            _intent_claim_end(booking_id=booking.pk, token=token)
        raise PaymentProviderRejected()
    stored = _intent_store(
        patient=patient, booking=booking, token=token, intent=intent, now=now or timezone.now()
    )
    if isinstance(stored, Payment):
        return stored
    try:
        gateway.cancel_payment_intent(intent.id)
    except DomainError:
        logger.warning("PaymentIntent %s of booking %s left to expire", intent.id, booking.pk)
    raise Conflict(stored, path="bookingId")


def _booking_locked(*, patient: User, booking_id: int) -> Booking:
    # Only the booking row is locked: the slot stays free for others.
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .filter(pk=booking_id, patient=patient)
        .first()
    )
    if booking is None:
        raise NotFound("No such booking.")
    return booking


@transaction.atomic
def _intent_claim(*, patient: User, booking_id: int, now) -> Payment | tuple[Booking, str]:
    """Step 1: the booking's Payment if it has one, else (booking, claim token)."""
    booking = _booking_locked(patient=patient, booking_id=booking_id)
    refusal = _booking_refused(booking, now)
    if refusal:
        raise Conflict(refusal, path="bookingId")
    payment = Payment.objects.filter(booking=booking).first()
    if payment is not None:
        return payment
    stale = now - timedelta(seconds=gateway.call_bound_seconds() + CLAIM_MARGIN_SECONDS)
    if PaymentIntentClaim.objects.filter(booking=booking, claimed_at__gt=stale).exists():
        raise PaymentInFlight(path="bookingId")
    token = uuid.uuid4().hex
    PaymentIntentClaim.objects.update_or_create(
        booking=booking, defaults={"token": token, "claimed_at": now}
    )
    return booking, token


def _intent_claim_end(*, booking_id: int, token: str) -> None:
    PaymentIntentClaim.objects.filter(booking_id=booking_id, token=token).delete()


@transaction.atomic
def _intent_store(
    *, patient: User, booking: Booking, token: str, intent: gateway.Intent, now
) -> Payment | str:
    """Step 3: the stored Payment, or why the booking can no longer take this intent."""
    claimed_price = booking.price
    booking = _booking_locked(patient=patient, booking_id=booking.pk)
    _intent_claim_end(booking_id=booking.pk, token=token)
    payment = Payment.objects.filter(booking=booking).first()
    if payment is not None:
        # A call that took over a dead claim stored it first: the same intent (same key).
        return payment
    refusal = _booking_refused(booking, now)
    if refusal:
        return refusal
    if booking.price != claimed_price:
        return PRICE_CHANGED
    return Payment.objects.create(
        booking=booking,
        intent_id=intent.id,
        client_secret=intent.client_secret,
        amount=booking.price,
        currency=booking.currency,
        status=ChargeStatus.REQUIRES_PAYMENT,
        created_at=now,
    )


# The one flow: ask Stripe, then apply the answer ------------------------------------


def payment_sync(*, intent_id: str, booking_id: int | None = None, now=None) -> PaymentSync:
    """Ask Stripe how this PaymentIntent stands and apply the answer to its booking.

    `booking_id`, when the caller names a booking (POST payment, the page), must be the
    intent's own: checked before Stripe is asked, so another booking's intent never
    applies here. Stripe is asked outside any transaction: no lock is held while it
    answers.
    """
    payment = Payment.objects.filter(intent_id=intent_id).only("pk", "booking_id").first()
    if payment is None or (booking_id is not None and payment.booking_id != booking_id):
        raise DomainError(errors={"transactionid": [NOT_THIS_BOOKINGS]})
    snapshot = gateway.retrieve_payment(intent_id)
    return payment_apply_snapshot(payment_id=payment.pk, snapshot=snapshot, now=now)


@transaction.atomic
def payment_apply_snapshot(
    *, payment_id: int, snapshot: gateway.PaymentSnapshot, now=None
) -> PaymentSync:
    """Apply what Stripe said of a payment. Forward only: a stale answer changes nothing.

    The intent must be the one created for this booking, at its amount and currency.
    If the seat went to someone else while the payment was late, the money is refunded
    at once and the booking stays expired: no money is kept for a seat not given.
    """
    now = now or timezone.now()
    intent = snapshot.intent
    booking_id = Payment.objects.values_list("booking_id", flat=True).get(pk=payment_id)
    _slot, booking = booking_lock(booking_id=booking_id)
    payment = _lock_payment(payment_id)
    _check_intent_matches(payment, intent)
    booking, outcome = _apply_charge(payment=payment, booking=booking, intent=intent, now=now)
    refunds_moved = _apply_refunds(payment=payment, refunds=snapshot.refunds)
    if refunds_moved and outcome == SyncOutcome.ALREADY_APPLIED:
        outcome = SyncOutcome.REFUND_RECORDED
    _booking_payment_status_write(booking=booking, payment=payment)
    return PaymentSync(
        payment=payment,
        booking=booking,
        outcome=outcome,
        stripe_status=intent.status,
        decline_message=intent.error_message if outcome == SyncOutcome.DECLINED else "",
    )


def _check_intent_matches(payment: Payment, intent: gateway.Intent) -> None:
    if intent.booking_id != str(payment.booking_id):
        raise DomainError(errors={"transactionid": [NOT_THIS_BOOKINGS]})
    if intent.amount != payment.amount or intent.currency != payment.currency.lower():
        # Our intents are created at the booking's price; a different one was altered at
        # Stripe. Nothing is confirmed; admins see the warning and the Stripe record.
        logger.warning(
            "PaymentIntent %s is for %s %s, booking %s is priced %s %s",
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


def _apply_charge(
    *, payment: Payment, booking: Booking, intent: gateway.Intent, now
) -> tuple[Booking, SyncOutcome]:
    """Move the payment's charge status as far as the intent says, never back."""
    if intent.succeeded:
        if not payment.can_succeed():
            return booking, SyncOutcome.ALREADY_APPLIED
        payment.status = ChargeStatus.SUCCEEDED
        payment.succeeded_at = now
        payment.failure_message = ""
        payment.save(update_fields=["status", "succeeded_at", "failure_message", "updated_at"])
        try:
            booking = booking_confirm_paid(booking_id=booking.pk, now=now)
        except SeatNoLongerAvailable:
            return _refund_unplaceable(payment=payment, booking=booking)
        notify_booking_confirmed(booking=booking)
        return booking, SyncOutcome.CONFIRMED
    if payment.is_charged():
        # An older answer than the one applied already (a failure after the success).
        return booking, SyncOutcome.ALREADY_APPLIED
    if intent.status == "processing":
        if payment.can_process():
            payment.status = ChargeStatus.PROCESSING
            payment.save(update_fields=["status", "updated_at"])
        return booking, SyncOutcome.PROCESSING
    if intent.error_code or intent.error_message:
        if payment.can_fail():
            payment.status = ChargeStatus.FAILED
            payment.failure_message = (intent.error_message or "The payment failed.")[:500]
            payment.save(update_fields=["status", "failure_message", "updated_at"])
        return booking, SyncOutcome.DECLINED
    return booking, SyncOutcome.NOT_COMPLETED


def _apply_refunds(
    *, payment: Payment, refunds: Iterable[gateway.RefundResult], reason: str = ""
) -> bool:
    """Record Stripe's refunds of this payment; the refunded total only grows.

    Returns whether the total moved.
    """
    for refund in refunds:
        status = refund.status if refund.status in RefundStatus.values else RefundStatus.PENDING
        row, created = Refund.objects.get_or_create(
            refund_id=refund.id,
            defaults={
                "payment": payment,
                "amount": refund.amount,
                # Refunds made outside this app (the Stripe dashboard) are recorded too.
                "reason": (reason or "Recorded from Stripe")[:255],
                "status": status,
            },
        )
        if not created and row.status != status:
            row.status = status
            row.save(update_fields=["status"])
    counted = sum(
        (r.amount for r in payment.refunds.all() if r.is_counted),
        Decimal("0"),
    )
    total = min(max(counted, payment.amount_refunded), payment.amount)
    if total <= payment.amount_refunded:
        return False
    payment.amount_refunded = total
    fields = ["amount_refunded", "updated_at"]
    if payment.is_charged():
        payment.status = payment.refunded_status()
        fields.append("status")
    payment.save(update_fields=fields)
    return True


def _booking_payment_status_write(*, booking: Booking, payment: Payment) -> None:
    """The only writer of `Booking.payment_status`: the value derived from the Payment."""
    derived = payment.booking_payment_status
    if booking.payment_status != derived:
        booking.payment_status = derived
        booking.save(update_fields=["payment_status", "updated_at"])


# Refunds ---------------------------------------------------------------------------


def _refund_unplaceable(*, payment: Payment, booking: Booking) -> tuple[Booking, SyncOutcome]:
    """A payment for a seat the booking no longer holds: refunded in full, saying why
    (cancelled by the patient or the clinic, or the hold lapsed and the seat went)."""
    booking.refresh_from_db(fields=["status"])
    cancelled = booking.status == BookingStatus.CANCELLED
    refunded = _refund(
        payment=payment,
        booking=booking,
        amount=payment.amount,
        reason=CANCELLED_REASON if cancelled else SEAT_GONE_REASON,
    )
    if booking.status == BookingStatus.PENDING_PAYMENT:
        booking.status = BookingStatus.EXPIRED
        booking.save(update_fields=["status", "updated_at"])
    notify_payment_refunded_seat_gone(booking=booking, refund_amount=refunded)
    if cancelled:
        return booking, SyncOutcome.REFUNDED_CANCELLED
    return booking, SyncOutcome.REFUNDED_SEAT_GONE


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
    _apply_refunds(payment=payment, refunds=[refund], reason=reason)
    _booking_payment_status_write(booking=booking, payment=payment)
    return refund.amount


@transaction.atomic
def payment_refund_booking(*, booking: Booking, amount: Decimal, reason: str) -> Decimal:
    """Refund `amount` of a paid booking through Stripe; returns the amount refunded.

    Registered as bookings' refunder (payments.apps), so bookings.services.booking_cancel
    calls it while it holds the slot and booking locks. If Stripe cannot be reached this
    raises and the cancellation rolls back.
    """
    payment = Payment.objects.select_for_update().filter(booking=booking).first()
    if payment is None:
        raise Conflict("This booking has no recorded payment to refund; contact the clinic.")
    try:
        return _refund(payment=payment, booking=booking, amount=amount, reason=reason)
    except PaymentProviderUnavailable:
        # Its default says nothing was charged: here the money was charged, and stays.
        raise PaymentProviderUnavailable(REFUND_UNREACHABLE) from None


def payment_open_intent_close(*, booking: Booking) -> None:
    """A cancelled unpaid booking's open PaymentIntent is cancelled at Stripe once the
    cancellation commits, so the client secret handed out can charge nothing. Registered
    with bookings (payments.apps). Best effort: if Stripe fails, a payment made with it
    later is refunded as cancelled (_refund_unplaceable)."""
    payment = Payment.objects.filter(booking=booking).only("intent_id", "status").first()
    if payment is None or not payment.can_process():
        return  # no intent, or one charged or charging: Stripe cannot cancel those
    intent_id, booking_id = payment.intent_id, booking.pk
    # After the commit: outside any transaction, so the gateway hands the connection back.
    transaction.on_commit(lambda: _intent_cancel_best_effort(intent_id, booking_id))


def _intent_cancel_best_effort(intent_id: str, booking_id: int) -> None:
    try:
        gateway.cancel_payment_intent(intent_id)
    except DomainError:
        logger.warning("PaymentIntent %s of cancelled booking %s left open", intent_id, booking_id)


# Webhook events --------------------------------------------------------------------


def _on_payment_intent_event(obj: dict, now) -> str:
    return payment_sync(intent_id=str(obj.get("id") or ""), now=now).outcome


def _on_charge_or_refund_event(obj: dict, now) -> str:
    # Charges and refunds name their PaymentIntent; Stripe is asked for all of it anyway.
    return payment_sync(intent_id=str(obj.get("payment_intent") or ""), now=now).outcome


# Each handled event type, and what handles it. Every handler syncs the payment from
# Stripe itself, so events arriving late or out of order apply Stripe's current word.
EVENT_HANDLERS: dict[str, Callable[[dict, object], str]] = {
    "payment_intent.succeeded": _on_payment_intent_event,
    "payment_intent.payment_failed": _on_payment_intent_event,
    "payment_intent.processing": _on_payment_intent_event,
    "payment_intent.canceled": _on_payment_intent_event,
    "charge.refunded": _on_charge_or_refund_event,
    "refund.created": _on_charge_or_refund_event,
    "refund.updated": _on_charge_or_refund_event,
}

DUPLICATE_EVENT = "duplicate: already applied"
UNHANDLED_EVENT = "ignored: event type not handled"


@dataclass(frozen=True)
class EventReceipt:
    """A received Stripe event: its log row, whether it was a repeat, what it did."""

    record: StripeEvent | None
    duplicate: bool
    summary: str


def stripe_event_apply(*, event: gateway.WebhookEvent, now=None) -> EventReceipt:
    """Apply a verified Stripe event once, and log it (append-only).

    The effect is applied first, in its own transaction, and the event is logged after:
    if the effect fails (Stripe unreachable) nothing is logged and Stripe's retry is
    applied later. Applying is idempotent, so a concurrent duplicate changes nothing and
    the event's unique id keeps one log row.
    """
    now = now or timezone.now()
    if StripeEvent.objects.filter(event_id=event.id).exists():
        return EventReceipt(None, True, DUPLICATE_EVENT)
    handler = EVENT_HANDLERS.get(event.type)
    if handler is None:
        summary = UNHANDLED_EVENT
    else:
        try:
            summary = str(handler(event.object, now))
        except (PaymentProviderUnavailable, PaymentProviderRejected):
            raise
        except (DomainError, Booking.DoesNotExist, Payment.DoesNotExist) as exc:
            # A refused event (not ours, wrong amount…) is logged, not retried forever.
            summary = f"refused: {_detail(exc)}"
            logger.warning("Stripe event %s (%s) refused: %s", event.id, event.type, summary)
    try:
        with transaction.atomic():
            record = StripeEvent.objects.create(
                event_id=event.id,
                type=event.type,
                payload=event.payload,
                received_at=now,
                applied_at=now,
                summary=summary[:255],
            )
    except IntegrityError:
        return EventReceipt(None, True, DUPLICATE_EVENT)
    return EventReceipt(record, False, record.summary)


def _detail(exc: Exception) -> str:
    detail = getattr(exc, "detail", None) or str(exc)
    if isinstance(detail, dict):
        detail = "; ".join(str(v[0] if isinstance(v, list) else v) for v in detail.values())
    return str(detail)
