"""doctors_portal.db.postgresql: timestamptz values read with psycopg's C parser are the
values Django's own loader gives (aware, in the connection's time zone). PostgreSQL only:
on SQLite the module is not used and this file holds no test."""

from datetime import UTC, datetime, timedelta, timezone

from django.conf import settings

IS_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "doctors_portal.db.postgresql"

if IS_POSTGRESQL:
    import psycopg
    import pytest
    from django.db import connection
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader
    from psycopg.pq import Format
    from psycopg.types.datetime import TimestamptzLoader as PythonTimestamptzLoader

    TIMESTAMPTZ_OID = 1184

    @pytest.mark.django_db
    def test_timestamptz_reads_are_djangos_values_with_the_c_parser():
        values = [
            datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC),
            datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=6))),
        ]
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::timestamptz, %s::timestamptz", values)
            read = cursor.fetchone()
            cursor.execute("SELECT %s::timestamptz", [values[1]])
            raw = cursor.cursor.pgresult.get_value(0, 0)
        assert list(read) == values
        assert all(value.tzinfo is UTC for value in read)
        used = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        assert used.timezone is connection.timezone
        # Django's own loader, as the stock backend would build it, reads the same value.
        stock = type("Stock", (BaseTzLoader,), {"timezone": connection.timezone})
        assert stock(TIMESTAMPTZ_OID).load(raw) == values[1]
        c_parser = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if c_parser is not PythonTimestamptzLoader:  # psycopg[binary] is installed
            assert not issubclass(used, PythonTimestamptzLoader)
