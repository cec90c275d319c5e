"""doctors_portal.api.throttling.OneTripRateThrottle: DRF's sliding window, decided in one
atomic Redis call when the cache is django-redis, DRF's GET and SET on any other cache;
the same answers and waits either way, as SimpleRateThrottle gives them."""

import os

import pytest
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import SimpleRateThrottle

from doctors_portal.api.throttling import OneTripRateThrottle

pytestmark = pytest.mark.django_db

# Redis is a component of every run (CI starts it), with or without REDIS_URL.
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/9"
BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "redis": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        "KEY_PREFIX": "throttle-test",
    },
}


def _use(settings, backend: str):
    settings.CACHES = {**settings.CACHES, "default": BACKENDS[backend]}
    from django.core.cache import caches

    caches["default"].clear()
    return caches["default"]


@pytest.fixture(params=list(BACKENDS))
def cache_backend(request, settings):
    cache = _use(settings, request.param)
    yield request.param
    cache.clear()


@pytest.fixture
def redis_backend(settings):
    cache = _use(settings, "redis")
    yield "redis"
    cache.clear()


def _throttles(clock):
    class Ours(OneTripRateThrottle):
        rate = "3/min"
        timer = staticmethod(lambda: clock[0])

        def get_cache_key(self, request, view):
            return "throttle_test_ours"

    class Drfs(SimpleRateThrottle):
        rate = "3/min"
        timer = staticmethod(lambda: clock[0])

        def get_cache_key(self, request, view):
            return "throttle_test_drfs"

    return Ours, Drfs


def test_the_same_answers_and_waits_as_drf(cache_backend):
    clock = [1_700_000_000.25]
    ours, drfs = _throttles(clock)
    request = APIRequestFactory().post("/")
    # Bursts, refusals, the window's edge (a request exactly `duration` old has left it).
    for at in [0, 1, 2, 3, 30, 59.999, 60, 60.5, 61, 62, 62, 120, 200, 200.001, 200.002, 201]:
        clock[0] = 1_700_000_000.25 + at
        a, b = ours(), drfs()
        allowed = a.allow_request(request, None)
        assert allowed == b.allow_request(request, None), at
        if not allowed:
            assert a.wait() == pytest.approx(b.wait()), at


def test_redis_decides_in_one_round_trip(redis_backend, monkeypatch):
    import redis.client

    calls = []
    real = redis.client.Redis.execute_command

    def counted(self, *args, **kwargs):
        calls.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Redis, "execute_command", counted)
    clock = [1_700_000_000.0]
    ours, _ = _throttles(clock)
    request = APIRequestFactory().post("/")
    ours().allow_request(request, None)  # the first may load the script
    for i in range(4):
        calls.clear()
        clock[0] += 0.001
        assert ours().allow_request(request, None) is (i < 2)
        assert calls == ["EVALSHA"]


def test_requests_at_one_instant_each_count(cache_backend):
    """Two requests with the same timestamp are two requests (not one set member)."""
    clock = [1_700_000_000.0]
    ours, _ = _throttles(clock)
    request = APIRequestFactory().post("/")
    assert [ours().allow_request(request, None) for _ in range(4)] == [True, True, True, False]


def _at_once(allow, callers: int) -> list[bool]:
    """`allow()` from `callers` threads released together."""
    import threading

    barrier = threading.Barrier(callers)
    answers: list[bool] = []

    def one():
        barrier.wait()
        answers.append(allow())

    threads = [threading.Thread(target=one) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


def test_the_payment_scope_holds_its_rate_under_simultaneous_requests(redis_backend):
    """create-payment-intent costs a Stripe call each: one patient's requests at once pass
    at most the payment rate (DRF's ScopedRateThrottle read and wrote the history apart,
    and 42 of 50 passed a rate of 30)."""
    from django.db import close_old_connections

    from payments.api import PaymentViewSet
    from tests.factories import PatientFactory

    view = PaymentViewSet(action="create_payment_intent")
    request = APIRequestFactory().post("/")
    request.user = PatientFactory()
    (throttle_class,) = {type(t) for t in view.get_throttles()}

    def allow():
        try:
            throttle = throttle_class()
            throttle.THROTTLE_RATES = {"payment": "5/min"}
            return throttle.allow_request(request, view)
        finally:
            close_old_connections()

    answers = _at_once(allow, 40)
    assert len(answers) == 40 and answers.count(True) == 5
