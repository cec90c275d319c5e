"""Reads of the audit trail: `GET audit?entity=&id=`, newest first."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from audit.registry import AUDITED
from doctors_portal.errors import DomainError

ACTIONS = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


def _content_type(entity: str) -> ContentType:
    if entity not in AUDITED:
        raise DomainError(errors={"entity": [f"One of: {', '.join(sorted(AUDITED))}."]})
    app_label, model, _fields = AUDITED[entity]
    return ContentType.objects.get_by_natural_key(app_label, model.lower())


def _entity_of(content_type_id: int) -> str:
    for entity in AUDITED:
        if _content_type(entity).pk == content_type_id:
            return entity
    return ""


def _object_id(id: str) -> int:
    try:
        return int(id)
    except ValueError:
        raise DomainError(errors={"id": ["A whole number."]}) from None


def audit_entries(*, entity: str | None, id: str | None):
    """Newest first; `entity` alone: all of its entries; `id` alone: that id's entries in
    every audited entity; a user's trail holds their doctor profile's too."""
    entries = LogEntry.objects.select_related("actor").order_by("-timestamp", "-pk")
    has_id = id not in (None, "")
    object_id = _object_id(id) if has_id else None
    if not entity:
        if not has_id:
            return entries
        types = [_content_type(name) for name in AUDITED]
        return entries.filter(content_type__in=types, object_id=object_id)
    content_type = _content_type(entity)
    if not has_id:
        return entries.filter(content_type=content_type)
    wanted = Q(content_type=content_type, object_id=object_id)
    if entity == "user":
        # A doctor's verification lives on their profile: the user's trail has it too.
        from accounts.models import DoctorProfile

        profiles = DoctorProfile.objects.filter(user_id=object_id).values("pk")
        wanted |= Q(content_type=_content_type("doctorProfile"), object_id__in=profiles)
    return entries.filter(wanted)


def audit_page(*, entity: str | None, id: str | None, limit: int, offset: int):
    entries = audit_entries(entity=entity, id=id)
    return list(entries[offset : offset + limit]), entries.count()


def audit_entry_out(entry: LogEntry) -> dict:
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    return {
        "id": entry.pk,
        "entity": _entity_of(entry.content_type_id),
        "entityId": entry.object_id,
        "action": ACTIONS.get(entry.action, str(entry.action)),
        "actor": (
            {"id": entry.actor.pk, "name": entry.actor.name, "role": entry.actor.role}
            if entry.actor is not None
            else None
        ),
        "at": entry.timestamp.isoformat(),
        "changes": {
            field: {"from": values[0], "to": values[1]}
            for field, values in changes.items()
            if isinstance(values, list | tuple) and len(values) == 2
        },
    }
