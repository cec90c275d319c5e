from django.core.management.base import BaseCommand

from bookings.services import booking_expire_lapsed


class Command(BaseCommand):
    help = (
        "Mark unpaid holds whose time ran out as expired. Optional housekeeping: "
        "readers already treat lapsed holds as free seats."
    )

    def handle(self, *args, **options):
        released = booking_expire_lapsed()
        self.stdout.write(f"Expired {released} lapsed hold(s).")
