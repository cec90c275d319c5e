from django.urls import re_path

from payments.api import PaymentViewSet, StripeWebhookView

create_payment_intent = PaymentViewSet.as_view({"post": "create_payment_intent"})
confirm_payment = PaymentViewSet.as_view({"post": "confirm"})

# Reference paths, with and without a trailing slash.
urlpatterns = [
    re_path(
        r"^create-payment-intent/?$", create_payment_intent, name="payments-create-payment-intent"
    ),
    re_path(r"^payment/?$", confirm_payment, name="payments-confirm"),
    re_path(r"^payments/webhook/?$", StripeWebhookView.as_view(), name="payments-webhook"),
]
