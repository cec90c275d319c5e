from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from bookings import services
from bookings.models import SEAT_HOLDING_STATUSES, Booking
from doctors_portal.errors import DomainError
from scheduling import timefmt


def admin_link(obj, text=None):
    """A link to `obj`'s change page in the admin."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text or str(obj))


def short_appointment(slot) -> str:
    """'Wed 02 Dec 2026, 10.00 AM-11.00 AM' in clinic time: short enough for a list column."""
    local = slot.start.astimezone(timefmt.clinic_tz())
    return f"{local:%a %d %b %Y}, {timefmt.format_label(slot.start, slot.end)}"


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    # Short columns, so the list fits a 1366 px screen beside its filters; the rest
    # (price, when booked, expiry) is on the booking's page.
    list_display = [
        "id",
        "appointment",
        "patient_name",
        "doctor_name",
        "service",
        "status",
        "payment_status",
    ]
    list_display_links = ["id", "appointment"]
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
    # Seats, money and status only change through bookings.services (the actions below
    # and the "Cancel booking" button), so nothing here can overbook a slot or rewrite
    # what a patient paid.
    fields = [
        "patient_link",
        "doctor_link",
        "slot_link",
        "service",
        "price",
        "currency",
        "status",
        "payment_status",
        "payment_link",
        "refund_links",
        "expires_at",
        "created_at",
        "updated_at",
        "confirmed_at",
        "cancelled_at",
        "cancelled_by",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # patients book through the API or the pages

    def has_delete_permission(self, request, obj=None):
        return False  # bookings are financial records; cancel instead

    @admin.display(description="Appointment", ordering="slot__start")
    def appointment(self, booking):
        return short_appointment(booking.slot)

    @admin.display(description="Patient", ordering="patient__name")
    def patient_name(self, booking):
        return booking.patient.name

    @admin.display(description="Doctor", ordering="doctor__name")
    def doctor_name(self, booking):
        return booking.doctor.name

    @admin.display(description="Patient")
    def patient_link(self, booking):
        return admin_link(booking.patient)

    @admin.display(description="Doctor")
    def doctor_link(self, booking):
        return admin_link(booking.doctor)

    @admin.display(description="Slot")
    def slot_link(self, booking):
        return admin_link(booking.slot, short_appointment(booking.slot))

    @admin.display(description="Payment")
    def payment_link(self, booking):
        payment = getattr(booking, "payment", None)
        if payment is None:
            return "No payment started."
        return admin_link(payment, f"{payment.intent_id}: {payment.get_status_display()}")

    @admin.display(description="Refunds")
    def refund_links(self, booking):
        payment = getattr(booking, "payment", None)
        refunds = list(payment.refunds.all()) if payment else []
        if not refunds:
            return "None."
        return format_html_join(
            ", ",
            "{}",
            (
                (admin_link(r, f"{r.refund_id}: {r.amount} {payment.currency.upper()}"),)
                for r in refunds
            ),
        )

    # ---- the "Cancel booking" button of a booking's page

    def get_urls(self):
        cancel = path(
            "<path:object_id>/cancel/",
            self.admin_site.admin_view(self.cancel_view),
            name="bookings_booking_cancel",
        )
        return [cancel, *super().get_urls()]

    @staticmethod
    def can_cancel(booking) -> bool:
        # The service has the last word; this only decides whether to offer the button.
        return booking.status in SEAT_HOLDING_STATUSES

    def change_view(self, request, object_id, form_url="", extra_context=None):
        booking = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "can_cancel_booking": booking is not None and self.can_cancel(booking),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def cancel_view(self, request, object_id):
        booking = self.get_object(request, unquote(object_id))
        if booking is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, booking):
            raise PermissionDenied
        change_url = reverse("admin:bookings_booking_change", args=[booking.pk])
        if request.method == "POST":
            self._cancel(request, booking)
            return redirect(change_url)
        amount, reason = services.booking_refund_policy(
            booking=booking, by=request.user, now=timezone.now()
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": booking,
            "title": f"Cancel booking #{booking.pk}",
            "appointment": short_appointment(booking.slot),
            "refund_amount": amount,
            "refund_reason": reason,
            "can_cancel": self.can_cancel(booking),
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/bookings/booking/cancel.html", context)

    def _cancel(self, request, booking) -> bool:
        try:
            result = services.booking_cancel(booking_id=booking.pk, by=request.user)
        except DomainError as exc:
            self.message_user(request, f"#{booking.pk}: {exc.detail}", messages.ERROR)
            return False
        if result.refunded:
            self.message_user(
                request,
                f"#{booking.pk}: cancelled; refunded {result.refund_amount} "
                f"{booking.currency.upper()}.",
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, f"#{booking.pk}: cancelled. {result.refund_reason}", messages.SUCCESS
            )
        return True

    @admin.action(description="Cancel selected bookings (paid ones are refunded in full)")
    def cancel_bookings(self, request, queryset):
        done = sum(self._cancel(request, booking) for booking in queryset)
        if done:
            self.message_user(request, f"Cancelled {done} booking(s).", messages.SUCCESS)

    @admin.action(description="Mark every lapsed unpaid hold as expired")
    def expire_lapsed_holds(self, request, queryset):
        released = services.booking_expire_lapsed()
        self.message_user(request, f"Expired {released} lapsed hold(s).", messages.SUCCESS)
