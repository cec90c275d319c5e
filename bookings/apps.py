from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        # Bookings' part of erasure and export, handed to accounts (a lower layer).
        from bookings import erasure

        erasure.register()
