"""Django's PostgreSQL backend, reading timestamptz values with psycopg's C parser.

Django attaches its time zone to every timestamptz it reads through a loader that
subclasses psycopg's pure-Python one: about 10 µs a value, against under 1 µs for the
C loader psycopg[binary] ships. Lists read several timestamps per row (a day of slots,
a page of bookings), so that parsing was a large part of those reads. The loader here
keeps Django's behaviour exactly (parse, then attach the connection's Django time zone)
and only parses with the C implementation when there is one.

The upstream gap, and when to delete this module:

- Django ticket #36960 (code.djangoproject.com/ticket/36960): Django's psycopg 3 support
  (`psycopg_any.BaseTzLoader`, since Django 4.2) derives its timestamptz loader from
  psycopg's pure-Python `TimestamptzLoader`, so psycopg[binary]'s C loader is never used
  for timestamptz. Django declined to reach the C class through psycopg's private
  `AdaptersMap._get_optimised`.
- psycopg issue #1273 ("Unable to subclass optimised loaders"): the C
  `TimestamptzLoader` is final, so it cannot be subclassed, and psycopg has no public way
  to wrap it.

What this module relies on instead: that `psycopg.adapters.get_loader(TIMESTAMPTZ_OID,
TEXT)` returns the C class when the binary package is installed, and Django's private
protocol in `DatabaseWrapper.get_connection_params()["context"]` and `create_cursor`
(a loader class whose `timezone` attribute equals the connection's is kept as it is).
Delete it, and the ENGINE line in settings, once a Django release parses timestamptz
with the C loader (ticket #36960 fixed) or psycopg offers a public way to build on it
(#1273); check with the bench's booking lists (bench/NOTES.md), whose timestamps made
the difference. tests/test_compiled_query.py compares these reads with the ORM's.
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
