"""Payments' part of the export (registered in PaymentsConfig.ready into
accounts.lifecycle). Erasure keeps every payment and refund: they are accounting."""

from __future__ import annotations

from payments.models import Payment, Refund


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export_sections(*, user) -> dict:
    payments = Payment.objects.filter(booking__patient=user).order_by("created_at", "pk")
    refunds = (
        Refund.objects.filter(payment__booking__patient=user)
        .select_related("payment")
        .order_by("created_at", "pk")
    )
    return {
        "payments": [
            {
                "id": p.pk,
                "bookingId": p.booking_id,
                "paymentIntentId": p.intent_id,
                "amount": str(p.amount),
                "amountRefunded": str(p.amount_refunded),
                "currency": p.currency,
                "status": p.status,
                "createdAt": _iso(p.created_at),
                "succeededAt": _iso(p.succeeded_at),
            }
            for p in payments
        ],
        "refunds": [
            {
                "id": r.pk,
                "paymentId": r.payment_id,
                "bookingId": r.payment.booking_id,
                "refundId": r.refund_id,
                "amount": str(r.amount),
                "status": r.status,
                "reason": r.reason,
                "createdAt": _iso(r.created_at),
            }
            for r in refunds
        ],
    }


def register() -> None:
    from accounts import lifecycle

    lifecycle.export_sections_register(export_sections)
