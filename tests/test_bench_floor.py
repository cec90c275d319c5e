"""The benchmark's floor route exists only under the benchmark's settings."""

from decimal import Decimal

import pytest
from django.urls import get_resolver

from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _names(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _names(pattern.url_patterns)
        else:
            yield pattern.name


def test_the_production_url_conf_has_no_floor(client):
    service = ServiceFactory()
    assert "bench-floor" not in set(_names(get_resolver().url_patterns))
    response = client.get(f"/api/v1/bench/floor?id={service.pk}")
    assert response.status_code == 404
    assert response.json()["success"] is False


@pytest.mark.urls("doctors_portal.bench_urls")
def test_the_bench_url_conf_serves_the_floor_and_every_app_route(client):
    service = ServiceFactory(name="Floor", price=Decimal("12.50"))
    body = client.get(f"/api/v1/bench/floor?id={service.pk}").json()
    assert body["data"] == {"id": service.pk, "_id": service.pk, "name": "Floor", "price": "12.50"}
    assert client.get("/api/v1/bench/floor?id=0").status_code == 404
    assert client.post(f"/api/v1/bench/floor?id={service.pk}").status_code == 405
    assert client.get("/api/v1/health").status_code == 200


def test_the_bench_settings_select_the_bench_url_conf():
    from doctors_portal import settings, settings_bench

    assert settings_bench.ROOT_URLCONF == "doctors_portal.bench_urls"
    assert settings.ROOT_URLCONF == "doctors_portal.urls"
    assert settings_bench.DATABASES == settings.DATABASES


def test_the_bench_url_conf_leaves_the_apps_availability_cache_alone():
    # The miss counter is for the benchmark's server only (settings_bench); loaded by a
    # test, it stayed wrapped around every later test's appointmentOptions (a 500 on a
    # cache without django-redis's incr options).
    import doctors_portal.bench_urls  # noqa: F401
    from scheduling import availability_cache

    assert not getattr(availability_cache._compute, "bench_counting", False)
