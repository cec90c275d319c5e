"""deploy/nginx.conf with Debian's nginx: the file passes `nginx -t`, serves /static/ itself,
passes a request to the app, and sets the forwarded headers the app trusts behind one
proxy (TRUSTED_PROXY_COUNT=1). Everything on loopback; every process ends with its test."""

import http.server
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.slowclient import (
    ROOT,
    free_port,
    http_get,
    procfile_command,
    production_env,
    serving,
    status_of,
)

pytestmark = pytest.mark.django_db

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = ROOT / "deploy" / "nginx.conf"
PLACEHOLDERS = ("DP_LISTEN", "DP_UPSTREAM", "DP_STATIC_ROOT", "DP_RUN_DIR")


@pytest.fixture
def nginx_dir():
    """nginx's workers run as an unprivileged user: they must be able to enter this one."""
    path = Path(tempfile.mkdtemp(prefix="dp-nginx-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def render(tmp_path: Path, *, upstream_port: int) -> tuple[Path, int, Path]:
    """The shipped file with its four placeholders filled in, as envsubst would."""
    if not Path(NGINX).exists():
        pytest.fail("Debian's nginx is required (apt-get install nginx)", pytrace=False)
    port = free_port()
    static = tmp_path / "staticfiles"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body { color: teal; }\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    values = {
        "DP_LISTEN": f"127.0.0.1:{port}",
        "DP_UPSTREAM": f"127.0.0.1:{upstream_port}",
        "DP_STATIC_ROOT": str(static),
        "DP_RUN_DIR": str(run_dir),
    }
    text = TEMPLATE.read_text()
    for name in PLACEHOLDERS:
        assert "${" + name + "}" in text, name
        text = text.replace("${" + name + "}", values[name])
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    return conf, port, static


def nginx_test(conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NGINX, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30
    )


@contextmanager
def running_nginx(conf: Path, port: int):
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                http_get(port, "/static/css/site.css", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield proc
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful: the master waits for its workers
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):
        type(self).seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_PATCH(self):
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        type(self).seen.append({**dict(self.headers), "path": self.path})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_POST = do_PATCH

    def log_message(self, *args):
        pass


@contextmanager
def recording_upstream():
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_shipped_config_passes_nginx_t(nginx_dir):
    conf, _, _ = render(nginx_dir, upstream_port=free_port())
    result = nginx_test(conf)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr
    text = conf.read_text()
    for directive in ("client_body_timeout", "proxy_request_buffering on"):
        assert directive in text


def test_nginx_sets_the_forwarded_headers_the_app_trusts_and_serves_static(nginx_dir):
    with recording_upstream() as (upstream_port, seen):
        conf, port, _ = render(nginx_dir, upstream_port=upstream_port)
        with running_nginx(conf, port):
            static = http_get(port, "/static/css/site.css", timeout=5)
            # A client that lies about its address and its scheme.
            answer = http_get(
                port,
                "/api/v1/health",
                timeout=5,
                headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
            )
    assert status_of(static) == 200 and static.endswith(b"body { color: teal; }\n")
    assert status_of(answer) == 200
    [headers] = seen
    # The last entry is the peer nginx saw: the one TRUSTED_PROXY_COUNT=1 makes the client.
    assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["Host"] == "127.0.0.1"  # $host: the name, without the port


def test_one_request_through_nginx_reaches_the_production_app(tmp_path, nginx_dir):
    # TLS would end at nginx or a load balancer; this nginx speaks plain http on loopback.
    env = production_env(f"sqlite:///{tmp_path / 'nginx.sqlite3'}", DJANGO_SECURE_SSL_REDIRECT="0")
    with serving(procfile_command("web"), env) as app:
        conf, port, _ = render(nginx_dir, upstream_port=app.port)
        with running_nginx(conf, port):
            answer = http_get(port, "/api/v1/health", timeout=5)
    _, _, body = answer.partition(b"\r\n\r\n")
    assert status_of(answer) == 200, answer
    assert b'"database":"ok"' in body.replace(b" ", b"")


def test_only_the_profile_routes_carry_uploads_past_one_mebibyte(nginx_dir):
    import http.client

    def send(port, method, path, size):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = b"x" * size
        connection.request(method, path, body=body, headers={"Content-Type": "text/plain"})
        status = connection.getresponse().status
        connection.close()
        return status

    three_mib = 3 * 1024 * 1024
    with recording_upstream() as (upstream_port, seen):
        conf, port, _ = render(nginx_dir, upstream_port=upstream_port)
        with running_nginx(conf, port):
            assert send(port, "PATCH", "/api/v1/users/7", three_mib) == 200
            assert send(port, "POST", "/profile/", three_mib) == 200
            assert send(port, "POST", "/api/v1/bookings", three_mib) == 413
            assert send(port, "PATCH", "/api/v1/users/7/export", three_mib) == 413
            assert send(port, "PATCH", "/api/v1/users/7", 12 * 1024 * 1024) == 413
    assert [entry["path"] for entry in seen] == ["/api/v1/users/7", "/profile/"]
