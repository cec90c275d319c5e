from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = "Bookings"

    def ready(self):
        # Bookings' part of erasure and export, handed to accounts (a lower layer).
        from bookings import erasure

        erasure.register()
        # The holds scheduling counts and releases, handed to scheduling (a lower layer).
        from bookings.seats import HOLDS
        from scheduling.holds import holds_register

        holds_register(HOLDS)
