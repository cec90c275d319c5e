"""Django admin for users: every change that matters goes through accounts.services."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.template.response import TemplateResponse
from rest_framework.exceptions import APIException

from accounts import services
from accounts.models import DoctorProfile, Role, User
from accounts.selectors import erasure_preview
from scheduling.availability_cache import ChangesAvailabilityAdmin


class DoctorProfileInline(admin.StackedInline):
    model = DoctorProfile
    fk_name = "user"
    can_delete = False
    fields = ["specialty", "license_number", "bio", "is_verified", "verified_by", "verified_at"]
    # Verification changes only through the actions, so who and when is always recorded.
    readonly_fields = ["is_verified", "verified_by", "verified_at"]
    extra = 0


@admin.register(User)
class UserAdmin(ChangesAvailabilityAdmin, admin.ModelAdmin):
    # Profile image links are https; Django 6 makes that the default for scheme-less input.
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}
    }
    list_display = ["email", "name", "role", "doctor_verified", "is_active", "created_at"]
    list_filter = ["role", "is_active", "doctor_profile__is_verified"]
    search_fields = ["email", "name", "phone"]
    ordering = ["-created_at", "-id"]
    list_select_related = ["doctor_profile"]
    fields = ["email", "name", "role", "phone", "image", "firebase_uid", "is_active"]
    readonly_fields = ["email", "firebase_uid", "is_active", "created_at", "deleted_at"]
    actions = ["verify_doctors", "revoke_verification", "anonymise"]

    def get_inlines(self, request, obj):
        return [DoctorProfileInline] if obj is not None and obj.role == Role.DOCTOR else []

    def has_add_permission(self, request):
        # Users register themselves (API, pages) or come from `createsuperuser`.
        return False

    def has_delete_permission(self, request, obj=None):
        # Users are never deleted: the "Anonymise" action erases them (accounts.services).
        return False

    @admin.display(boolean=True, description="verified")
    def doctor_verified(self, user):
        if user.role != Role.DOCTOR:
            return None
        profile = getattr(user, "doctor_profile", None)
        return bool(profile and profile.is_verified)

    def save_model(self, request, obj, form, change):
        if change and "role" in form.changed_data:
            new_role = obj.role
            obj.role = form.initial["role"]
            obj.save()
            services.user_set_role(actor=request.user, user=obj, role=new_role)
        else:
            super().save_model(request, obj, form, change)

    def _set_verification(self, request, queryset, *, verified: bool) -> None:
        done = 0
        for user in queryset.filter(role=Role.DOCTOR):
            try:
                services.doctor_set_verification(actor=request.user, doctor=user, verified=verified)
                done += 1
            except APIException as exc:
                self.message_user(request, f"{user}: {exc.detail}", messages.ERROR)
        skipped = queryset.exclude(role=Role.DOCTOR).count()
        word = "Verified" if verified else "Revoked verification of"
        self.message_user(request, f"{word} {done} doctor(s).", messages.SUCCESS)
        if skipped:
            self.message_user(request, f"Skipped {skipped} non-doctor(s).", messages.WARNING)

    @admin.action(description="Verify selected doctors")
    def verify_doctors(self, request, queryset):
        self._set_verification(request, queryset, verified=True)

    @admin.action(description="Revoke verification of selected doctors")
    def revoke_verification(self, request, queryset):
        self._set_verification(request, queryset, verified=False)

    @admin.action(description="Anonymise selected users (erase personal data)")
    def anonymise(self, request, queryset):
        """Erasure through accounts.services.user_erase, after a confirmation that says
        what will happen: nothing is deleted, personal data is erased."""
        own = queryset.filter(pk=request.user.pk).exists()
        targets = queryset.exclude(pk=request.user.pk).filter(deleted_at__isnull=True)
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Anonymise users?",
                "opts": self.model._meta,
                "targets": erasure_preview(users=list(targets)),
                "skipped_self": own,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "accounts/admin_anonymise.html", context)
        done = 0
        for user in targets:
            try:
                services.user_erase(actor=request.user, user=user)
                done += 1
            except APIException as exc:
                self.message_user(request, f"{user}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"Anonymised {done} user(s).", messages.SUCCESS)
        if own:
            self.message_user(request, "You cannot anonymise your own account.", messages.WARNING)
        return None
