"""The slot's row lock, the first lock of every seat writer (the order is bookings.seats')."""

from doctors_portal.db.compiled import CompiledQuery
from doctors_portal.errors import NotFoundAt
from scheduling.models import Slot

# Compiled once per process, like the booking write's one read (bench/NOTES.md, "The
# booking write"): the ORM spent more writing this four-table select than PostgreSQL
# spends locking the row. OF the slot only: its service and doctor are read, not locked.
_SLOT_LOCK = CompiledQuery(
    lambda *, slot_id: (
        Slot.objects.select_for_update(of=("self",))
        .select_related("service", "doctor__doctor_profile")
        .filter(pk=slot_id)
        .order_by()
    ),
    (),
    as_models=True,
    slot_id=int,
)


def slot_lock(*, slot_id: int, path: str = "slotId") -> Slot:
    """Lock a slot's row (with its service and doctor) before changing its seats."""
    rows = _SLOT_LOCK.rows(slot_id=slot_id)
    if not rows:
        raise NotFoundAt("No such slot.", path=path)
    return rows[0]
