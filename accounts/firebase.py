"""The only module that talks to firebase-admin: verifies Firebase ID tokens.

Verification needs nothing but the project id: firebase-admin checks the token's
signature against Google's public certificates (or, with FIREBASE_AUTH_EMULATOR_HOST
set, accepts the emulator's unsigned tokens, which settings forbid in production).
"""

import os
import threading
import time
from dataclasses import dataclass

import firebase_admin
import google.auth.credentials
from django.conf import settings
from firebase_admin import auth as firebase_auth
from firebase_admin import credentials
from firebase_admin import exceptions as firebase_exceptions

from doctors_portal.errors import Unauthenticated

CLOCK_SKEW_SECONDS = 10


@dataclass(frozen=True)
class FirebaseIdentity:
    uid: str
    email: str
    email_verified: bool


class _NoCredential(credentials.Base):
    """Token verification needs no Google credentials; this stops firebase-admin from
    looking for a service account or application-default credentials."""

    def get_credential(self):
        return google.auth.credentials.AnonymousCredentials()


_apps: dict[tuple[str, str], firebase_admin.App] = {}
_lock = threading.Lock()


def _app() -> firebase_admin.App:
    project_id = settings.FIREBASE_PROJECT_ID
    if not project_id:
        raise Unauthenticated("Firebase sign-in is not configured on this server.")
    # firebase-admin reads the emulator host once per app, so an app is kept per pair.
    key = (project_id, os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", ""))
    with _lock:
        if key not in _apps:
            _apps[key] = firebase_admin.initialize_app(
                _NoCredential(),
                options={"projectId": project_id},
                name=f"doctors-portal-{len(_apps)}",
            )
        return _apps[key]


def verify_id_token(token: str) -> FirebaseIdentity:
    """A verified identity, or Unauthenticated whatever went wrong."""
    if not token or not isinstance(token, str):
        raise Unauthenticated("A Firebase ID token is required.")
    try:
        claims = firebase_auth.verify_id_token(
            token, app=_app(), clock_skew_seconds=CLOCK_SKEW_SECONDS
        )
    except firebase_auth.ExpiredIdTokenError:
        raise Unauthenticated("The Firebase ID token has expired.") from None
    except firebase_auth.RevokedIdTokenError:
        raise Unauthenticated("The Firebase ID token has been revoked.") from None
    except firebase_auth.UserDisabledError:
        raise Unauthenticated("This Firebase account is disabled.") from None
    except firebase_auth.CertificateFetchError:
        raise Unauthenticated(
            "The Firebase ID token could not be verified right now; try again."
        ) from None
    except (firebase_auth.InvalidIdTokenError, firebase_exceptions.FirebaseError, ValueError):
        raise Unauthenticated("The Firebase ID token is invalid.") from None
    # firebase-admin skips time checks on emulator tokens; check them here for every token.
    now = time.time()
    try:
        expires, issued = float(claims["exp"]), float(claims.get("iat", now))
    except (KeyError, TypeError, ValueError):
        raise Unauthenticated("The Firebase ID token is invalid.") from None
    if expires < now - CLOCK_SKEW_SECONDS:
        raise Unauthenticated("The Firebase ID token has expired.")
    if issued > now + CLOCK_SKEW_SECONDS:
        raise Unauthenticated("The Firebase ID token is not valid yet.")
    email = claims.get("email") or ""
    if not email:
        raise Unauthenticated("The Firebase account has no email address.")
    return FirebaseIdentity(
        uid=claims["uid"],
        email=email.lower(),
        email_verified=bool(claims.get("email_verified")),
    )


def bearer_token(request) -> str:
    """The token of `Authorization: Bearer <token>` (scheme in any case), or ''."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return ""
