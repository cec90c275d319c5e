"""Django's PostgreSQL backend, reading timestamptz values with psycopg's C parser.

Django attaches its time zone to every timestamptz it reads through a loader that
subclasses psycopg's pure-Python one: about 10 µs a value, against under 1 µs for the
C loader psycopg[binary] ships. Lists read several timestamps per row (a day of slots,
a page of bookings), so that parsing was a large part of those reads. The loader here
keeps Django's behaviour exactly (parse, then attach the connection's Django time zone)
and only parses with the C implementation when there is one.
"""

from datetime import UTC
from functools import lru_cache

from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader, is_psycopg3

if is_psycopg3:
    import psycopg
    from psycopg.adapt import AdaptersMap
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader


@lru_cache
def _with_fast_tzloader(template, tz):
    parser_class = psycopg.adapters.get_loader(base.TIMESTAMPTZ_OID, Format.TEXT)
    if parser_class is None or parser_class is PythonTimestamptzLoader:
        return template  # no C implementation installed: Django's loader as it is

    if tz is UTC:
        # Django keeps the session in UTC, where the C parser already returns datetimes
        # in `datetime.UTC`: hand psycopg the C loader itself, no Python call per value.
        class UtcLoader:
            timezone = tz  # what Django's create_cursor compares before re-registering
            format = parser_class.format

            def __new__(cls, oid, context=None):
                return parser_class(oid, context)

        adapters = AdaptersMap(template)
        adapters.register_loader("timestamptz", UtcLoader)
        return adapters

    class FastTzLoader(BaseTzLoader):
        timezone = tz  # what Django's create_cursor compares before re-registering

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._parse = parser_class(oid, context).load

        def load(self, data):
            return self._parse(data).replace(tzinfo=self.timezone)

    adapters = AdaptersMap(template)
    adapters.register_loader("timestamptz", FastTzLoader)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        if is_psycopg3 and "context" in params:
            params["context"] = _with_fast_tzloader(params["context"], self.timezone)
        return params
