from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's authentication, accepting the scheme in any case ("bearer" from the
    reference client, "Bearer" from everyone else)."""

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if len(parts) == 0:
            return None
        if parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            from rest_framework_simplejwt.exceptions import AuthenticationFailed

            raise AuthenticationFailed(
                "Authorization header must contain two space-delimited values",
                code="bad_authorization_header",
            )
        return parts[1]
