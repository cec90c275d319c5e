"""Which database errors mean "the database is unavailable": one decision for the API's
503 envelope (doctors_portal.api) and the pages' 503 page (doctors_portal.unavailable).

The database went away under the request (the pool's wait ran past DB_POOL_TIMEOUT,
the connection was refused or killed, the server is restarting, SQLite busy past its
timeout): the request fails cleanly with 503 and the connection is dropped, so the next
request reconnects (CONN_HEALTH_CHECKS). Other database errors stay 500s.
"""

from django.db import InterfaceError, OperationalError, ProgrammingError

# psycopg_pool.PoolTimeout is a psycopg OperationalError: Django raises it as its own.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing relation
# What both layers send as Retry-After: a pool wait or a reconnect is a matter of seconds.
RETRY_AFTER_SECONDS = 1


def _is_missing_table(exc) -> bool:
    # SQLite reports a missing table as an OperationalError, PostgreSQL as a ProgrammingError.
    if isinstance(exc, OperationalError) and "no such table" in str(exc):
        return True
    return isinstance(exc, ProgrammingError) and (
        getattr(exc.__cause__, "sqlstate", None) == UNDEFINED_TABLE
    )


def database_failure_message(exc) -> str | None:
    """What a 503 says for a database failure, or None for errors that stay 500s."""
    if _is_missing_table(exc):
        # Migrations were not applied to this database: waiting will not help.
        return "The database is not set up: a table is missing (run manage.py migrate)."
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return "The database is unavailable; try again."
    return None
