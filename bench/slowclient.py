"""Slow clients: health latency while sockets sit stalled in the middle of a request.

Starts the server the Procfile's `web:` line names (or --command), in production mode, on a
free loopback port. Each stalled socket sends a POST's headers with Content-Length: 100000
and the first bytes of the body, then nothing. With 0, 10 and 50 such sockets open it asks
/api/v1/health over fresh connections and prints p50/p99 (a request that does not answer
within --timeout counts as that long, and as a timeout). Everything is on loopback and
bounded: a fixed number of requests, then every socket and the server are closed.

    .venv/bin/python bench/slowclient.py                      # the Procfile's server
    .venv/bin/python bench/slowclient.py --command "gunicorn doctors_portal.wsgi -w 3 -b {bind}"

The test suite imports the pieces (tests/test_server_slow_clients.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HEALTH = "/api/v1/health"
# A route that reads its body: a stalled body holds whatever reads it.
STALLED_PATH = "/api/v1/auth/token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(process: str = "web") -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() == process:
            return command.strip()
    raise LookupError(f"the Procfile has no {process}: line")


def production_env(database_url: str, **extra: str) -> dict:
    """DJANGO_DEBUG=0 with the secrets production insists on, made up for this run."""
    keep = {k: os.environ[k] for k in ("HOME", "LANG") if k in os.environ}
    return {
        **keep,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DJANGO_SETTINGS_MODULE": "doctors_portal.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STRIPE_SECRET_KEY": "sk_test_" + secrets.token_hex(12),
        "STRIPE_PUBLISHABLE_KEY": "pk_test_" + secrets.token_hex(12),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(12),
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


def migrate(env: dict) -> None:
    """Migrate env's database. A stalled POST only holds a thread once the view reads its
    body; on an unmigrated database the request fails (500) before it gets that far."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


def http_get(port: int, path: str, *, timeout: float, headers: dict | None = None) -> bytes:
    """One request on a fresh connection; the raw answer (status line, headers, body)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    # Production redirects plain http to https unless a proxy says the client used https.
    lines += [f"{k}: {v}" for k, v in {"X-Forwarded-Proto": "https", **(headers or {})}.items()]
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(answer: bytes) -> int:
    parts = answer.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _group_alive(group: int, shell: subprocess.Popen) -> bool:
    shell.poll()  # reap sh, so its own zombie does not count
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


class Server:
    """A server command (with {bind} or $PORT) running in its own process group."""

    def __init__(self, command: str, env: dict, *, port: int | None = None):
        self.port = port or free_port()
        bind = f"127.0.0.1:{self.port}"
        command = command.replace("{bind}", bind)
        # Loopback only, whichever server: granian reads GRANIAN_HOST, gunicorn its CMD_ARGS.
        env = {
            **env,
            "PORT": str(self.port),
            "GRANIAN_HOST": "127.0.0.1",
            "GUNICORN_CMD_ARGS": f"--bind={bind}",
        }
        # Kept open for the server to write to; closed and removed by stop().
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="slowclient-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            ["sh", "-c", command],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if status_of(http_get(self.port, HEALTH, timeout=5)) == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the server did not answer {HEALTH}:\n{self.read_log()}")

    def read_log(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """End the whole process group, not only `sh`: sh dies at once on SIGTERM and
        leaves the server it forked running if that server is slow to stop (a granian
        whose workers never finish a graceful stop was found alive after a suite run)."""
        group = self.proc.pid  # start_new_session: the group is named after sh
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _group_alive(group, self.proc):
            time.sleep(0.1)
        with suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


@contextmanager
def serving(command: str, env: dict):
    server = Server(command, env)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@contextmanager
def stalled_sockets(port: int, count: int, *, first_bytes: str = '{"email": '):
    """`count` connections that sent headers and `first_bytes` of 100,000 body bytes, then
    stall. The view reads the body, so with granian's WSGI interface each one holds a
    Python thread (granian hands Django the request once its headers are in and streams
    the body on demand)."""
    head = (
        f"POST {STALLED_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nX-Forwarded-Proto: https\r\n"
        "Content-Length: 100000\r\n\r\n" + first_bytes
    ).encode()
    with ExitStack() as stack:
        for _ in range(count):
            sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            sock.sendall(head)
        time.sleep(0.5)  # let the server accept them and start reading
        yield


def health_latencies(port: int, requests: int, timeout: float) -> tuple[list[float], int]:
    """Seconds per health request (a timeout counts as `timeout`), and how many timed out."""
    times, timeouts = [], 0
    for _ in range(requests):
        started = time.perf_counter()
        try:
            ok = status_of(http_get(port, HEALTH, timeout=timeout)) == 200
        except OSError:
            ok = False
        elapsed = time.perf_counter() - started
        if not ok:
            timeouts += 1
            elapsed = max(elapsed, timeout)
        times.append(elapsed)
    return times, timeouts


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(command: str, env: dict, counts: list[int], requests: int, timeout: float) -> list:
    rows = []
    with serving(command, env) as server:
        health_latencies(server.port, 20, timeout)  # warm-up: every worker has answered
        for count in counts:
            with stalled_sockets(server.port, count):
                times, timeouts = health_latencies(server.port, requests, timeout)
            rows.append(
                {
                    "stalled": count,
                    "requests": requests,
                    "p50_ms": percentile(times, 0.5) * 1000,
                    "p99_ms": percentile(times, 0.99) * 1000,
                    "mean_ms": statistics.fmean(times) * 1000,
                    "failed": timeouts,
                }
            )
            time.sleep(1)  # the server notices the closed sockets before the next round
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--command", help="server command; {bind} is replaced by host:port")
    parser.add_argument("--stalled", default="0,10,50", help="stalled socket counts")
    parser.add_argument("--requests", type=int, default=200, help="health requests per count")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    args = parser.parse_args()

    command = args.command or procfile_command()
    counts = [int(n) for n in args.stalled.split(",")]
    database_url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        env = production_env(database_url or f"sqlite:///{tmp}/slowclient.sqlite3")
        migrate(env)
        rows = measure(command, env, counts, args.requests, args.timeout)
    print(f"server: {command}")
    print(f"database: {'DATABASE_URL' if database_url else 'SQLite'}; cores: {os.cpu_count()}")
    print("| stalled sockets | requests | p50 ms | p99 ms | failed (no answer in time) |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['stalled']} | {row['requests']} | {row['p50_ms']:.1f} | "
            f"{row['p99_ms']:.1f} | {row['failed']} |"
        )


if __name__ == "__main__":
    main()
