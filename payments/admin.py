"""Admin: payments to look into; refunds and Stripe events as a read-only record."""

from django.contrib import admin

from bookings.admin import admin_link
from payments.models import Payment, Refund, StripeEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    # Money records change only through the services (and Stripe's events), never by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("refund_link", "amount", "status", "reason", "created_at")
    readonly_fields = fields

    @admin.display(description="Refund")
    def refund_link(self, refund):
        return admin_link(refund, refund.refund_id)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "intent_id",
        "booking_link",
        "amount",
        "currency",
        "status",
        "amount_refunded",
        "created_at",
    )
    list_filter = ("status", "currency")
    search_fields = ("intent_id", "booking__patient__email", "booking__id")
    list_select_related = ("booking",)
    # The booking as a link to its page (which links back here and to the refunds).
    fields = readonly_fields = [
        "booking_link" if f.name == "booking" else f.name
        for f in Payment._meta.fields
        if f.name not in ("id", "client_secret")
    ]
    inlines = [RefundInline]
    date_hierarchy = "created_at"

    @admin.display(description="Booking", ordering="booking")
    def booking_link(self, payment):
        return admin_link(payment.booking)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("refund_id", "payment_link", "booking_link", "amount", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("refund_id", "payment__intent_id")
    list_select_related = ("payment", "payment__booking")
    fields = readonly_fields = [
        "refund_id",
        "payment_link",
        "booking_link",
        "amount",
        "status",
        "reason",
        "created_at",
    ]

    @admin.display(description="Payment", ordering="payment")
    def payment_link(self, refund):
        return admin_link(refund.payment, refund.payment.intent_id)

    @admin.display(description="Booking")
    def booking_link(self, refund):
        return admin_link(refund.payment.booking)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "type", "summary", "received_at", "applied_at")
    list_filter = ("type",)
    search_fields = ("event_id", "type", "summary")
    date_hierarchy = "received_at"
