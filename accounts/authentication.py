from django.contrib.auth import get_user_model
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings

from audit.context import audit_actor_set
from doctors_portal.db.compiled import CompiledQuery

# The token's user, compiled once per process like the seat ledger's locks: the ORM's
# get() spent 0.6 ms building this one-row SELECT, five times PostgreSQL's time to run it
# (bench/NOTES.md, "The booking write, issue 16's fourth session"). Still one read of the
# row on every request, so a deactivation, a deletion or a new password counts at once.
_USER = CompiledQuery(
    lambda *, user_id: get_user_model().objects.filter(pk=user_id).order_by(),
    (),
    as_models=True,
    user_id=int,
)


class _CompiledUserManager:
    """What simplejwt's get_user asks of `user_model.objects`: get(id=...), compiled."""

    def get(self, *, id):  # simplejwt calls get(id=...) (USER_ID_FIELD)
        try:
            rows = _USER.rows(user_id=int(id))
        except (TypeError, ValueError):
            rows = []
        if not rows:
            raise get_user_model().DoesNotExist
        return rows[0]


class _CompiledUserModel:
    """simplejwt's `self.user_model` with the compiled read; the rest of get_user (the
    user_not_found, inactive and password-changed refusals) stays simplejwt's own."""

    objects = _CompiledUserManager()

    @property
    def DoesNotExist(self):
        return get_user_model().DoesNotExist


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt's authentication, accepting the scheme in any case ("bearer" from the
    reference client, "Bearer" from everyone else). The user is read on every request
    (compiled, `_USER`), so a deactivated user is refused at once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if api_settings.USER_ID_FIELD == "id":
            self.user_model = _CompiledUserModel()

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
