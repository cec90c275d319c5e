"""A Stripe that accepts connections and never answers (an outside tester's finding).

The create-payment-intent call held the booking's row lock and its pooled database
connection through the Stripe call and the SDK's retries: 30 of them ran a worker's
pool dry and unrelated requests got 503. Now no lock, transaction or connection is held
while Stripe answers, a second call for the same booking is refused at once (409), the
SDK's wait is bounded (502), and what changed while Stripe was asked is checked again.
"""

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from bench.slowclient import ROOT, production_env
from bookings.models import Booking, BookingStatus
from bookings.services import booking_cancel, booking_create
from payments.models import Payment, PaymentIntentClaim
from payments.stripe_gateway import call_bound_seconds
from tests.conftest import bearer_client
from tests.factories import PatientFactory, SlotFactory
from tests.payments.conftest import lapse_hold
from tests.payments.test_idempotency_and_races import RecordingProxy, _race
from tests.test_db_pool import APP_NAME, get_status, served
from tests.test_limits_and_faults import _side_connection

CREATE = "/api/v1/create-payment-intent"
PAY = "/api/v1/payment"
# The servers' Stripe settings: 2 attempts of 1 s and one backoff sleep (at most 0.5 s).
TIMEOUT, RETRIES, WORST_CASE = 1, 1, 2.5
SLACK = 4  # the request's own work, on a shared and loaded 2-core machine


class SilentStripe:
    """A loopback listener that accepts every connection, reads it, and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.received: list[bytes] = []
        self.held: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        with contextlib.suppress(OSError):
            self.received.append(conn.recv(65536))

    def idempotency_keys(self) -> list[str]:
        keys = []
        for request in self.received:
            for line in request.decode(errors="replace").split("\r\n"):
                name, _, value = line.partition(":")
                if name.lower() == "idempotency-key":
                    keys.append(value.strip())
        return keys

    def close(self):
        self.closed.set()
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent_stripe():
    silent = SilentStripe()
    yield silent
    silent.close()


def _post(port: int, path: str, body: dict, token: str) -> tuple[int, dict, float]:
    """POST JSON on a fresh connection: (status, envelope, seconds taken)."""
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Authorization: Bearer {token}\r\nX-Forwarded-Proto: https\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode()
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(head + payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    taken = time.monotonic() - started
    answer = b"".join(chunks)
    status = int(answer.split(b" ", 2)[1])
    return status, json.loads(answer.split(b"\r\n\r\n", 1)[1] or b"{}"), taken


def _server_connections_while(going) -> list[tuple[int, int]]:
    """(connections, of them in a transaction for 0.5 s or more) of the server, sampled
    while going(). A Stripe call takes a second or more; the app's own transactions not."""
    if connection.vendor != "postgresql":
        return []
    samples = []
    with _side_connection() as side:
        while going():
            samples.append(
                side.execute(
                    "SELECT count(*), count(*) FILTER "
                    "(WHERE xact_start < clock_timestamp() - interval '0.5 seconds') "
                    "FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [APP_NAME],
                ).fetchone()
            )
            time.sleep(0.05)
    return samples


def _token(user) -> str:
    return str(RefreshToken.for_user(user).access_token)


@pytest.mark.django_db(transaction=True)
def test_calls_to_a_hanging_stripe_do_not_starve_other_requests_and_end_in_502(silent_stripe):
    # Three patients creating intents and three confirming payments (the sync from
    # Stripe): six calls at Stripe at once, against a pool of two connections.
    creating = [booking_create(patient=PatientFactory(), slot_id=SlotFactory().pk) for _ in "abc"]
    confirming = [booking_create(patient=PatientFactory(), slot_id=SlotFactory().pk) for _ in "de"]
    for index, booking in enumerate(confirming):
        Payment.objects.create(
            booking=booking, intent_id=f"pi_hang_{index}", amount=booking.price, currency="usd"
        )
    confirming.append(booking_create(patient=PatientFactory(), slot_id=SlotFactory().pk))
    Payment.objects.create(
        booking=confirming[-1], intent_id="pi_hang_2", amount=confirming[-1].price, currency="usd"
    )
    calls = [(CREATE, {"bookingId": b.pk}, _token(b.patient)) for b in creating] + [
        (PAY, {"transactionid": b.payment.intent_id, "bookingID": b.pk}, _token(b.patient))
        for b in confirming
    ]
    connection.ensure_connection()
    with (
        served(
            WEB_CONCURRENCY="1",
            WEB_THREADS="24",
            DB_POOL_MAX_SIZE="2",
            DB_POOL_TIMEOUT="2",
            STRIPE_API_BASE=silent_stripe.url,
            STRIPE_TIMEOUT_SECONDS=str(TIMEOUT),
            STRIPE_MAX_NETWORK_RETRIES=str(RETRIES),
            THROTTLE_PAYMENT_RATE="1000/min",
            JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
        ) as server,
        ThreadPoolExecutor(max_workers=len(calls) + 11) as pool,
    ):
        paying = [pool.submit(_post, server.port, *call) for call in calls]
        watched = pool.submit(_server_connections_while, lambda: not paying[-1].done())
        time.sleep(0.7)  # every payment call is waiting on Stripe
        others = [pool.submit(get_status, server.port) for _ in range(10)]
        other_results = [o.result() for o in others]
        paid_results = [p.result() for p in paying]
        samples = watched.result()

    assert [status for status, _ in other_results] == [200] * 10, other_results[:2]
    if connection.vendor == "postgresql":
        # PostgreSQL's own view of the server's connections while six calls were at
        # Stripe: within the pool, and none kept in a transaction (holding row locks).
        assert samples and max(total for total, _ in samples) <= 2, samples
        assert max(in_transaction for _, in_transaction in samples) == 0, samples
    assert [status for status, _, _ in paid_results] == [502] * len(calls), paid_results
    assert max(taken for _, _, taken in paid_results) < WORST_CASE + SLACK, paid_results
    assert "could not be reached" in paid_results[0][1]["errorMessages"][0]["message"]
    # Nothing changed: no intent stored, every booking still held and unpaid.
    assert not Payment.objects.filter(booking__in=creating).exists()
    assert set(
        Booking.objects.filter(pk__in=[b.pk for b in creating + confirming]).values_list(
            "status", "payment_status"
        )
    ) == {(BookingStatus.PENDING_PAYMENT, "unpaid")}
    # Both the create and the sync reached Stripe (twice each: one retry) with keys on
    # the creates only.
    assert len(silent_stripe.received) == 2 * len(calls)
    assert len(silent_stripe.idempotency_keys()) == 2 * len(creating)


@pytest.mark.django_db(transaction=True)
def test_a_second_call_while_the_first_is_with_stripe_is_409_at_once(
    stripe_settings, silent_stripe
):
    reachable = stripe_settings.STRIPE_API_BASE
    stripe_settings.STRIPE_API_BASE = silent_stripe.url
    stripe_settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)

    def call():
        return bearer_client(patient).post(CREATE, {"bookingId": booking.pk}, format="json")

    def timed_call():
        answer = call()
        return answer, time.monotonic()  # when it was answered

    results = _race(*[timed_call] * 4)

    statuses = sorted(answer.status_code for answer, _ in results)
    assert statuses == [409, 409, 409, 502], [a.json() for a, _ in results]
    (hung_until,) = [at for answer, at in results if answer.status_code == 502]
    for answer, answered_at in results:
        if answer.status_code == 409:
            body = answer.json()
            assert body["success"] is False
            assert body["errorMessages"] == [
                {
                    "path": "bookingId",
                    "message": "A payment for this booking is being set up; try again in a moment.",
                }
            ]
            # Refused while the first was still at Stripe, not queued behind it.
            assert answered_at < hung_until
    assert len(silent_stripe.received) == 1  # one request reached Stripe
    assert not Payment.objects.exists()

    # The first call's 502 ended its claim: the next call is not refused as in flight.
    stripe_settings.STRIPE_API_BASE = reachable
    answer = call()
    assert answer.status_code == 200, answer.json()
    assert Payment.objects.get(booking=booking).intent_id == answer.json()["paymentIntentId"]


@pytest.mark.django_db(transaction=True)
def test_a_retry_after_stripe_hung_sends_the_same_idempotency_key(stripe_settings, silent_stripe):
    """Stripe may have created the intent before it hung: the retry's key gets it back,
    so two calls for one booking make at most one intent on Stripe's side."""
    reachable = stripe_settings.STRIPE_API_BASE
    stripe_settings.STRIPE_API_BASE = silent_stripe.url
    stripe_settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)
    client = bearer_client(patient)

    assert client.post(CREATE, {"bookingId": booking.pk}, format="json").status_code == 502
    (hung_key,) = silent_stripe.idempotency_keys()

    proxy = RecordingProxy(reachable)
    stripe_settings.STRIPE_API_BASE = proxy.url
    try:
        first = client.post(CREATE, {"bookingId": booking.pk}, format="json")
        again = client.post(CREATE, {"bookingId": booking.pk}, format="json")
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["paymentIntentId"] == again.json()["paymentIntentId"]
    (created,) = proxy.posts_to("/v1/payment_intents")
    assert created["Idempotency-Key"] == hung_key


def _with_change_during_stripe(stripe_settings, change):
    """Create the booking's intent while `change(booking)` happens as Stripe answers."""
    patient = PatientFactory()
    booking = booking_create(patient=patient, slot_id=SlotFactory().pk)

    def on_answer(method, path):
        if method == "POST" and path == "/v1/payment_intents":
            try:
                change(booking)  # another request, on its own connection, meanwhile
            finally:
                connection.close()

    reachable = stripe_settings.STRIPE_API_BASE
    proxy = RecordingProxy(reachable, on_answer=on_answer)
    stripe_settings.STRIPE_API_BASE = proxy.url
    try:
        answer = bearer_client(patient).post(CREATE, {"bookingId": booking.pk}, format="json")
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
        stripe_settings.STRIPE_API_BASE = reachable
    return booking, answer, proxy


def _intents_cancelled(proxy) -> list[str]:
    return [
        path
        for method, path, _ in proxy.requests
        if method == "POST" and path.startswith("/v1/payment_intents/") and path.endswith("/cancel")
    ]


@pytest.mark.django_db(transaction=True)
def test_booking_cancelled_while_stripe_was_asked_is_409_and_the_intent_is_cancelled(
    stripe_settings, stripe_client
):
    booking, answer, proxy = _with_change_during_stripe(
        stripe_settings, lambda b: booking_cancel(booking_id=b.pk, by=b.patient)
    )

    assert answer.status_code == 409, answer.json()
    assert answer.json()["errorMessages"] == [
        {"path": "bookingId", "message": "A booking that is cancelled cannot be paid."}
    ]
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert (booking.status, booking.payment_status) == (BookingStatus.CANCELLED, "unpaid")
    (cancel_path,) = _intents_cancelled(proxy)
    intent_id = cancel_path.split("/")[3]
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "canceled"


@pytest.mark.django_db(transaction=True)
def test_hold_lapsed_while_stripe_was_asked_is_409_and_the_intent_is_cancelled(
    stripe_settings, stripe_client
):
    booking, answer, proxy = _with_change_during_stripe(stripe_settings, lapse_hold)

    assert answer.status_code == 409, answer.json()
    assert "has lapsed" in answer.json()["errorMessages"][0]["message"]
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert booking.payment_status == "unpaid"
    (cancel_path,) = _intents_cancelled(proxy)
    assert stripe_client.v1.payment_intents.retrieve(cancel_path.split("/")[3]).status == (
        "canceled"
    )


@pytest.mark.django_db(transaction=True)
def test_price_changed_while_stripe_was_asked_is_409_and_the_intent_is_cancelled(
    stripe_settings,
):
    booking, answer, proxy = _with_change_during_stripe(
        stripe_settings,
        lambda b: Booking.objects.filter(pk=b.pk).update(price=b.price + Decimal("5")),
    )

    assert answer.status_code == 409, answer.json()
    assert "price" in answer.json()["errorMessages"][0]["message"]
    assert not Payment.objects.exists()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING_PAYMENT  # payable again, at its price
    assert len(_intents_cancelled(proxy)) == 1


@pytest.mark.django_db
def test_a_claim_older_than_the_call_bound_is_a_dead_calls_and_is_taken_over(booking, client_for):
    # A process killed while at Stripe leaves its claim: past the bound, the next call
    # creates (Stripe gives the same intent back for the same key).
    long_ago = timezone.now() - timedelta(seconds=call_bound_seconds() + 6)
    PaymentIntentClaim.objects.create(booking=booking, token="dead", claimed_at=long_ago)

    answer = client_for(booking.patient).post(CREATE, {"bookingId": booking.pk}, format="json")

    assert answer.status_code == 200, answer.json()
    assert Payment.objects.get(booking=booking).intent_id == answer.json()["paymentIntentId"]
    assert not PaymentIntentClaim.objects.exists()


@pytest.mark.django_db
def test_the_pay_page_during_a_call_at_stripe_says_try_again_not_hold_expired(booking):
    from django.test import Client
    from django.urls import reverse

    PaymentIntentClaim.objects.create(booking=booking, token="live", claimed_at=timezone.now())
    page = Client()
    page.force_login(booking.patient)

    response = page.get(reverse("pages:pay", args=[booking.pk]))

    html = response.content.decode()
    assert response.status_code == 409
    assert "being set up; try again in a moment" in html
    assert "hold has expired" not in html
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("timeout", "retries", "bound"),
    [
        (8, 1, 16.5),  # the defaults: 2 attempts and a 0.5 s sleep
        (10, 2, 31.5),  # the old defaults: a hanging Stripe answered 502 after 30 s+
        (1, 0, 1),
    ],
)
@pytest.mark.django_db  # the autouse cache fixture clears the database cache
def test_the_stripe_call_bound_counts_attempts_and_the_sdks_backoff(
    settings, timeout, retries, bound
):
    settings.STRIPE_TIMEOUT_SECONDS = timeout
    settings.STRIPE_MAX_NETWORK_RETRIES = retries
    assert call_bound_seconds() == bound


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_TIMEOUT_SECONDS", "60"),
        ("STRIPE_TIMEOUT_SECONDS", "0"),
        ("STRIPE_MAX_NETWORK_RETRIES", "4"),
        ("STRIPE_MAX_NETWORK_RETRIES", "-1"),
    ],
)
@pytest.mark.django_db  # the autouse cache fixture clears the database cache
def test_an_unbounded_stripe_setting_is_refused_at_start(name, value):
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=production_env("sqlite:///unused.sqlite3", **{name: value}),
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert f"ImproperlyConfigured: {name} must be" in out.stderr


@pytest.mark.parametrize("timeout", [8, 1, 30])
@pytest.mark.django_db  # the autouse cache fixture clears the database cache
def test_an_attempts_connect_and_answer_share_one_timeout(settings, timeout):
    # requests times the connect and the wait for the answer each on its own: one float
    # let an attempt take up to twice STRIPE_TIMEOUT_SECONDS (the tester's 502s at
    # 16.7-17.4 s against 16.5 s). A (connect, read) pair summing to it keeps the bound.
    from payments.stripe_gateway import client

    settings.STRIPE_TIMEOUT_SECONDS = timeout
    connect, read = client()._requestor._client._timeout
    assert connect + read == timeout
    assert 0 < connect <= 2 and read >= timeout / 2
