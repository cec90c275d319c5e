import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from calendars.models import CalendarFeed

TOKEN_BYTES = 32


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def calendar_feed_rotate(*, user: User) -> str:
    """A new feed token for the user (the old one stops working); returned once, never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_sha256": token_digest(token), "rotated_at": timezone.now()}
    )
    return token
