from collections.abc import Callable

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination

from doctors_portal.api.responses import ok
from doctors_portal.ids import is_id_text

# Far beyond any real list, and small enough that (page - 1) x limit stays a 64-bit OFFSET
# on every database: a larger page is a 400, never an overflow (a 500).
MAX_PAGE = 1_000_000


def positive_int(raw: str | None, *, name: str, default: int, maximum: int | None = None) -> int:
    """A whole number from 1; above `maximum` it is capped."""
    value = bounded_int(raw, name=name, default=default)
    return min(value, maximum) if maximum else value


def bounded_int(raw: str | None, *, name: str, default: int, maximum: int | None = None) -> int:
    """A whole number from 1 to `maximum`; anything else is a 400 naming the parameter."""
    if raw is None:
        return default
    message = f"A whole number from 1 to {maximum}." if maximum else "A positive whole number."
    if not is_id_text(raw.strip()):  # int() also reads Arabic-Indic and full-width digits
        raise ValidationError({name: [message]})
    try:
        value = int(raw)
    except ValueError:  # a string too long to be a number
        raise ValidationError({name: [message]}) from None
    if value < 1 or (maximum is not None and value > maximum):
        raise ValidationError({name: [message]})
    return value


class PageLimitPagination(BasePagination):
    """`?page=&limit=` as the reference client sends them; `meta` {page, limit, total}."""

    default_limit = 10
    max_limit = 100

    def _read_page(self, request) -> int:
        """Reads ?page= and ?limit=; returns the offset."""
        self.page = bounded_int(
            request.query_params.get("page"), name="page", default=1, maximum=MAX_PAGE
        )
        self.limit = positive_int(
            request.query_params.get("limit"),
            name="limit",
            default=self.default_limit,
            maximum=self.max_limit,
        )
        return (self.page - 1) * self.limit

    def paginate_rows(self, request, read_page: Callable[..., tuple[list, int]]) -> list:
        """The page the request asks for, from a selector's `read_page(limit=, offset=)`
        answering (rows, total)."""
        offset = self._read_page(request)
        rows, self.total = read_page(limit=self.limit, offset=offset)
        return rows

    def paginate_queryset(self, queryset, request, view=None):
        offset = self._read_page(request)
        self.total = queryset.count()
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
                "description": f"1 to {MAX_PAGE} (another is 400); a page beyond the last "
                "answers 200 with empty data, and meta.total says how many there are",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            },
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"{self.default_limit} unless given; at most "
                f"{self.max_limit}, larger values are capped",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]


def page_parameters(pagination: type[PageLimitPagination] = PageLimitPagination) -> list:
    """`page` and `limit` as drf-spectacular parameters, for list actions that page by hand
    (paginate_rows) and so get no paginator's parameters from the schema generator."""
    from drf_spectacular.utils import OpenApiParameter

    return [
        OpenApiParameter(name=p["name"], type=p["schema"], description=p["description"])
        for p in pagination().get_schema_operation_parameters(None)
    ]
