from django.contrib import admin, messages
from rest_framework.exceptions import APIException

from bookings import services
from bookings.models import Booking
from scheduling import timefmt


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "patient",
        "doctor",
        "service",
        "appointment",
        "status",
        "payment_status",
        "price",
        "created_at",
    ]
    list_filter = [
        "status",
        "payment_status",
        "service",
        ("doctor", admin.RelatedOnlyFieldListFilter),
        ("slot__start", admin.DateFieldListFilter),
    ]
    search_fields = ["=id", "patient__email", "patient__name", "doctor__email", "doctor__name"]
    date_hierarchy = "created_at"
    list_select_related = ["patient", "doctor", "service", "slot"]
    actions = ["cancel_bookings", "expire_lapsed_holds"]
    # Seats, money and status only change through bookings.services (the actions below),
    # so nothing here can overbook a slot or rewrite what a patient paid.
    readonly_fields = [
        "patient",
        "doctor",
        "slot",
        "service",
        "price",
        "currency",
        "status",
        "payment_status",
        "expires_at",
        "created_at",
        "updated_at",
        "confirmed_at",
        "cancelled_at",
        "cancelled_by",
    ]

    def has_add_permission(self, request):
        return False  # patients book through the API or the pages

    def has_delete_permission(self, request, obj=None):
        return False  # bookings are financial records; cancel instead

    @admin.display(description="Appointment", ordering="slot__start")
    def appointment(self, booking):
        slot = booking.slot
        return f"{timefmt.format_date(slot.start)} {timefmt.format_label(slot.start, slot.end)}"

    @admin.action(description="Cancel selected bookings (paid ones are refunded in full)")
    def cancel_bookings(self, request, queryset):
        done = 0
        for booking in queryset:
            try:
                result = services.booking_cancel(booking_id=booking.pk, by=request.user)
            except APIException as exc:
                self.message_user(request, f"#{booking.pk}: {exc.detail}", messages.ERROR)
                continue
            done += 1
            if result.refunded:
                self.message_user(
                    request,
                    f"#{booking.pk}: refunded {result.refund_amount} {booking.currency}.",
                    messages.INFO,
                )
        if done:
            self.message_user(request, f"Cancelled {done} booking(s).", messages.SUCCESS)

    @admin.action(description="Mark every lapsed unpaid hold as expired")
    def expire_lapsed_holds(self, request, queryset):
        released = services.booking_expire_lapsed()
        self.message_user(request, f"Expired {released} lapsed hold(s).", messages.SUCCESS)
