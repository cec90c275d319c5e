"""Production refuses to start without collectstatic's manifest (every page would be a
500, "Missing staticfiles manifest entry"): `check --deploy` errors, and so does loading
the WSGI application."""

import importlib
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from doctors_portal.checks import MISSING_MANIFEST, static_manifest_errors

# The autouse cache fixture clears the database cache, so every test touches the DB.
pytestmark = pytest.mark.django_db

MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


@pytest.fixture
def production_static(settings, tmp_path):
    settings.STORAGES = MANIFEST_STORAGES
    settings.STATIC_ROOT = tmp_path
    return tmp_path


def test_a_missing_manifest_is_an_error(production_static):
    assert static_manifest_errors() == [MISSING_MANIFEST]


def test_check_deploy_fails_without_the_manifest(production_static):
    with pytest.raises(SystemCheckError, match=r"doctors_portal\.E001"):
        call_command("check", "--deploy", "--tag", "staticfiles")


def test_the_check_passes_after_collectstatic(production_static):
    call_command("collectstatic", "--no-input", verbosity=0)
    assert (production_static / "staticfiles.json").exists()
    assert static_manifest_errors() == []


def test_development_storage_needs_no_manifest(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path  # the tests' plain StaticFilesStorage
    assert static_manifest_errors() == []


def test_the_wsgi_application_refuses_to_load_without_the_manifest(production_static):
    sys.modules.pop("doctors_portal.wsgi", None)
    try:
        with pytest.raises(ImproperlyConfigured, match="collectstatic"):
            importlib.import_module("doctors_portal.wsgi")
    finally:
        sys.modules.pop("doctors_portal.wsgi", None)
