"""Every write on slots. A doctor's slots never overlap: checked here under a lock on the
doctor's row (both databases), and on PostgreSQL also by the exclusion constraint
`slot_doctor_no_overlap`, whose violation is translated into the same 400.
"""

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from accounts.permissions import is_admin
from doctors_portal.errors import Conflict, DomainError, Forbidden, NotFoundAt
from scheduling import selectors, timefmt
from scheduling.availability_cache import availability_changed
from scheduling.holds import holds
from scheduling.locks import slot_lock
from scheduling.models import Service, Slot, SlotStatus

MAX_LABELS_PER_REQUEST = 500


@dataclass(frozen=True)
class SlotSpec:
    """One label on one date of a request, parsed; `path` names it in errors."""

    path: str
    date_text: str
    start: datetime
    end: datetime


def _errors_to_validation(errors: dict[str, list[str]]) -> DomainError:
    return DomainError(errors=errors)


def slot_specs_parse(*, doc_slot, now: datetime) -> list[SlotSpec]:
    """`docSlot: [{date, slot: [label, ...]}]` as UTC intervals; every error at once."""
    if not isinstance(doc_slot, list) or not doc_slot:
        raise DomainError(errors={"docSlot": ["Send a non-empty list of {date, slot: [labels]}."]})
    errors: dict[str, list[str]] = defaultdict(list)
    specs: list[SlotSpec] = []
    count = 0
    for i, entry in enumerate(doc_slot):
        if not isinstance(entry, dict):
            errors[f"docSlot[{i}]"].append("Each entry is an object {date, slot: [labels]}.")
            continue
        labels = entry.get("slot")
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(labels, list) or not labels:
            errors[f"docSlot[{i}].slot"].append("Send a non-empty list of time labels.")
            continue
        try:
            day = timefmt.parse_date(entry.get("date"))
        except timefmt.TimeFormatError as exc:
            errors[f"docSlot[{i}].date"].append(str(exc))
            continue
        beyond = day > selectors.publish_horizon(now=now)
        for label in labels:
            count += 1
            path = label if isinstance(label, str) and label.strip() else f"docSlot[{i}].slot"
            if beyond:
                errors[path].append(
                    f"{timefmt.format_date(day)}: slots are published at most "
                    f"{settings.PUBLISH_HORIZON_DAYS} days ahead."
                )
                continue
            try:
                interval = timefmt.label_to_interval(day, label)
            except timefmt.TimeFormatError as exc:
                errors[path].append(f"{timefmt.format_date(day)}: {exc}")
                continue
            if interval.start <= now:
                errors[path].append(f"{timefmt.format_date(day)} {label} is in the past.")
                continue
            specs.append(SlotSpec(path, timefmt.format_date(day), interval.start, interval.end))
    if count > MAX_LABELS_PER_REQUEST:
        raise DomainError(errors={"docSlot": [f"At most {MAX_LABELS_PER_REQUEST} labels at once."]})
    if errors:
        raise _errors_to_validation(errors)
    return specs


def _check_may_publish(*, doctor: User, by: User) -> None:
    if doctor.role != Role.DOCTOR:
        raise DomainError(errors={"docEmail": ["This account is not a doctor."]})
    if not (is_admin(by) or by.pk == doctor.pk):
        raise Forbidden("You can only manage your own slots.")
    profile = getattr(doctor, "doctor_profile", None)
    if not doctor.is_active or profile is None or not profile.is_verified:
        raise Forbidden(
            "This doctor is not verified yet; slots can be published once an admin verifies."
        )


def _lock_doctor(doctor: User) -> None:
    # Serialises slot writes of one doctor, so the overlap check below cannot race.
    User.objects.select_for_update().filter(pk=doctor.pk).values_list("pk").first()


def _overlap_errors(*, doctor: User, specs: list[SlotSpec], exclude_pk=None) -> dict:
    errors: dict[str, list[str]] = defaultdict(list)
    ordered = sorted(specs, key=lambda s: s.start)
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            errors[after.path].append(
                f"{after.date_text} {after.path} overlaps {before.path} in the same request."
            )
    clash = Q()
    for spec in specs:
        clash |= Q(start__lt=spec.end, end__gt=spec.start)
    existing = (
        Slot.objects.filter(doctor=doctor)
        .exclude(status=SlotStatus.CANCELLED)
        .exclude(pk=exclude_pk)
        .filter(clash)
        .only("start", "end")
    )
    for slot in existing:
        for spec in specs:
            if spec.start < slot.end and slot.start < spec.end:
                errors[spec.path].append(
                    f"{spec.date_text} {spec.path} overlaps your slot "
                    f"{timefmt.format_label(slot.start, slot.end)}."
                )
    return errors


def _resolve_service(*, doctor: User, service: Service | None) -> Service:
    if service is not None:
        if not service.is_active:
            raise DomainError(errors={"service": ["This service is not offered any more."]})
        return service
    profile = getattr(doctor, "doctor_profile", None)
    if profile is not None and profile.specialty_id and profile.specialty.is_active:
        return profile.specialty
    raise DomainError(
        errors={
            "service": ["Name the service (id or name); the doctor has no specialty to default to."]
        }
    )


@transaction.atomic
def slot_create_many(
    *,
    doctor: User,
    by: User,
    doc_slot,
    service: Service | None = None,
    capacity: int = 1,
    status: str = SlotStatus.PUBLISHED,
    now: datetime | None = None,
) -> list[Slot]:
    """Create one slot per label, all or nothing."""
    now = now or timezone.now()
    _check_may_publish(doctor=doctor, by=by)
    service = _resolve_service(doctor=doctor, service=service)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= 1000:
        raise DomainError(errors={"capacity": ["A whole number from 1 to 1000."]})
    specs = slot_specs_parse(doc_slot=doc_slot, now=now)
    _lock_doctor(doctor)
    errors = _overlap_errors(doctor=doctor, specs=specs)
    if errors:
        raise _errors_to_validation(errors)
    new = [
        Slot(
            doctor=doctor,
            service=service,
            start=spec.start,
            end=spec.end,
            capacity=capacity,
            status=status,
            created_at=now,
        )
        for spec in specs
    ]
    try:
        with transaction.atomic():
            created = Slot.objects.bulk_create(new)  # one INSERT
    except IntegrityError:
        # The exclusion constraint saw an overlap the check above could not (a slot
        # committed since): name it as the check would have.
        errors = _overlap_errors(doctor=doctor, specs=specs) or {
            specs[0].path: [f"{specs[0].date_text} {specs[0].path} overlaps another of your slots."]
        }
        raise _errors_to_validation(errors) from None
    availability_changed(slots=created)
    return created


def _cancel_locked(*, slot: Slot, now: datetime, path: str) -> Slot:
    holds().release_lapsed(slot=slot, now=now)
    # Waitlist offers hold no booking: withdrawing the slot closes its line and offers.
    holds().slots_withdrawn(slots=[slot], now=now)
    if slot.seats_taken > 0:
        raise Conflict(
            "This slot has an active booking; cancel the booking first.",
            path=path,
        )
    slot.status = SlotStatus.CANCELLED
    slot.save(update_fields=["status", "updated_at"])
    availability_changed(slots=[slot])
    return slot


@transaction.atomic
def slot_remove_many(
    *, doctor: User, by: User, date, labels, now: datetime | None = None
) -> list[Slot]:
    """Cancel the doctor's slots at these labels on this date; 409 if any is booked."""
    now = now or timezone.now()
    if not (is_admin(by) or by.pk == doctor.pk):
        raise Forbidden("You can only manage your own slots.")
    specs = slot_specs_parse(doc_slot=[{"date": date, "slot": labels}], now=now)
    _lock_doctor(doctor)
    removed = []
    for spec in specs:
        match = (
            Slot.objects.filter(doctor=doctor, start=spec.start, end=spec.end)
            .exclude(status=SlotStatus.CANCELLED)
            .values_list("pk", flat=True)
            .first()
        )
        if match is None:
            raise NotFoundAt(f"No slot {spec.path} on {spec.date_text}.", path=spec.path)
        slot = slot_lock(slot_id=match, path=spec.path)
        removed.append(_cancel_locked(slot=slot, now=now, path=spec.path))
    return removed


@transaction.atomic
def slot_update(
    *,
    slot_id: int,
    by: User,
    capacity: int | None = None,
    status: str | None = None,
    service: Service | None = None,
    now: datetime | None = None,
) -> Slot:
    """Change capacity, status or service of one slot; never below the seats it holds."""
    now = now or timezone.now()
    slot = slot_lock(slot_id=slot_id, path="id")
    if not (is_admin(by) or slot.doctor_id == by.pk):
        raise NotFoundAt("No such slot.", path="id")
    if status == SlotStatus.CANCELLED and slot.status != SlotStatus.CANCELLED:
        return _cancel_locked(slot=slot, now=now, path="status")
    holds().release_lapsed(slot=slot, now=now)
    held = slot.seats_taken
    fields = []
    if capacity is not None:
        if held > capacity:
            raise Conflict(
                f"{held} seats are booked; capacity cannot go below that.", path="capacity"
            )
        slot.capacity = capacity
        fields.append("capacity")
    if service is not None and service.pk != slot.service_id:
        if held:
            raise Conflict("A booked slot cannot change its service.", path="service")
        slot.service = _resolve_service(doctor=slot.doctor, service=service)
        fields.append("service")
    if status is not None and status != slot.status:
        if slot.status == SlotStatus.CANCELLED:
            _check_may_publish(doctor=slot.doctor, by=by)
            spec = SlotSpec("status", timefmt.format_date(slot.start), slot.start, slot.end)
            if _overlap_errors(doctor=slot.doctor, specs=[spec], exclude_pk=slot.pk):
                raise Conflict(
                    "Another of the doctor's slots now overlaps this time.", path="status"
                )
        slot.status = status
        fields.append("status")
    if fields:
        try:
            with transaction.atomic():
                slot.save(update_fields=[*fields, "updated_at"])
            availability_changed(slots=[slot])
        except IntegrityError:
            raise Conflict(
                "Another of the doctor's slots overlaps this time.", path="status"
            ) from None
    return slot


def slots_withdraw_unbooked(*, slot_ids: list[int], now: datetime) -> tuple[int, list[Slot]]:
    """Cancel the unbooked ones of these slots; (how many, the booked ones kept)."""
    if not slot_ids:
        return 0, []
    slots = list(
        Slot.objects.select_for_update(of=("self",))
        .select_related("service")
        .filter(pk__in=slot_ids)
        .order_by("pk")  # the ledger's order for several slots
    )
    for slot in slots:
        if slot.seats_taken:
            holds().release_lapsed(slot=slot, now=now)
    # Waitlist offers hold no booking: a slot whose seats are only offered is unbooked,
    # its line closes and the offers give their seats back (as when it is cancelled).
    seats_in_use = holds().confirmed() | holds().running(now=now)
    held = [slot for slot in slots if slot.seats_taken]
    booked = set(seats_in_use.filter(slot__in=held).values_list("slot_id", flat=True))
    holds().slots_withdrawn(slots=[s for s in slots if s.pk not in booked], now=now)
    kept = [slot for slot in slots if slot.seats_taken > 0]
    free = [slot.pk for slot in slots if slot.seats_taken == 0]
    if free:
        Slot.objects.filter(pk__in=free, seats_taken__lte=0).update(
            status=SlotStatus.CANCELLED, updated_at=now
        )
        availability_changed(slots=[slot for slot in slots if slot.seats_taken == 0])
    for slot in kept:
        slot.free_seats = slot.capacity - slot.seats_taken
    return len(free), kept
