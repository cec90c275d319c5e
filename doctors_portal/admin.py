"""The outbox in the admin: what waits, what failed and why; "retry now" calls the service."""

from django.contrib import admin, messages

from doctors_portal.models import OutboxMessage, OutboxStatus
from doctors_portal.outbox import outbox_retry_now


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
