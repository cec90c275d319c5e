"""Payment errors the gateway and services raise; the API and the pages map them to HTTP."""

from doctors_portal.errors import CONFLICT, UPSTREAM, DomainError


class PaymentProviderRejected(DomainError):
    """Stripe refused a request we built: our configuration or a bug, never the patient."""

    kind = UPSTREAM
    code = "payment_provider_rejected"
    default_detail = "The payment provider refused the request. Nothing was charged."


class UnknownPaymentIntent(DomainError):
    code = "unknown_payment_intent"
    default_detail = "No such payment is known to the payment provider."


class InvalidWebhook(DomainError):
    code = "invalid_webhook"
    default_detail = "The webhook signature is missing, invalid or too old."


class PaymentInFlight(DomainError):
    """Another call is creating this booking's PaymentIntent at Stripe right now."""

    kind = CONFLICT
    code = "payment_in_flight"
    default_detail = "A payment for this booking is being set up; try again in a moment."
    # Stripe usually answers the other call within a second or two (at worst its bound).
    retry_after_seconds = 2
