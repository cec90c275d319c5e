"""The Content-Security-Policy of every page, the admin and the Swagger UI (django-csp).

The base policy is CONTENT_SECURITY_POLICY in settings: scripts from our own origin only
(no 'unsafe-inline'; a script that must be inline carries the request's nonce). The
third-party origins the pages really use (Stripe.js and its frames, the Firebase Auth REST
API) are added here, from the settings as they are when the request is answered, so a test
or the demo that points Stripe or Firebase at a local stand-in gets a policy that admits it.
"""

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

# What Stripe.js needs when it is Stripe's own (Stripe's CSP guide).
STRIPE_SOURCES = {
    "script-src": ["https://js.stripe.com", "https://*.js.stripe.com"],
    "frame-src": ["https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"],
    "connect-src": ["https://api.stripe.com"],
}


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def third_party_sources() -> dict[str, list[str]]:
    from accounts.views import firebase_context  # the one place that knows the auth base
    from payments import stand_in  # the one place that knows the demo's Stripe stand-in

    sources: dict[str, list[str]] = {key: list(value) for key, value in STRIPE_SOURCES.items()}
    # A stand-in Stripe.js (localstripe in tests and the demo) and the API it calls.
    for directive, url in (
        ("script-src", settings.STRIPE_JS_URL),
        *(("connect-src", url) for url in stand_in.csp_connect_sources()),
    ):
        found = origin(url)
        if found and found not in sources[directive]:
            sources[directive].append(found)
    firebase = origin(firebase_context().get("FIREBASE_AUTH_BASE", ""))
    if firebase:
        sources["connect-src"].append(firebase)
    return sources


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, extended where its docs say to: get_policy_parts."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        update = {key: list(value) for key, value in third_party_sources().items()}
        for directive, values in (parts.update or {}).items():
            update.setdefault(directive, [])
            update[directive] += list(values) if isinstance(values, list | tuple) else [values]
        parts.update = update
        return parts
