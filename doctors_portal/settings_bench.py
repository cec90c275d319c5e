"""Settings of the benchmark's server (bench/bench.py sets DJANGO_SETTINGS_MODULE to this):
the app's settings as they are, with a URL conf that adds the framework floor."""

from doctors_portal.settings import *  # noqa: F403

ROOT_URLCONF = "doctors_portal.bench_urls"
