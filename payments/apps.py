from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        # Payments builds on bookings: it hands bookings its refund, so cancelling a paid
        # booking refunds it without bookings ever importing payments.
        from bookings.services import booking_refunder_register
        from payments.services import payment_open_intent_close, payment_refund_booking

        booking_refunder_register(
            payment_refund_booking, open_intent_closer=payment_open_intent_close
        )
        # Payments' part of the export, handed to accounts (a lower layer).
        from payments import erasure

        erasure.register()
