"""One-use tokens for mailed links, made with Django's own PasswordResetTokenGenerator.

A link carries the account's id and a token in one path segment, "<uidb64>.<token>"
(neither part contains a dot). A token is bound to the account's password, address and
proof state, so proving the address, a takeover or a new password spends every link
sent before.
"""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User

# Anything longer is not one of ours; refuse it before decoding.
MAX_TOKEN_LENGTH = 200


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.email}{user.email_verified}{timestamp}"


email_verification_token = EmailVerificationTokenGenerator()
password_reset_token = default_token_generator  # what Django's reset views check


def uid_of(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def user_of_uid(uid: str) -> User | None:
    if not isinstance(uid, str) or not uid or len(uid) > MAX_TOKEN_LENGTH:
        return None
    try:
        pk = int(urlsafe_base64_decode(uid).decode())
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    if not 0 < pk < 2**63:
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def checked_user(generator: PasswordResetTokenGenerator, *, uid: str, token: str) -> User | None:
    """The active account the pair was made for, while the token is valid; else None."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    user = user_of_uid(uid)
    if user is None or not generator.check_token(user, token):
        return None
    return user


def verification_link_token(user: User) -> str:
    return f"{uid_of(user)}.{email_verification_token.make_token(user)}"


def user_of_verification_token(raw: str) -> User | None:
    if not isinstance(raw, str) or raw.count(".") != 1:
        return None
    uid, token = raw.split(".")
    return checked_user(email_verification_token, uid=uid, token=token)


def reset_pair(user: User) -> dict[str, str]:
    return {"uid": uid_of(user), "token": password_reset_token.make_token(user)}
