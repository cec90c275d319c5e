"""Lockout after repeated failed proofs, through django-axes, on every credential door.

Axes watches Django's `authenticate()` (auth/token, /login/, /admin/login/) by itself.
The other doors prove identity without a password (a Firebase ID token, a mailed
link), so they ask `refuse_if_locked` first and report a failed proof with
`record_failure`; axes then counts it like a wrong password, per account and per
client address (settings.AXES_LOCKOUT_PARAMETERS).
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import BaseThrottle

from doctors_portal.api.exceptions import error_body
from doctors_portal.api.middleware import API_PREFIX
from doctors_portal.errors import Unauthenticated

LOCKED_MESSAGE = "Too many failed attempts. Try again in {minutes} minutes."


def client_ip(request: HttpRequest) -> str | None:
    """The client address exactly as DRF's throttles read it (REST_FRAMEWORK NUM_PROXIES,
    set from TRUSTED_PROXY_COUNT): one rule for both, so no header moves a client between
    buckets of one and not the other."""
    return BaseThrottle().get_ident(request)


def username_of(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a failure counts against: the email, in one case, whichever form
    field or API body carried it."""
    raw = None
    if credentials:
        raw = credentials.get("username") or credentials.get("email")
    elif request is not None:
        raw = request.POST.get("username") or request.POST.get("email")
    raw = (raw or "").strip().lower()
    return raw or None


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def locked_message() -> str:
    return LOCKED_MESSAGE.format(minutes=max(1, round(cooloff_seconds() / 60)))


class LockedOut(Throttled):
    """429 with Retry-After in the API envelope (the exception handler writes both)."""

    def __init__(self):
        super().__init__(wait=cooloff_seconds(), detail=locked_message())


def _django_request(request) -> HttpRequest:
    # Axes flags the request object it is given; the middleware reads Django's own.
    return getattr(request, "_request", request)


def is_locked(request, *, email: str | None) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    if not settings.AXES_ENABLED:
        return False
    return not AxesProxyHandler.is_allowed(_django_request(request), {"username": email})


def refuse_if_locked(request, *, email: str | None) -> None:
    """LockedOut when this client address, or the account of `email`, is locked.
    `email=None` asks about the address alone."""
    if is_locked(request, email=email):
        raise LockedOut()


def record_failure(request, *, email: str | None) -> None:
    """Count a failed proof of identity against the address and the account."""
    user_login_failed.send(
        sender=__name__, credentials={"username": email}, request=_django_request(request)
    )


def lockout_response(request: HttpRequest, original_response=None, credentials=None):
    """Axes' answer for a locked-out request: the API envelope or a plain page, 429."""
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            error_body(status_code=429, messages=[{"path": "", "message": locked_message()}]),
            status=429,
        )
    else:
        response = locked_page(request)
    response["Retry-After"] = str(cooloff_seconds())
    return response


def locked_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/too_many.html", {"message": locked_message()}, status=429)


@contextmanager
def counting_failed_proofs(
    request, *, email: str | None, failures=(AuthenticationFailed, Unauthenticated)
):
    """Refuse a locked client or account; count a proof that failed inside the block."""
    refuse_if_locked(request, email=email)
    try:
        yield
    except failures:
        record_failure(request, email=email)
        raise
