"""The PostgreSQL connection pool (settings: DB_POOL_MAX_SIZE, DB_POOL_MIN_SIZE,
DB_POOL_TIMEOUT). Without it every granian thread kept its own persistent connection:
3 workers x 64 threads against PostgreSQL's max_connections of 100, and "too many
clients" 503s for the app and everyone else on that server. With it a server holds at
most workers x max_size connections, requests past that wait for one, and one that
waits past the timeout gets the API's 503 envelope (a page: the 503 page), not a 500."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from django.db import connection

from bench.slowclient import ROOT, http_get, procfile_command, production_env, serving, status_of
from tests.test_limits_and_faults import _child_database_url, _side_connection

# The autouse cache fixture clears the database cache without Redis, so every test may
# touch the database.
pytestmark = pytest.mark.django_db

IS_POSTGRESQL = connection.vendor == "postgresql"
APP_NAME = "dp-pool-test"  # psycopg reads PGAPPNAME: the server's connections, by name
LOCKED_ROUTE = "/api/v1/doctors"


def _database_settings(**env) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**production_env(env.pop("DATABASE_URL")), **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


PG_URL = "postgres://postgres@127.0.0.1:5432/unused"


def test_the_pool_is_on_by_default_for_postgresql():
    db = _database_settings(DATABASE_URL=PG_URL)
    assert db["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool
    assert db["OPTIONS"]["pool"] == {
        "min_size": 1,
        "max_size": 10,
        "timeout": 10.0,
        "max_idle": 300.0,
    }
    # Prepared statements stay on: pooled connections keep theirs between requests.
    assert db["OPTIONS"]["prepare_threshold"] == 5


def test_the_pool_reads_its_sizes_and_ignores_conn_max_age():
    db = _database_settings(
        DATABASE_URL=PG_URL,
        DB_POOL_MAX_SIZE="4",
        DB_POOL_MIN_SIZE="2",
        DB_POOL_TIMEOUT="2.5",
        DB_CONN_MAX_AGE="600",
    )
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 4
    assert db["OPTIONS"]["pool"]["min_size"] == 2
    assert db["OPTIONS"]["pool"]["timeout"] == 2.5


def test_max_size_0_turns_the_pool_off_for_pgbouncer():
    db = _database_settings(DATABASE_URL=PG_URL, DB_POOL_MAX_SIZE="0", DB_CONN_MAX_AGE="30")
    assert "pool" not in db["OPTIONS"]
    assert db["CONN_MAX_AGE"] == 30


def test_the_test_process_runs_without_the_pool_unless_told():
    """Its threads come and go by the hundred; the servers it starts have the pool."""
    db = _database_settings(DATABASE_URL=PG_URL, DJANGO_DEBUG="1", DJANGO_TESTING="1")
    assert "pool" not in db["OPTIONS"]
    told = _database_settings(
        DATABASE_URL=PG_URL, DJANGO_DEBUG="1", DJANGO_TESTING="1", DB_POOL_MAX_SIZE="3"
    )
    assert told["OPTIONS"]["pool"]["max_size"] == 3


def test_sqlite_has_no_pool(tmp_path):
    db = _database_settings(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert "pool" not in db["OPTIONS"]
    assert db["CONN_MAX_AGE"] == 0


def served(**extra):
    """A granian server as the Procfile starts it, on this test's database (also SQLite)."""
    command = procfile_command("web")
    # The throttles' cache as the tests', so a request gets past them to its view.
    redis = {"REDIS_URL": os.environ["REDIS_URL"]} if os.environ.get("REDIS_URL") else {}
    env = production_env(_child_database_url(), PGAPPNAME=APP_NAME, **redis, **extra)
    return serving(command, env)


def get_status(port, path=LOCKED_ROUTE):
    """GET path: (status, body); status 0 when the connection failed."""
    try:
        answer = http_get(port, path, timeout=60)
    except OSError as exc:
        return 0, str(exc)
    return status_of(answer), answer.split(b"\r\n\r\n", 1)[-1]


if IS_POSTGRESQL:

    def _server_connections(side) -> int:
        return side.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name = %s",
            [APP_NAME],
        ).fetchone()[0]

    @pytest.mark.django_db(transaction=True)
    def test_more_requests_than_the_pool_hold_at_most_workers_x_max_size():
        workers, threads, max_size, requests = 2, 16, 3, 40
        connection.ensure_connection()
        with (
            served(
                WEB_CONCURRENCY=str(workers),
                WEB_THREADS=str(threads),
                DB_POOL_MAX_SIZE=str(max_size),
                DB_POOL_TIMEOUT="30",
            ) as server,
            _side_connection() as side,
            _side_connection() as locker,
        ):
            # Every request blocks on a locked table while holding its connection: all the
            # server's threads are in the database at once.
            locker.execute("BEGIN")
            locker.execute("LOCK TABLE accounts_user IN ACCESS EXCLUSIVE MODE")
            peak, done = 0, threading.Event()

            def watch():
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, _server_connections(side))
                    time.sleep(0.02)

            watcher = threading.Thread(target=watch)
            watcher.start()
            with ThreadPoolExecutor(max_workers=requests) as pool:
                answers = [pool.submit(get_status, server.port) for _ in range(requests)]
                time.sleep(3)  # every thread of both workers has taken its request
                locker.execute("ROLLBACK")
                results = [answer.result() for answer in answers]
            done.set()
            watcher.join()
        assert [status for status, _ in results] == [200] * requests, results[:3]
        assert 0 < peak <= workers * max_size, peak

    @contextmanager
    def _pool_of_one_held():
        """A server whose pool of one connection (0.5 s timeout) a request holds, stuck
        behind a lock on accounts_user: yields (server, the holder's future). On exit the
        lock goes and the holder finishes."""
        connection.ensure_connection()
        with (
            served(
                WEB_CONCURRENCY="1",
                WEB_THREADS="4",
                DB_POOL_MAX_SIZE="1",
                DB_POOL_TIMEOUT="0.5",
            ) as server,
            _side_connection() as locker,
            ThreadPoolExecutor(max_workers=1) as pool,
        ):
            locker.execute("BEGIN")
            locker.execute("LOCK TABLE accounts_user IN ACCESS EXCLUSIVE MODE")
            holder = pool.submit(get_status, server.port)  # takes the pool's one connection
            time.sleep(1)
            try:
                yield server, holder
            finally:
                locker.execute("ROLLBACK")

    @pytest.mark.django_db(transaction=True)
    def test_waiting_past_the_pool_timeout_is_the_503_envelope():
        with _pool_of_one_held() as (server, holder):
            status, body = get_status(server.port)
        held = holder.result()
        assert status == 503, body
        envelope = json.loads(body)
        assert envelope["success"] is False
        assert envelope["errorMessages"][0]["message"] == "The database is unavailable; try again."
        assert held[0] == 200, held

    @pytest.mark.django_db(transaction=True)
    @pytest.mark.parametrize(
        "cookie",
        [
            None,
            # A returning visitor: a middleware reads the session (and its user) before
            # the view runs, so the pool's timeout is raised outside any view.
            "sessionid=" + "a" * 32,
        ],
        ids=["anonymous", "with-session"],
    )
    def test_a_page_waiting_past_the_pool_timeout_is_the_503_page(cookie):
        with _pool_of_one_held() as (server, holder):
            # Answered while the holder still has the connection: the pool's timeout.
            answer = http_get(
                server.port, "/", timeout=60, headers={"Cookie": cookie} if cookie else {}
            )
            log = server.read_log()
        held = holder.result()
        head, _, body = answer.decode().partition("\r\n\r\n")
        headers = head.lower().splitlines()
        assert status_of(answer) == 503, answer[:2000]
        assert "retry-after: 1" in headers, head
        assert any(h.startswith("content-type: text/html") for h in headers), head
        assert "The site is briefly unavailable" in body
        assert "Traceback" not in body
        # One warning for the request, no traceback in the server's log.
        assert log.count("Database unavailable at / ") == 1, log
        assert "Traceback" not in log, log
        assert held[0] == 200, held

    @pytest.mark.django_db(transaction=True)
    def test_a_stalled_authenticated_body_holds_no_pool_connection():
        # Authentication reads the user from the database before the view reads the body:
        # the body is read first, so a client stalling in it cannot sit on a connection
        # and make everyone else wait for the pool (README, "Server: granian").
        from django.conf import settings
        from rest_framework_simplejwt.tokens import RefreshToken

        from tests.factories import PatientFactory

        token = str(RefreshToken.for_user(PatientFactory()).access_token)
        connection.ensure_connection()
        with served(
            WEB_CONCURRENCY="1",
            WEB_THREADS="4",
            DB_POOL_MAX_SIZE="1",
            DB_POOL_TIMEOUT="2",
            JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
        ) as server:
            head = (
                f"POST /api/v1/bookings HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                f"Authorization: Bearer {token}\r\nX-Forwarded-Proto: https\r\n"
                'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"slotId": '
            ).encode()
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as stalled:
                stalled.sendall(head)
                time.sleep(1)  # the server has the headers and is waiting for the rest
                status, body = get_status(server.port)
                rest = b"1}".ljust(1000 - len(b'{"slotId": '), b" ")
                stalled.sendall(rest)
                stalled_answer = stalled.recv(65536)
        assert status == 200, body
        # The stalled request was authenticated and reached the view (no slot 1: 4xx).
        assert status_of(stalled_answer) in (400, 404), stalled_answer
