"""Payment errors the gateway and services raise; the API's exception handler renders them."""

from rest_framework import status

from doctors_portal.api.errors import DomainError


class PaymentProviderRejected(DomainError):
    """Stripe refused a request we built: our configuration or a bug, never the patient."""

    status_code = status.HTTP_502_BAD_GATEWAY
    kind = "Payment Error"
    default_detail = "The payment provider refused the request. Nothing was charged."


class UnknownPaymentIntent(DomainError):
    default_detail = "No such payment is known to the payment provider."


class InvalidWebhook(DomainError):
    kind = "Validation Error"
    default_detail = "The webhook signature is missing, invalid or too old."
