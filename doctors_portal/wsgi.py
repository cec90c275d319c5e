import gc
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")
application = get_wsgi_application()

# Refuse to serve without collectstatic's manifest: every page would be a 500.
from doctors_portal.checks import static_manifest_errors  # noqa: E402 (needs Django set up)

if errors := static_manifest_errors():
    raise ImproperlyConfigured(f"{errors[0].msg} {errors[0].hint}")

# Import the URL conf and every view now, then take what lives as long as the process
# (modules, classes, settings, routes: about 130,000 objects) out of the cyclic garbage
# collector's reach. Otherwise each full collection walks all of them again, and that
# pause (about 70 ms) was the p99 of the benchmark's larger answers (bench/NOTES.md).
get_resolver().url_patterns  # noqa: B018 (imports the views)
gc.freeze()
