"""The admin site as a whole: the product's name, and only what an administrator works with.

Loaded by admin autodiscovery after every other app's admin module (the project package
is the last installed app), so the models unregistered here are already registered.
"""

from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from doctors_portal.models import OutboxMessage, OutboxStatus
from doctors_portal.outbox import outbox_retry_now

admin.site.site_header = "Doctors Portal administration"
admin.site.site_title = "Doctors Portal admin"
admin.site.index_title = "Clinic administration"

# Machinery nobody edits by hand: refresh tokens are ended by sign-out, reset and erasure
# (accounts.services); roles are a field of the user, not groups. axes' access attempts
# stay (deleting one unlocks an account or address), and so does its sign-in log.
HIDDEN = [OutstandingToken, BlacklistedToken, Group]
if not settings.AXES_ENABLE_ACCESS_FAILURE_LOG:
    HIDDEN.append(AccessFailureLog)  # never written while the failure log is off

for model in HIDDEN:
    if admin.site.is_registered(model):
        admin.site.unregister(model)


# The outbox: what waits, what failed and why; "retry now" calls the service.


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "booking",
        "offset",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["key", "last_error"]
    ordering = ["-id"]
    actions = ["retry_now"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="last error")
    def short_error(self, message: OutboxMessage) -> str:
        return message.last_error[:80]

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        retried = sum(
            outbox_retry_now(message_id=pk)
            for pk in queryset.filter(
                status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED]
            ).values_list("pk", flat=True)
        )
        self.message_user(request, f"{retried} message(s) queued to send now.", messages.SUCCESS)
