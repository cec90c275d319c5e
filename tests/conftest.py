import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import AdminFactory, DoctorFactory, PatientFactory

# Real components, each started once per session by its own fixture module.
pytest_plugins = ["tests.fixtures.firebase", "tests.fixtures.stripe"]


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    """Each test's uploads in a folder of its own (the default storage reads MEDIA_ROOT
    again when the setting changes); tests assert on it to prove nothing was stored."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; one test's requests must not throttle the next.
    # Cached availability must not outlive the test's database either.
    from django.core.cache import caches

    for alias in ("default", "availability"):
        caches[alias].clear()
    yield


def bearer_client(user) -> APIClient:
    client = APIClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user = user
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for():
    """`client_for(user)`: an APIClient sending that user's access token."""
    return bearer_client


@pytest.fixture
def patient(db):
    return PatientFactory()


@pytest.fixture
def other_patient(db):
    return PatientFactory()


@pytest.fixture
def doctor(db):
    return DoctorFactory()


@pytest.fixture
def other_doctor(db):
    return DoctorFactory()


@pytest.fixture
def unverified_doctor(db):
    return DoctorFactory(profile__verified=False)


@pytest.fixture
def admin_user(db):
    return AdminFactory()


def pytest_collection_modifyitems(config, items):
    """A `postgresql_only` test proves what only PostgreSQL does (row locks under real
    threads, exclusion constraints). On SQLite it is deselected, not skipped: CI's
    PostgreSQL pass runs it, and a skip still means a missing component."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    kept = [item for item in items if item.get_closest_marker("postgresql_only") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_sessionfinish(session, exitstatus):
    """CI sets FAIL_ON_SKIP: a test skipped for a missing component fails the run."""
    import os

    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped"):
        reporter.write_line("FAIL_ON_SKIP: tests were skipped; CI needs every component.")
        session.exitstatus = 1


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """Tests that start the app in production mode (deploy check, granian, nginx) need
    collectstatic's manifest, which production refuses to start without. A fresh clone has
    none, so collect once, with production storage, into the ignored staticfiles/."""
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    if (root / "staticfiles" / "staticfiles.json").exists():
        return
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_TESTING", "DATABASE_URL")}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        STRIPE_SECRET_KEY="sk_test_collectstatic",
        STRIPE_WEBHOOK_SECRET="whsec_collectstatic",
    )
    env.pop("FIREBASE_AUTH_EMULATOR_HOST", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=root,
        env=env,
        check=True,
        timeout=300,
    )
