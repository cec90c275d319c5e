"""Start-up checks for production."""

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core import checks
from django.core.files.storage import storages

MISSING_MANIFEST = checks.Error(
    "The staticfiles manifest is missing, so every page would answer 500.",
    hint="Run `manage.py collectstatic --no-input` before starting the server.",
    id="doctors_portal.E001",
)


def static_manifest_errors() -> list[checks.CheckMessage]:
    # A fresh instance: read the settings as they are now, not a cached storage.
    storage = storages.create_storage(settings.STORAGES["staticfiles"])
    if isinstance(storage, ManifestFilesMixin) and storage.read_manifest() is None:
        return [MISSING_MANIFEST]
    return []


# Deploy only: collectstatic runs the checks too, before any manifest exists.
@checks.register(checks.Tags.staticfiles, deploy=True)
def check_static_manifest(app_configs=None, **kwargs):
    return static_manifest_errors()
