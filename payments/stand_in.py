"""The offline demo's stand-in Stripe.js (localstripe's), and everything that knows of it.

localstripe serves a Stripe.js that tokenises a card but cannot confirm a PaymentIntent
in the browser. With it (the demo and the tests point STRIPE_API_BASE at localstripe),
the pay page sends the card token and the server confirms the intent. Real Stripe
(STRIPE_API_BASE unset) never takes this path: the browser confirms with
`confirmCardPayment` and the server only reads the result.
"""

import contextlib

from django.conf import settings

from doctors_portal.errors import PaymentError
from payments import stripe_gateway as gateway
from payments.models import Payment

CARD_FIELD = "stand_in_card"


def in_use() -> bool:
    # STRIPE_API_BASE is only set for the local Stripe stand-in (tests, offline demo).
    return bool(settings.STRIPE_API_BASE)


def csp_connect_sources() -> list[str]:
    """The stand-in's API, which its Stripe.js calls from the page (none with real Stripe)."""
    return [settings.STRIPE_API_BASE] if in_use() else []


def pay_page_context() -> dict:
    """What the pay page's template and script need to pay through the stand-in."""
    return {"confirm_on_server": in_use()}


def confirm_card(*, payment: Payment, card_id: str) -> None:
    """Confirm the intent with the stand-in's card token; nothing without the stand-in.

    A decline is not final here: the intent carries it, and the sync that follows
    records it.
    """
    if not (card_id and in_use()):
        return
    with contextlib.suppress(PaymentError):
        gateway.confirm_payment_intent(intent_id=payment.intent_id, payment_method_id=card_id)
