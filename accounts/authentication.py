from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from audit.context import audit_actor_set


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's authentication, accepting the scheme in any case ("bearer" from the
    reference client, "Bearer" from everyone else). The user is read on every request
    by simplejwt's own ORM read, so a deactivated user is refused at once."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            audit_actor_set(result[0])  # the audit trail's "who" for this API request
        return result

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if len(parts) == 0:
            return None
        if parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Authorization header must contain two space-delimited values",
                code="bad_authorization_header",
            )
        return parts[1]
