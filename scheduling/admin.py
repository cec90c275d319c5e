from django import forms
from django.contrib import admin, messages
from django.db.models import Q

from doctors_portal.errors import DomainError
from scheduling import services, timefmt
from scheduling.availability_cache import ChangesAvailabilityAdmin
from scheduling.models import Service, Slot, SlotStatus


@admin.register(Service)
class ServiceAdmin(ChangesAvailabilityAdmin, admin.ModelAdmin):
    list_display = ["name", "price", "currency", "slot_minutes", "is_active"]
    list_filter = ["is_active", "currency"]
    search_fields = ["name"]
    ordering = ["name"]


class SlotAdminForm(forms.ModelForm):
    class Meta:
        model = Slot
        fields = ["doctor", "service", "start", "end", "capacity", "status"]

    def clean(self):
        data = super().clean()
        start, end, doctor = data.get("start"), data.get("end"), data.get("doctor")
        if start and end and end <= start:
            raise forms.ValidationError("The end must be after the start.")
        capacity = data.get("capacity")
        if capacity is not None and self.instance.pk and capacity < self.instance.seats_taken:
            self.add_error("capacity", f"{self.instance.seats_taken} seats are booked.")
        if start and end and doctor and data.get("status") != SlotStatus.CANCELLED:
            clash = (
                Slot.objects.filter(doctor=doctor, start__lt=end, end__gt=start)
                .exclude(status=SlotStatus.CANCELLED)
                .exclude(pk=self.instance.pk)
                .first()
            )
            if clash:
                raise forms.ValidationError(
                    f"Overlaps the doctor's slot {timefmt.format_date(clash.start)} "
                    f"{timefmt.format_label(clash.start, clash.end)}."
                )
        return data


@admin.register(Slot)
class SlotAdmin(ChangesAvailabilityAdmin, admin.ModelAdmin):
    form = SlotAdminForm
    list_display = [
        "id",
        "doctor",
        "service",
        "local_date",
        "label",
        "capacity",
        "seats_taken",
        "status",
    ]
    list_filter = [
        "status",
        "service",
        ("doctor", admin.RelatedOnlyFieldListFilter),
        ("start", admin.DateFieldListFilter),
    ]
    search_fields = ["doctor__email", "doctor__name", "service__name"]
    date_hierarchy = "start"
    raw_id_fields = ["doctor"]
    list_select_related = ["doctor", "service"]
    readonly_fields = ["seats_taken", "created_at", "updated_at"]
    actions = ["cancel_slots", "publish_slots", "unpublish_slots"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.seats_taken:
            # A booked slot keeps its time, doctor and service; patients were told them.
            fields += ["doctor", "service", "start", "end"]
        return fields

    @admin.display(description="Date", ordering="start")
    def local_date(self, slot):
        return timefmt.format_date(slot.start)

    @admin.display(description="Time")
    def label(self, slot):
        return timefmt.format_label(slot.start, slot.end)

    def _apply(self, request, queryset, status: str, verb: str):
        done, failed = 0, []
        for slot in queryset.exclude(Q(status=status)):
            try:
                services.slot_update(slot_id=slot.pk, by=request.user, status=status)
                done += 1
            except DomainError as exc:
                failed.append(f"#{slot.pk}: {exc.detail}")
        if done:
            self.message_user(request, f"{verb} {done} slot(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description="Cancel selected slots (refused while booked)")
    def cancel_slots(self, request, queryset):
        self._apply(request, queryset, SlotStatus.CANCELLED, "Cancelled")

    @admin.action(description="Publish selected slots")
    def publish_slots(self, request, queryset):
        self._apply(request, queryset, SlotStatus.PUBLISHED, "Published")

    @admin.action(description="Unpublish selected slots")
    def unpublish_slots(self, request, queryset):
        self._apply(request, queryset, SlotStatus.UNPUBLISHED, "Unpublished")
