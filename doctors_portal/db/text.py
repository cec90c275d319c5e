"""Case-insensitive text search that folds Unicode on every database.

PostgreSQL's UPPER folds every letter its collation knows ("MÜLLER" finds "Müller").
SQLite's UPPER, LOWER and LIKE fold ASCII only, so the same search found nothing there.
`folded_contains` compares the text folded by the database on both sides (the column and
the term, so one function folds both); on SQLite that function is Python's
`str.casefold`, registered on every new connection by `register_sqlite_casefold`
(connected to `connection_created` in accounts' AppConfig.ready).
"""

from __future__ import annotations

from django.db.models import CharField, Q, TextField, Value
from django.db.models.expressions import Func
from django.db.models.lookups import Contains

SQLITE_CASEFOLD = "dp_casefold"


class CaseFolded(Func):
    """Its argument with case folded: UPPER, or on SQLite Python's casefold."""

    function = "UPPER"
    arity = 1
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function=SQLITE_CASEFOLD, **extra_context)


def folded_contains(*fields: str, term: str) -> Q:
    """Rows where any of `fields` contains `term`, case folded (LIKE's % and _ literal)."""
    needle = CaseFolded(Value(term, output_field=CharField()))
    query = Q()
    for field in fields:
        query |= Q(Contains(CaseFolded(field), needle))
    return query


def _casefold(value):
    return value.casefold() if isinstance(value, str) else value


def register_sqlite_casefold(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_CASEFOLD, 1, _casefold, deterministic=True)
