"""The slot's row lock, the first lock of every seat writer (the order is bookings.seats')."""

from doctors_portal.errors import NotFoundAt
from scheduling.models import Slot


def slot_lock(*, slot_id: int, path: str = "slotId") -> Slot:
    """Lock a slot's row (with its service and doctor) before changing its seats."""
    slot = (
        Slot.objects.select_for_update(of=("self",))
        .select_related("service", "doctor__doctor_profile")
        .filter(pk=slot_id)
        .first()
    )
    if slot is None:
        raise NotFoundAt("No such slot.", path=path)
    return slot
