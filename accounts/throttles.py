from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from doctors_portal.api.throttling import OneTripRateThrottle


class AuthRateThrottle(OneTripRateThrottle):
    """The "auth" rate of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], per user or client IP."""

    scope = "auth"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ProfileRateThrottle(AuthRateThrottle):
    """The "profile" rate, per user: PATCH users (each may carry an upload to check and
    re-encode) and the profile page's POST count in the same bucket."""

    scope = "profile"


def page_throttle_wait(request: HttpRequest, throttle_class=AuthRateThrottle) -> float | None:
    """A page counted by its API twin's throttle (the same class, so the same bucket):
    None while allowed, else the seconds to wait."""
    throttle = throttle_class()
    if throttle.allow_request(request, None):
        return None
    return throttle.wait() or 1


def too_many_requests_page(request: HttpRequest, wait: float) -> HttpResponse:
    seconds = max(1, int(wait))
    response = render(
        request,
        "accounts/too_many.html",
        {"message": f"Too many requests. Try again in {seconds} seconds."},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
