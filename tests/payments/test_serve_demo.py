"""`manage.py serve_demo` (make run): the app beside its own localstripe, stopped together."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings
from django.db import connection

from tests.fixtures.stripe import free_port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_serve_demo_runs_the_app_beside_localstripe_and_stops_it_on_exit(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update(DATABASE_URL=_test_database_url(), DJANGO_DEBUG="1")
    log = tmp_path / "serve_demo.log"
    stripe_base = None
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve_demo", "--port", str(port), "--workers", "1"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"http://127.0.0.1:{port}/api/v1/health"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        printed = log.read_text()
        assert f"http://127.0.0.1:{port}/" in printed
        stripe_base = re.search(r"localstripe at (http://127\.0\.0\.1:\d+)", printed).group(1)
        assert _answers(f"{stripe_base}/js.stripe.com/v3/")  # the stand-in Stripe.js
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert stripe_base and not _answers(f"{stripe_base}/js.stripe.com/v3/")  # stopped with it
