from django.conf import settings
from django.db import models


class CalendarFeed(models.Model):
    """A person's private iCalendar feed. Only the token's SHA-256 is stored: a copy of
    the database does not give anyone the feeds."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_sha256 = models.CharField(max_length=64, unique=True)
    rotated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id}"
