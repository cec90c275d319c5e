"""Real components for the outbox's process tests: an SMTP server (aiosmtpd) on a
loopback port that can be stopped and started again, and Celery worker processes
(each with its beat) against Redis and the test database."""

import email
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from tests.fixtures.stripe import free_port

# The brokers these tests use; a Redis database of their own.
TEST_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/10")


class Inbox:
    """What the SMTP server accepted; `slow_first` holds the first DATA that long."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.slow_first = 0.0

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        self.messages.append(email.message_from_bytes(envelope.content))
        if self.slow_first and len(self.messages) == 1:
            await asyncio.sleep(self.slow_first)
        return "250 OK"

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.messages]


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self._controller = None

    def start(self):
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def _flush_broker(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@pytest.fixture
def start_worker(tmp_path, smtp_server) -> Callable[..., subprocess.Popen]:
    """`start_worker(name)`: a real `celery worker --beat` process; all stopped at the end."""
    _flush_broker(TEST_BROKER_URL)
    started: list[subprocess.Popen] = []

    def start(name: str = "w1", **extra_env: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
        env.update(
            DJANGO_DEBUG="1",
            DJANGO_TESTING="1",
            DATABASE_URL=test_database_url(),
            CELERY_BROKER_URL=TEST_BROKER_URL,
            CELERY_TASK_ALWAYS_EAGER="0",
            EMAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}",
            OUTBOX_SWEEP_SECONDS="0.5",
            OUTBOX_RETRY_BASE_SECONDS="1",
            OUTBOX_RETRY_MAX_SECONDS="2",
            OUTBOX_CLAIM_SECONDS="3",
            **extra_env,
        )
        log = (tmp_path / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "doctors_portal", "worker", "--beat",
             "--pool", "solo", "--hostname", f"{name}@%h", "--loglevel", "INFO",
             "--schedule", str(tmp_path / f"{name}-beat")],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        process.log_path = Path(log.name)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_process(process)


def stop_process(process: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def wait_for(condition: Callable[[], bool], *, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.1)


@pytest.fixture
def publish_to():
    """`publish_to(url)`: this test process hands rows over to that broker, not in-process."""
    from doctors_portal.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)

    def reset_connections():
        # Forget the connections to the previous broker without closing pools that
        # kombu's global registry may hand out again.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    def point(url: str) -> None:
        app.conf.task_always_eager = False
        app.conf.broker_url = url
        reset_connections()

    yield point
    app.conf.task_always_eager, app.conf.broker_url = saved
    reset_connections()
