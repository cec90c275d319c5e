from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination

from doctors_portal.api.responses import ok


def positive_int(raw: str | None, *, name: str, default: int, maximum: int | None = None) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError({name: ["Must be a positive whole number."]}) from None
    if value < 1:
        raise ValidationError({name: ["Must be a positive whole number."]})
    return min(value, maximum) if maximum else value


class PageLimitPagination(BasePagination):
    """`?page=&limit=` as the reference client sends them; `meta` {page, limit, total}."""

    default_limit = 10
    max_limit = 100

    def _read_page(self, request) -> int:
        """Reads ?page= and ?limit=; returns the offset."""
        self.page = positive_int(request.query_params.get("page"), name="page", default=1)
        self.limit = positive_int(
            request.query_params.get("limit"),
            name="limit",
            default=self.default_limit,
            maximum=self.max_limit,
        )
        return (self.page - 1) * self.limit

    def paginate_compiled(self, compiled, request, **arguments) -> list:
        """One page of a CompiledQuery's rows (doctors_portal.db.compiled)."""
        offset = self._read_page(request)
        rows, self.total = compiled.page(limit=self.limit, offset=offset, **arguments)
        return rows

    def paginate_queryset(self, queryset, request, view=None, *, values=None):
        """One page of `queryset`; with `values`, as dicts of those fields (counted without
        the joins they need, so the count stays an index scan)."""
        offset = self._read_page(request)
        self.total = queryset.count()
        if values is not None:
            queryset = queryset.values(*values)
        return list(queryset[offset : offset + self.limit])

    @property
    def meta(self) -> dict:
        return {"page": self.page, "limit": self.limit, "total": self.total}

    def get_paginated_response(self, data, message: str = "Success"):
        return ok(data, message=message, meta=self.meta)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "success": {"type": "boolean"},
                "status": {"type": "string"},
                "message": {"type": "string"},
                "meta": {
                    "type": "object",
                    "properties": {
                        "page": {"type": "integer"},
                        "limit": {"type": "integer"},
                        "total": {"type": "integer"},
                    },
                },
                "data": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"at most {self.max_limit}; larger values are capped",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
