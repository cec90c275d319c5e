"""The only module that imports `stripe`.

Everything Stripe returns leaves this module as plain dataclasses with Decimal
amounts; everything Stripe raises leaves it as one of our errors. Minor units
(cents, yen) exist only inside this file.

Every call is bounded (`call_bound_seconds`: STRIPE_TIMEOUT_SECONDS per attempt,
STRIPE_MAX_NETWORK_RETRIES retries) and hands the request's pooled database connection
back to the pool first when no transaction needs it, so a Stripe that hangs holds a
server thread, never a connection others wait for (`_stripe_call`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

import stripe
from django.conf import settings
from django.db import connection

from doctors_portal.api.parsers import json_too_deep_message
from doctors_portal.errors import Conflict, PaymentError, PaymentProviderUnavailable
from payments.errors import InvalidWebhook, PaymentProviderRejected, UnknownPaymentIntent

logger = logging.getLogger(__name__)

# Stripe's zero- and three-decimal currencies; every other currency has two decimals.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga"}
    | {"pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
)
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
WEBHOOK_TOLERANCE_SECONDS = 300


def currency_exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Decimal major units → Stripe's integer minor units; refuses to round money."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Money must be a Decimal, not {type(amount).__name__}.")
    minor = amount.scaleb(currency_exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency.upper()} has more decimals than the currency allows.")
    return int(minor)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """Stripe's integer minor units → Decimal major units with the currency's decimals."""
    exponent = currency_exponent(currency)
    return (Decimal(int(minor)).scaleb(-exponent)).quantize(Decimal(1).scaleb(-exponent))


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: Decimal
    currency: str
    client_secret: str = ""
    booking_id: str | None = None
    error_code: str = ""
    error_message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: Decimal
    currency: str
    status: str
    payment_intent_id: str | None


@dataclass(frozen=True)
class PaymentSnapshot:
    """What Stripe says of one PaymentIntent now: its state and its refunds."""

    intent: Intent
    refunds: tuple[RefundResult, ...] = ()


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object: dict
    payload: dict = field(repr=False)


# Of each attempt's STRIPE_TIMEOUT_SECONDS, at most this goes to the TCP connect (Stripe
# connects in milliseconds), the rest to the wait for the answer. requests times the two
# separately: one float let an attempt take up to twice the timeout.
CONNECT_TIMEOUT_SECONDS = 2.0


def _attempt_timeouts(timeout: float) -> tuple[float, float]:
    connect = min(CONNECT_TIMEOUT_SECONDS, timeout / 2)
    return connect, timeout - connect


@lru_cache(maxsize=8)
def _client(
    api_key: str, api_base: str, timeout: float, max_network_retries: int
) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_network_retries,
        http_client=stripe.RequestsClient(timeout=_attempt_timeouts(timeout)),
    )


def client() -> stripe.StripeClient:
    # Keyed on the settings, so a settings change (tests, demo) gets a fresh client.
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_TIMEOUT_SECONDS,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def call_bound_seconds() -> float:
    """The longest a Stripe call waits before it fails: each attempt's timeout, and the
    SDK's backoff sleeps between retries (0.5 s doubling, at most 5 s, jitter below it).

    Per attempt the connect and the wait for the answer share the timeout
    (`_attempt_timeouts`), so a Stripe slow to accept, or that accepts and never answers,
    fails within this. The backoff's jitter only shortens a sleep, and the SDK never
    sleeps less than INITIAL_DELAY, which the sum counts. Not counted: a server sending
    its answer a byte at a time (each wait is timed on its own), and the request's own
    work around the call (its queries: milliseconds, more on a loaded machine).
    """
    retries = settings.STRIPE_MAX_NETWORK_RETRIES
    sleeps = sum(
        min(stripe.HTTPClient.INITIAL_DELAY * 2 ** (n - 1), stripe.HTTPClient.MAX_DELAY)
        for n in range(1, retries + 1)
    )
    return (retries + 1) * settings.STRIPE_TIMEOUT_SECONDS + sleeps


def _db_connection_handed_back() -> None:
    # A pooled connection idle through a Stripe call is one the other threads cannot
    # have: 30 calls to a hanging Stripe ran a worker's pool dry (503s for everyone).
    # Django takes one from the pool again at the next query. Inside a transaction the
    # caller needs it (refunds on cancel: payments.services says why they stay there).
    if getattr(connection, "pool", None) and not connection.in_atomic_block:
        connection.close()


@contextmanager
def _stripe_call() -> Iterator[None]:
    """Around every SDK call: the database connection handed back, and the SDK's errors
    translated into ours. None of them changes a booking."""
    _db_connection_handed_back()
    try:
        yield
    except stripe.CardError as exc:
        raise PaymentError(exc.user_message or "The card was declined.") from exc
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        logger.warning("Stripe unreachable or failing: %s", exc)
        raise PaymentProviderUnavailable() from exc
    except stripe.IdempotencyError as exc:
        raise Conflict("This payment request is already being processed.") from exc
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise UnknownPaymentIntent(path="transactionid") from exc
        logger.error("Stripe refused a request: %s", exc)
        raise PaymentProviderRejected() from exc
    except stripe.StripeError as exc:  # authentication, permission: our configuration
        logger.error("Stripe error: %s", exc)
        raise PaymentProviderRejected() from exc


def _as_dict(obj: Any) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def intent_from_dict(data: Mapping[str, Any]) -> Intent:
    currency = str(data.get("currency") or "").lower()
    error = data.get("last_payment_error") or {}
    metadata = data.get("metadata") or {}
    return Intent(
        id=str(data["id"]),
        status=str(data.get("status") or ""),
        amount=from_minor_units(int(data.get("amount") or 0), currency),
        currency=currency,
        client_secret=str(data.get("client_secret") or ""),
        booking_id=str(metadata["booking_id"]) if metadata.get("booking_id") else None,
        error_code=str(error.get("decline_code") or error.get("code") or ""),
        error_message=str(error.get("message") or ""),
    )


def refund_from_dict(data: Mapping[str, Any]) -> RefundResult:
    currency = str(data.get("currency") or "").lower()
    return RefundResult(
        id=str(data["id"]),
        amount=from_minor_units(int(data.get("amount") or 0), currency),
        currency=currency,
        status=str(data.get("status") or ""),
        payment_intent_id=data.get("payment_intent") or None,
    )


def create_payment_intent(
    *, amount: Decimal, currency: str, booking_id: int, idempotency_key: str
) -> Intent:
    params = {
        "amount": to_minor_units(amount, currency),
        "currency": currency.lower(),
        "metadata": {"booking_id": str(booking_id)},
        "payment_method_types": ["card"],
    }
    with _stripe_call():
        intent = client().v1.payment_intents.create(
            params, options={"idempotency_key": idempotency_key}
        )
    return intent_from_dict(_as_dict(intent))


def cancel_payment_intent(intent_id: str) -> Intent:
    with _stripe_call():
        intent = client().v1.payment_intents.cancel(intent_id)
    return intent_from_dict(_as_dict(intent))


def retrieve_payment_intent(intent_id: str) -> Intent:
    with _stripe_call():
        intent = client().v1.payment_intents.retrieve(intent_id)
    return intent_from_dict(_as_dict(intent))


def retrieve_payment(intent_id: str) -> PaymentSnapshot:
    """The intent and, once it is charged, every refund of it (only a charge is refunded)."""
    intent = retrieve_payment_intent(intent_id)
    if not intent.succeeded:
        return PaymentSnapshot(intent)
    with _stripe_call():
        pages = client().v1.refunds.list({"payment_intent": intent_id, "limit": 100})
        refunds = tuple(refund_from_dict(_as_dict(r)) for r in pages.auto_paging_iter())
    return PaymentSnapshot(intent, refunds)


def confirm_payment_intent(*, intent_id: str, payment_method_id: str) -> Intent:
    """Server-side confirmation with a payment method the browser tokenised.

    Only for the offline stand-in Stripe.js (payments.stand_in), which cannot confirm
    card payments itself; with real Stripe the browser confirms and the server only
    reads the result.
    A decline raises PaymentError (402).
    """
    with _stripe_call():
        payment_intents = client().v1.payment_intents
        # Set first, then confirm: localstripe refuses a payment_method on confirm.
        payment_intents.update(intent_id, {"payment_method": payment_method_id})
        intent = payment_intents.confirm(intent_id)
    return intent_from_dict(_as_dict(intent))


def create_refund(
    *, intent_id: str, amount: Decimal, currency: str, idempotency_key: str, metadata: dict
) -> RefundResult:
    with _stripe_call():
        refund = client().v1.refunds.create(
            {
                "payment_intent": intent_id,
                "amount": to_minor_units(amount, currency),
                "metadata": {key: str(value)[:500] for key, value in metadata.items()},
            },
            options={"idempotency_key": idempotency_key},
        )
    return refund_from_dict(_as_dict(refund))


def verify_webhook(*, payload: bytes, signature: str | None) -> WebhookEvent:
    """Check Stripe's signature (HMAC-SHA256, timestamp within 5 minutes) and parse the event."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not signature:
        raise InvalidWebhook("The Stripe-Signature header is missing.", path="Stripe-Signature")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(
            f"The webhook signature is invalid: {exc.user_message or exc}",
            path="Stripe-Signature",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidWebhook("The webhook body is not UTF-8.") from exc
    too_deep = json_too_deep_message(payload)
    if too_deep:  # json.loads would recurse once per level: RecursionError, a 500
        raise InvalidWebhook(too_deep)
    try:
        data = json.loads(payload)
        return WebhookEvent(
            id=str(data["id"]),
            type=str(data["type"]),
            object=dict(data["data"]["object"]),
            payload=data,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidWebhook("The webhook body is not a Stripe event.") from exc
