"""One definition per response shape.

A `Shape` lists an answer's fields once, each with the schema field that documents it
and the columns it is read from. From that one list come the columns a selector reads
(`shape.columns`, a `.values()` list), the answer built from such a row (`shape(row, now)`),
and the serializer the OpenAPI schema shows (`shape.serializer`). Adding a field is one
edit, and the schema cannot drift from the body.

The bodies are built by plain dict code, not by `Serializer.to_representation`: the lists
are the API's busiest reads, and DRF's per-field machinery cost more than the reads
(bench/NOTES.md).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from rest_framework import serializers


class Out:
    """One field: its schema, the columns it reads, and `value(row, now)` when it is not
    simply the one column as read."""

    __slots__ = ("columns", "schema", "value")

    def __init__(
        self,
        schema: serializers.Field,
        *columns: str,
        value: Callable[[dict, Any], Any] | None = None,
    ):
        if value is None and len(columns) != 1:
            raise TypeError("a field without value() is one column")
        self.schema = schema
        self.columns = columns
        self.value = value


class Shape:
    """An answer built from one row (a dict of `columns`): `shape(row, now)`."""

    def __init__(self, name: str, /, **fields: Out | Shape):
        self.name = name
        self.fields = fields
        self.columns = tuple(dict.fromkeys(c for f in fields.values() for c in f.columns))
        # (key, column, value): the column as read when value is None.
        self._plan = [
            (key, f.columns[0], None)
            if isinstance(f, Out) and f.value is None
            else (key, None, f if isinstance(f, Shape) else f.value)
            for key, f in fields.items()
        ]
        # A copy of each schema field, made in this order: DRF orders a serializer's
        # fields by when they were made, and one field may serve several keys and shapes.
        self.serializer = type(
            name,
            (serializers.Serializer,),
            {"__module__": __name__, **{key: _schema(f) for key, f in fields.items()}},
        )

    @property
    def schema(self) -> serializers.Serializer:
        """As a field of another shape: its serializer, nested."""
        return self.serializer()

    def __call__(self, row: dict, now: Any = None) -> dict:
        return {
            key: row[column] if value is None else value(row, now)
            for key, column, value in self._plan
        }

    def extend(self, name: str, /, **fields: Out | Shape) -> Shape:
        """This shape's fields, then `fields`."""
        return Shape(name, **self.fields, **fields)

    def many(self) -> Out:
        """A field holding a list of this shape, each built from the same row."""
        return Out(
            self.serializer(many=True), *self.columns, value=lambda row, now: [self(row, now)]
        )


def _schema(field: Out | Shape) -> serializers.Field:
    return copy.deepcopy(field.schema)
