from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from doctors_portal.db.compiled import CompiledQuery


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
            raise AuthenticationFailed(
                "Authorization header must contain two space-delimited values",
                code="bad_authorization_header",
            )
        return parts[1]

    def get_user(self, validated_token):
        """simplejwt's get_user (the user is read on every request, so a deactivated user is
        refused at once), with the one-row read compiled once: compiling the ORM query
        cost more than running it. Every column is read, so nothing is deferred."""
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        except (TypeError, ValueError):
            raise AuthenticationFailed("User not found", code="user_not_found") from None
        user = user_by_pk(user_id)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            # Issued under another password: a reset or a takeover has ended this token.
            raise AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        return user


def user_by_pk(user_id: int):
    model = get_user_model()
    compiled = _user_by_pk_query(model)
    rows = compiled.rows(user_id=user_id)
    return model.from_db(DEFAULT_DB_ALIAS, compiled.fields, rows[0]) if rows else None


@lru_cache
def _user_by_pk_query(model) -> CompiledQuery:
    fields = [field.attname for field in model._meta.concrete_fields]
    return CompiledQuery(
        lambda *, user_id: model.objects.filter(pk=user_id).order_by(),
        fields,
        as_tuples=True,
        user_id=int,
    )
