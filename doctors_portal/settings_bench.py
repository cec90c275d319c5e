"""Settings of the benchmark's server (bench/bench.py sets DJANGO_SETTINGS_MODULE to this):
the app's settings as they are, with a URL conf that adds the framework floor."""

from datetime import timedelta

from doctors_portal.settings import *  # noqa: F403

ROOT_URLCONF = "doctors_portal.bench_urls"

# The benchmark mints its access tokens once, before a warm-up and rounds that take longer
# than the app's 15 minutes on a busy machine: expired, every authenticated row was a 401.
SIMPLE_JWT = {**SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(hours=12)}  # noqa: F405

# doctors_portal.bench_urls counts the availability cache's misses (mix_bench's hit rate).
BENCH_COUNT_AVAILABILITY_MISSES = True
