"""A new audited row and its audit entry in one statement on PostgreSQL (issue 16).

auditlog writes a create's entry from the model's post_save: a second INSERT, a second
round trip to PostgreSQL, after the row's own. On PostgreSQL `audited_create` sends both
as one statement, `WITH row AS (INSERT ... RETURNING id) INSERT INTO the log ... SELECT
... FROM row`: the entry is auditlog's own (its diff of the new row, its content type,
correlation id and actor, as its receivers set them), only the three values that name
the row's id are taken from the row's RETURNING. Both rows commit or neither does, as
before. Elsewhere (SQLite), and whenever something else listens (auditlog's pre_log or
post_log, the model's pre_save or post_save beyond auditlog's own), the plain save.

The booking write uses it (bookings.services.booking_create): a booking's INSERT and its
entry were 18 % of that write's time (bench/NOTES.md).
"""

from __future__ import annotations

from auditlog import get_logentry_model
from auditlog.cid import get_cid
from auditlog.context import auditlog_disabled
from auditlog.diff import model_instance_diff
from auditlog.receivers import log_create, log_update
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import AutoField, Model, signals
from django.db.models.sql import InsertQuery
from django.utils.encoding import smart_str

# Stands for the new row's id while its entry is built: replaced in the SQL by the id
# the row's INSERT returns.
_ID_MARK = 7_340_000_000_011


def audited_create(instance: Model, *, using: str | None = None) -> None:
    """Save a new instance of an audited model with its create entry, as instance.save()
    with auditlog's receiver would: one statement on PostgreSQL, else that save."""
    model = type(instance)
    using = using or router.db_for_write(model, instance=instance)
    connection = connections[using]
    entry = _entry(instance) if _one_statement(model, connection) else None
    if entry is None or not entry.changes:  # no changes: auditlog writes no entry either
        instance.save(force_insert=True, using=using)
        return
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
    row_sql, row_params = _insert_sql(model, fields, instance, connection)
    signals.pre_save.send(  # auditlog's context names the actor from here
        sender=type(entry), instance=entry, raw=False, using=using, update_fields=None
    )
    entry_fields = [f for f in type(entry)._meta.local_concrete_fields if not f.primary_key]
    placeholders, entry_params = _values(type(entry), entry_fields, entry, connection)
    qn = connection.ops.quote_name
    row_id = f"row.{qn(meta.pk.column)}"
    prefix, marked, suffix = smart_str(_marked(instance)).partition(str(_ID_MARK))
    by_id = {
        "object_pk": (f"CAST({row_id} AS text)", []),
        "object_id": (row_id, []),
        "object_repr": (f"(CAST(%s AS text) || {row_id} || CAST(%s AS text))", [prefix, suffix])
        if marked
        else None,
    }
    selects, params = [], list(row_params)
    for field, placeholder, values in zip(entry_fields, placeholders, entry_params, strict=True):
        sql, values = by_id.get(field.name) or (placeholder, values)
        selects.append(sql)
        params.extend(values)
    entry_table = qn(type(entry)._meta.db_table)
    columns = ", ".join(qn(f.column) for f in entry_fields)
    sql = (
        f"WITH row AS ({row_sql}) INSERT INTO {entry_table} ({columns}) "  # noqa: S608 - names and placeholders only
        f"SELECT {', '.join(selects)} FROM row RETURNING {qn('object_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = using


def _one_statement(model, connection) -> bool:
    if connection.vendor != "postgresql" or not connection.features.can_return_columns_from_insert:
        return False
    if auditlog_disabled.get() or not auditlog.contains(model):
        return False
    if auditlog.get_serialize_options(model)["serialize_data"]:
        return False  # the serialized row names its id: auditlog's own path
    if not isinstance(model._meta.pk, AutoField) or model._meta.pk.remote_field:
        return False  # object_id is the row's integer id, as auditlog sets it for one
    if [f for f in model._meta.db_returning_fields if not f.primary_key]:
        return False  # a database default to read back: the plain save reads it
    # Anyone but auditlog who would hear the save gets the plain one.
    if pre_log.has_listeners(model) or post_log.has_listeners(model):
        return False
    auditlogs = {log_create, log_update}
    return all(
        receiver in auditlogs
        for signal in (signals.pre_save, signals.post_save)
        for receiver in signal._live_receivers(model)[0]
    )


def _entry(instance):
    """The create entry auditlog's receiver would write for this instance (unsaved)."""
    log_entry = get_logentry_model()
    entry = log_entry(
        content_type=ContentType.objects.get_for_model(instance),
        object_pk=str(_ID_MARK),
        object_id=_ID_MARK,
        object_repr=smart_str(_marked(instance)),
        serialized_data=None,
        action=log_entry.Action.CREATE,
        changes=model_instance_diff(
            None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
        ),
        cid=get_cid(),
    )
    get_additional_data = getattr(instance, "get_additional_data", None)
    if callable(get_additional_data):
        entry.additional_data = get_additional_data()
    return entry


class _marked:
    """The instance's str() as if its id were _ID_MARK."""

    def __init__(self, instance):
        self.instance = instance

    def __str__(self) -> str:
        pk, self.instance.pk = self.instance.pk, _ID_MARK
        try:
            return smart_str(self.instance)
        finally:
            self.instance.pk = pk


def _compiler(model, fields, obj, connection):
    query = InsertQuery(model)
    query.insert_values(fields, [obj])
    return query.get_compiler(connection=connection)


def _insert_sql(model, fields, obj, connection) -> tuple[str, tuple]:
    """Django's INSERT of the row, RETURNING its id."""
    compiler = _compiler(model, fields, obj, connection)
    compiler.returning_fields = [model._meta.pk]
    ((sql, params),) = compiler.as_sql()
    return sql, params


def _values(model, fields, obj, connection) -> tuple[list[str], list[list]]:
    """Each field's placeholder and its parameters, as Django's INSERT writes them."""
    compiler = _compiler(model, fields, obj, connection)
    row = [compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in fields]
    get_placeholders = [getattr(f, "get_placeholder", None) for f in fields]
    pairs = [
        compiler.field_as_sql(f, get_placeholder, value)
        for f, get_placeholder, value in zip(fields, get_placeholders, row, strict=True)
    ]
    return [sql for sql, _ in pairs], [list(params) for _, params in pairs]
