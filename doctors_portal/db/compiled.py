"""Hot reads compiled to SQL once per process, then run with fresh arguments.

Turning a queryset into SQL (resolving lookups and joins, quoting, writing the WHERE)
costs the API's busiest reads more than PostgreSQL spends running them with a prepared
plan: 0.45 ms against 0.09 ms for one booking (bench/NOTES.md). A `CompiledQuery` keeps
the queryset as the one definition of the read, has the ORM compile it once, and then
only binds new values, applying the same converters `.values()` would.

The database is the router's choice for reading the queryset's model
(`router.db_for_read`), as for any ORM read, unless `using` names one.

With `as_models` the rows are model instances, with what the queryset select_related
already attached, built by Django's own populators as a queryset would build them: the
seat ledger's row locks (`SELECT ... FOR UPDATE OF` the slot, with its service and
doctor) are compiled like the reads.

Date parameters are calendar days (a clinic's today) compared with date columns.

Int parameters are ids compared for equality: one outside the 64-bit range matches
nothing (as the ORM answers), instead of reaching the database as an error.

The builder gets marker values for the declared parameters. A marker must reach the SQL
unchanged as one bound parameter (equality and range lookups on ids, strings and
timestamps); anything the ORM rewrites (`__iexact`, `__contains`, arithmetic on the
value) would be compiled in as a constant. Compiling twice with different markers finds
that: every parameter that changed must be a marker, or compiling fails loudly.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connections, router
from django.db.models import IntegerField, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

# Values no real argument takes: ids and counts are positive, clinic times are recent.
_INT_MARKERS = (-7_340_000_000_000, -8_340_000_000_000)
_INSTANT_MARKERS = (datetime(1901, 2, 3, tzinfo=UTC), datetime(1902, 3, 4, tzinfo=UTC))
_DAY_MARKERS = (date(1903, 4, 5), date(1904, 5, 6))
_STR_MARKERS = ("\x1fcompiled-a-", "\x1fcompiled-b-")
_BIGINT = 2**63
_TOTAL = "compiled_query_total"
# A page's LIMIT and OFFSET, compiled in as these numbers and written over per request.
_LIMIT_MARK, _OFFSET_MARK = 7_919_000_017, 6_007_000_019


class CompileError(ValueError):
    """A parameter did not reach the SQL as one bound value."""


class Page(NamedTuple):
    """One page of a list's rows, and how many rows the whole list has."""

    rows: list
    total: int


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    slots: list[tuple[bool, Any]]  # per bound value: (True, parameter name) or (False, constant)
    count_sql: str
    count_slots: list[tuple[bool, Any]]
    names: list[str]
    converters: list
    col_count: int
    as_dict: bool
    models: _Models | None = None
    locks: bool = False  # SELECT ... FOR UPDATE


@dataclass(frozen=True, slots=True)
class _Models:
    """How ModelIterable builds a row's instances (the model's own columns, then each
    select_related one's populator), kept from the compiler that wrote the SQL."""

    model: type
    init_list: list[str]
    start: int
    end: int
    klass_info: dict
    select: list
    populators: dict  # per database alias; populators keep no state between rows

    def build(self, row: list, db: str):
        obj = self.model.from_db(db, self.init_list, row[self.start : self.end])
        populators = self.populators.get(db)
        if populators is None:
            populators = self.populators[db] = get_related_populators(
                self.klass_info, self.select, db
            )
        for populator in populators:
            populator.populate(row, obj)
        return obj


_NOTHING = _Compiled(
    sql="",
    slots=[],
    count_sql="",
    count_slots=[],
    names=[],
    converters=[],
    col_count=0,
    as_dict=True,
)


class CompiledQuery:
    """`build(**arguments)` returns an unsliced queryset; the rows are its `fields`, as
    dicts (`.values()`) or with `as_tuples` as tuples (`.values_list()`), and the count
    counts its primary keys (without the joins the fields need).

    `parameters` name the arguments bound at run time and their kind (int, str,
    datetime or date). Every other keyword passed to `rows`/`count` is a constant: it is handed
    to the builder as is and selects a separately compiled variant (so it must be
    hashable and come from a small set, such as an optional filter being on or off).
    """

    def __init__(
        self,
        build: Callable[..., QuerySet],
        fields: Sequence[str],
        *,
        as_tuples: bool = False,
        as_models: bool = False,
        annotate: Callable[[QuerySet], QuerySet] | None = None,
        **parameters: type,
    ):
        for name, kind in parameters.items():
            if kind not in (int, str, datetime, date):
                raise TypeError(f"{name}: a parameter is an int, a str, a datetime or a date")
        self.build = build
        self.fields = tuple(fields)
        self.as_tuples = as_tuples
        self.as_models = as_models
        # Adds the computed columns `fields` names to the rows' queryset (for a page, the
        # outer one), e.g. a correlated count: one statement still.
        self.annotate = annotate
        self.parameters = parameters
        self._cache: dict[tuple, _Compiled] = {}
        self._lock = threading.Lock()
        self._model = None  # the queryset's model, known from the first build

    def rows(self, *, using: str | None = None, **kw) -> list:
        """The rows `.values()` (dicts) or `.values_list()` (tuples) would give."""
        return self._rows(kw, using=using)

    def page(self, *, limit: int, offset: int = 0, using: str | None = None, **kw) -> Page:
        """One page of rows and the count of all of them, in one statement.

        The page's keys are read first, in a subquery with the LIMIT (an index scan in
        the list's order), and only those rows are joined: a prepared statement's generic
        plan, made for the average doctor, then stays right for the busiest one instead
        of joining all their bookings before sorting. The count is an uncorrelated
        subquery of the same filters, run once for the statement."""
        rows = self._rows(dict(kw), using=using, page=(limit, offset))
        if not rows:
            return Page([], self.count(using=using, **kw) if offset else 0)
        if self.as_tuples:
            return Page([row[:-1] for row in rows], rows[0][-1])
        total = rows[0][_TOTAL]
        for row in rows:
            del row[_TOTAL]
        return Page(rows, total)

    def _connection(self, using: str | None, kw: dict):
        if using is None:
            if self._model is None:
                constants = {k: v for k, v in kw.items() if k not in self.parameters}
                markers = {
                    name: _marker(kind, 0, index)
                    for index, (name, kind) in enumerate(self.parameters.items())
                }
                self._model = self.build(**markers, **constants).model
            using = router.db_for_read(self._model)
        return connections[using]

    def _rows(self, kw: dict, *, using: str | None, page: tuple[int, int] | None = None) -> list:
        if self._out_of_range(kw):
            return []
        connection = self._connection(using, kw)
        compiled, arguments = self._prepare(connection, kw, paged=page is not None)
        if compiled is _NOTHING:
            return []
        if compiled.locks and connection.get_autocommit():
            # As the ORM refuses it: outside a transaction the lock would end at once.
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = self._bind(compiled.slots, arguments)
        sql = compiled.sql
        if page is not None:
            # Written in, not bound: PostgreSQL costs a prepared statement's generic plan
            # with an unknown LIMIT as a tenth of the rows, finds it dearer than a custom
            # plan for a long list, and would plan the query again on every request. The
            # marks stand alone in the compiled SQL (checked when it was compiled).
            limit, offset = page
            sql = sql.replace(f"LIMIT {_LIMIT_MARK}", f"LIMIT {int(limit)}").replace(
                f"OFFSET {_OFFSET_MARK}", f"OFFSET {int(offset)}"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        out = []
        count = compiled.col_count
        converters = compiled.converters
        names = compiled.names
        for fetched_row in fetched:
            row = list(fetched_row[:count])
            for pos, (convs, expression) in converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            if compiled.models is not None:
                out.append(compiled.models.build(row, connection.alias))
            else:
                out.append(dict(zip(names, row, strict=True)) if compiled.as_dict else tuple(row))
        return out

    def count(self, *, using: str | None = None, **kw) -> int:
        """How many rows `rows` would give without a limit."""
        if self._out_of_range(kw):
            return 0
        connection = self._connection(using, kw)
        compiled, arguments = self._prepare(connection, kw)
        if compiled is _NOTHING:
            return 0
        with connection.cursor() as cursor:
            cursor.execute(compiled.count_sql, self._bind(compiled.count_slots, arguments))
            return cursor.fetchone()[0]

    def _out_of_range(self, kw: dict) -> bool:
        return any(
            kind is int and not -_BIGINT <= int(kw[name]) < _BIGINT
            for name, kind in self.parameters.items()
        )

    def _prepare(self, connection, kw: dict, *, paged=False) -> tuple[_Compiled, dict]:
        arguments = {
            name: _adapt(connection, kind, kw.pop(name)) for name, kind in self.parameters.items()
        }
        constants = tuple(sorted(kw.items()))
        key = (connection.alias, connection.vendor, constants, paged)
        compiled = self._cache.get(key)
        if compiled is None:
            with self._lock:
                compiled = self._cache.get(key) or self._compile(connection, dict(kw), paged)
                self._cache[key] = compiled
        return compiled, arguments

    @staticmethod
    def _bind(slots: list[tuple[bool, Any]], arguments: dict) -> list:
        return [arguments[slot] if is_arg else slot for is_arg, slot in slots]

    def _compile(self, connection, constants: dict, paged: bool) -> _Compiled:
        sides = []
        for side in (0, 1):
            markers = {
                name: _marker(kind, side, index)
                for index, (name, kind) in enumerate(self.parameters.items())
            }
            base = self.build(**markers, **constants)
            if base.query.is_sliced:
                raise CompileError("the builder must not slice; page() takes limit and offset")
            fields = self.fields
            queryset = base
            if paged:
                keys = base.values("pk")[_OFFSET_MARK : _OFFSET_MARK + _LIMIT_MARK]
                # COUNT(*), not an aggregate: no GROUP BY, and an index alone can answer.
                counted = base.order_by().annotate(
                    **{_TOTAL: RawSQL("COUNT(*)", (), output_field=IntegerField())}
                )
                # The outer statement is only "these keys, in the list's order": with the
                # list's own filters repeated there, a generic plan made for a short list
                # drives from them and joins the whole list before picking the page.
                rows = base.model._base_manager.filter(pk__in=keys)
                # Annotations among the fields (a correlated subquery such as a doctor's
                # next free time) are computed for the page's rows only.
                annotations = {
                    name: base.query.annotations[name]
                    for name in fields
                    if name in base.query.annotations
                }
                if annotations:
                    rows = rows.annotate(**annotations)
                if base.query.order_by:
                    rows = rows.order_by(*base.query.order_by)
                queryset = rows.annotate(
                    **{_TOTAL: Subquery(counted.values(_TOTAL), output_field=IntegerField())}
                )
                fields = (*fields, _TOTAL)
            if self.annotate is not None:
                queryset = self.annotate(queryset)
            if self.as_models:
                if paged or self.annotate is not None or fields:
                    raise CompileError("instances are read whole, unpaged and unannotated")
            elif self.as_tuples:
                queryset = queryset.values_list(*fields)
            else:
                queryset = queryset.values(*fields)
            compiler = queryset.query.get_compiler(connection=connection)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # e.g. `__in=()`: the ORM answers without a query
                return _NOTHING
            count_sql, count_params = (
                base.order_by().values("pk").query.get_compiler(connection=connection).as_sql()
            )
            adapted = {
                _as_key(_adapt(connection, self.parameters[name], marker)): name
                for name, marker in markers.items()
            }
            sides.append(
                (sql, list(params), count_sql, list(count_params), adapted, compiler, queryset)
            )
        (sql, params, count_sql, count_params, adapted, compiler, queryset) = sides[0]
        other = sides[1]
        if paged and not (
            sql.count(f"LIMIT {_LIMIT_MARK}") == 1 and sql.count(f"OFFSET {_OFFSET_MARK}") == 1
        ):
            raise CompileError("the page's LIMIT and OFFSET are not where they were put")
        sql, slots = _slots(connection, (sql, params, adapted), (other[0], other[1], other[4]))
        count_sql, count_slots = _slots(
            connection, (count_sql, count_params, adapted), (other[2], other[3], other[4])
        )
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        query = queryset.query
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        return _Compiled(
            sql=sql,
            slots=slots,
            # The ORM's own SQL of the same filters, written in the same way.
            count_sql=f"SELECT COUNT(*) FROM ({count_sql}) counted",  # noqa: S608
            count_slots=count_slots,
            names=names,
            converters=list(compiler.get_converters(fields).items()),
            col_count=compiler.col_count,
            as_dict=not self.as_tuples,
            models=_models(compiler) if self.as_models else None,
            locks=query.select_for_update,
        )


def _models(compiler) -> _Models:
    klass_info = compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    select = compiler.select
    return _Models(
        model=klass_info["model"],
        init_list=[column[0].target.attname for column in select[start:end]],
        start=start,
        end=end,
        klass_info=klass_info,
        select=select,
        populators={},
    )


def _slots(connection, side: tuple, other: tuple) -> tuple[str, list[tuple[bool, Any]]]:
    """The SQL of one side and what each of its placeholders takes: a parameter (the
    values that differ between the sides must all be markers) or a constant. On
    PostgreSQL the constants are written into the SQL as literals (psycopg quotes them):
    the planner then sees them in a prepared statement's generic plan too. Without that it
    plans the user list for the average role (7,000 rows, not 1,000 doctors), finds the
    generic plan dearer, and plans the statement again on every request."""
    (sql, params, adapted), (other_sql, other_params, other_adapted) = side, other
    if sql != other_sql or len(params) != len(other_params):
        raise CompileError("the SQL depends on a parameter's value")
    slots = []
    for value, other_value in zip(params, other_params, strict=True):
        name = adapted.get(_as_key(value))
        if name is not None and other_adapted.get(_as_key(other_value)) == name:
            slots.append((True, name))
        elif value == other_value:
            slots.append((False, value))
        else:
            raise CompileError(f"a parameter reached the SQL changed: {value!r}")
    if connection.vendor != "postgresql" or all(is_arg for is_arg, _ in slots):
        return sql, slots
    pieces = _PLACEHOLDER.split(sql)  # text, token, text, token, ...; tokens are %s or %%
    out, kept, index = [pieces[0]], [], 0
    for token, text in zip(pieces[1::2], pieces[2::2], strict=True):
        if token == "%%":
            out.append(token)
        else:
            is_arg, slot = slots[index]
            index += 1
            if is_arg:
                out.append(token)
                kept.append((is_arg, slot))
            else:
                out.append(connection.ops.compose_sql("%s", [slot]).replace("%", "%%"))
        out.append(text)
    if index != len(slots):
        raise CompileError("the SQL's placeholders do not match its parameters")
    return "".join(out), kept


_PLACEHOLDER = re.compile(r"(%s|%%)")


def _marker(kind: type, side: int, index: int) -> Any:
    if kind is int:
        return _INT_MARKERS[side] - index
    if kind is str:
        return f"{_STR_MARKERS[side]}{index}"
    if kind is date:
        return _DAY_MARKERS[side] + timedelta(days=index)
    return _INSTANT_MARKERS[side] + timedelta(seconds=index)


def _adapt(connection, kind: type, value: Any) -> Any:
    if kind is datetime:
        return connection.ops.adapt_datetimefield_value(value)
    if kind is date:
        return connection.ops.adapt_datefield_value(value)
    if kind is int:
        return int(value)
    return str(value)


def _as_key(value: Any) -> tuple:
    return (type(value).__name__, value)
