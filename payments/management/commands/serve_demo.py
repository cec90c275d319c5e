"""`manage.py serve_demo --host 127.0.0.1 --port 5009`: the app for `make run`.

With no STRIPE_SECRET_KEY in the environment it starts a localstripe (a fake Stripe
that the real SDK talks to) on a free loopback port, points the app at it, has it
deliver signed webhooks to the app, and stops it on exit. With a key set, it only
serves the app, against whatever Stripe the environment names.

It also runs the background worker with its beat (`celery worker --beat`, one
process), on whatever broker CELERY_BROKER_URL names: unset, a folder on this
machine, so mails and reminders go out (to the console) with no Redis.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

WEBHOOK_ID = "doctors-portal-demo"


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class Command(BaseCommand):
    help = "Serve the app; without STRIPE_SECRET_KEY, beside a localstripe fake Stripe."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=5009)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--server", choices=["gunicorn", "runserver"], default="gunicorn")

    def handle(self, *args, host: str, port: int, workers: int, server: str, **options):
        env = os.environ.copy()
        localstripe = None
        worker = None
        # A browser-reachable name for this machine when serving on every interface.
        public_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        # SIGTERM (from make, systemd, a container) must still stop localstripe.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            if not os.environ.get("STRIPE_SECRET_KEY"):
                localstripe, stripe_env = self._start_localstripe(public_host, port)
                env.update(stripe_env)
            command = self._server_command(server, host, port, workers)
            self.stdout.write(
                self.style.SUCCESS(f"Doctors Portal: http://{public_host}:{port}/")
                + f"\n  API docs: http://{public_host}:{port}/api/v1/docs"
                + (
                    f"\n  Stripe: localstripe at {env['STRIPE_API_BASE']} "
                    "(test card 4242424242424242, declined 4000000000000341), "
                    "webhooks to /api/v1/payments/webhook"
                    if localstripe
                    else "\n  Stripe: as configured by STRIPE_SECRET_KEY"
                )
            )
            self.stdout.flush()
            worker = self._start_worker(env)
            app = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)  # noqa: S603
            try:
                code = app.wait()
            finally:
                if app.poll() is None:
                    app.terminate()
                    try:
                        app.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        app.kill()
            if code:
                raise CommandError(f"The app server exited with status {code}.")
        except KeyboardInterrupt:
            pass
        finally:
            _stop(worker)
            _stop(localstripe)

    def _start_worker(self, env: dict) -> subprocess.Popen:
        # A schedule file of its own: beat's state is not the project's to commit.
        schedule = Path(tempfile.gettempdir()) / f"doctors-portal-beat-{os.getpid()}"
        self.stdout.write(
            "  Worker: celery worker --beat on "
            f"{str(settings.CELERY_BROKER_URL).split('@')[-1]}; mails print below\n"
        )
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "doctors_portal", "worker", "--beat",
             "--pool", "solo", "--loglevel", "INFO", "--schedule", str(schedule)],
            env=env,
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )  # fmt: skip

    def _server_command(self, server: str, host: str, port: int, workers: int) -> list[str]:
        if server == "runserver":
            manage = str(Path(settings.BASE_DIR) / "manage.py")
            return [sys.executable, manage, "runserver", f"{host}:{port}", "--noreload"]
        bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "doctors_portal.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--access-logfile",
            "-",
        ]

    def _start_localstripe(self, public_host: str, app_port: int):
        executable = Path(sys.executable).with_name("localstripe")
        if not executable.exists():
            raise CommandError(
                f"localstripe is not installed ({executable}): it is in the demo extra "
                "(make run installs it)."
            )
        stripe_port = _free_loopback_port()
        base = f"http://127.0.0.1:{stripe_port}"
        log_path = Path(tempfile.gettempdir()) / f"doctors-portal-localstripe-{stripe_port}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603
                [str(executable), "--port", str(stripe_port), "--from-scratch"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while not _answers(f"{base}/js.stripe.com/v3/"):
            if process.poll() is not None or time.monotonic() > deadline:
                _stop(process)
                raise CommandError(f"localstripe did not start; see {log_path}.")
            time.sleep(0.1)
        secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or settings.STRIPE_WEBHOOK_SECRET
        app_host = f"[{public_host}]" if ":" in public_host else public_host
        body = json.dumps(
            {"url": f"http://{app_host}:{app_port}/api/v1/payments/webhook", "secret": secret}
        ).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{base}/_config/webhooks/{WEBHOOK_ID}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                pass
        except (urllib.error.URLError, OSError) as exc:
            _stop(process)
            raise CommandError(f"Could not register localstripe's webhook: {exc}") from exc
        js_host = f"http://{public_host}:{stripe_port}" if public_host else base
        return process, {
            "STRIPE_SECRET_KEY": "sk_test_localstripe_demo",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_localstripe_demo",
            "STRIPE_WEBHOOK_SECRET": secret,
            "STRIPE_API_BASE": base,
            "STRIPE_JS_URL": f"{js_host}/js.stripe.com/v3/",
        }
