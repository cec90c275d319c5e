"""Django admin for users: every change that matters goes through accounts.services."""

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from accounts import lifecycle, selectors, services
from accounts.credentials import clinic_today
from accounts.models import DoctorProfile, Role, User
from accounts.selectors import doctor_bookability, erasure_preview, verification_history
from accounts.serializers import licence_document_url
from doctors_portal.errors import DomainError


class DoctorProfileInline(admin.StackedInline):
    model = DoctorProfile
    fk_name = "user"
    can_delete = False
    fields = [
        *("specialty", "license_number", "license_authority", "license_expires_on"),
        *("licence_document_link", "bio", "is_verified", "verified_by", "verified_at"),
    ]
    # "Is verified" is saved by UserAdmin.save_formset through the verification service
    # (as the actions and the API do), so who and when is always recorded. The document
    # is the doctor's upload (checked by content), opened through the permission-checked
    # route, never a public file address.
    readonly_fields = ["verified_by", "verified_at", "licence_document_link"]
    extra = 0

    @admin.display(description="licence document")
    def licence_document_link(self, profile):
        if not profile.license_document:
            return "none uploaded"
        return format_html('<a href="{}">Download</a>', licence_document_url(profile.user_id))


LICENCE_FORM_FIELDS = {"license_number", "license_authority", "license_expires_on"}


class VerificationFilter(admin.SimpleListFilter):
    """The doctors awaiting verification (the admin's to-do list), and the others."""

    title = "verification"
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return [
            ("pending", "Awaiting verification"),
            ("verified", "Verified"),
            ("expired", "Licence expired"),
        ]

    def queryset(self, request, queryset):
        # The API's ?verification= (one definition of each state).
        if self.value() in selectors.VERIFICATION_STATES:
            state_q = selectors.verification_state_q(state=self.value(), today=clinic_today())
            return queryset.filter(state_q)
        return queryset


class VerificationForm(forms.Form):
    verified = forms.TypedChoiceField(
        choices=[("1", "Verify"), ("0", "Revoke the verification")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        label="Decision",
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the doctor's verification history, e.g. the register checked.",
    )


class ChangesListingAdmin:
    """The admin writes users without the services: every save or delete may change a
    doctor's listing, which the apps that show it hear of (accounts.lifecycle)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        lifecycle.listing_changed()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        lifecycle.listing_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        lifecycle.listing_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        lifecycle.listing_changed()


@admin.register(User)
class UserAdmin(ChangesListingAdmin, admin.ModelAdmin):
    # Profile image links are https; Django 6 makes that the default for scheme-less input.
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}
    }
    list_display = [
        "email",
        "name",
        "role",
        "doctor_verified",
        "licence_number",
        "is_active",
        "joined",
    ]
    list_filter = [VerificationFilter, "role", "is_active"]
    change_form_template = "admin/accounts/user/change_form.html"
    search_fields = ["email", "name", "phone"]
    ordering = ["-created_at", "-id"]
    list_select_related = ["doctor_profile"]
    fields = ["email", "name", "role", "phone", "image", "firebase_uid", "is_active"]
    readonly_fields = ["email", "firebase_uid", "is_active", "created_at", "deleted_at"]
    actions = ["verify_doctors", "revoke_verification", "anonymise"]

    def get_urls(self):
        return [
            path(
                "<path:object_id>/verification/",
                self.admin_site.admin_view(self.verification_view),
                name="accounts_user_verification",
            ),
            *super().get_urls(),
        ]

    def verification_view(self, request, object_id):
        """Verify or revoke one doctor from their own page, with the reason (an event in
        their history, through the same service as the API and the list's actions)."""
        user = self.get_object(request, object_id)
        if user is None:  # as the admin's own pages answer an unknown id
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        if user.role != Role.DOCTOR or not self.has_change_permission(request, user):
            raise Http404("No such doctor.")
        profile = getattr(user, "doctor_profile", None)
        form = VerificationForm(
            request.POST or None,
            initial={"verified": "0" if profile and profile.is_verified else "1"},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.doctor_set_verification(
                    actor=request.user,
                    doctor=user,
                    verified=form.cleaned_data["verified"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.detail}", messages.ERROR)
            else:
                word = (
                    "Verified" if form.cleaned_data["verified"] else "Revoked the verification of"
                )
                self.message_user(request, f"{word} {user}.", messages.SUCCESS)
                return redirect("admin:accounts_user_change", user.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Verification of {user.name}",
            "opts": self.model._meta,
            "original": user,
            "profile": profile,
            "form": form,
            "history": verification_history(doctor=user),
            "bookability": doctor_bookability(doctor=user),
        }
        return TemplateResponse(request, "admin/accounts/user/verification.html", context)

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

    @admin.display(description="joined", ordering="created_at")
    def joined(self, user):
        # The date alone (clinic time), so the list fits a 1366 px screen.
        return date_format(timezone.localdate(user.created_at), "SHORT_DATE_FORMAT")

    @admin.display(description="licence", ordering="doctor_profile__license_number")
    def licence_number(self, user):
        profile = getattr(user, "doctor_profile", None) if user.role == Role.DOCTOR else None
        return (profile.license_number or "-") if profile else ""

    def save_formset(self, request, form, formset, change):
        if formset.model is not DoctorProfile:
            return super().save_formset(request, form, formset, change)
        # The profile's other fields are saved as typed; a changed "Is verified" is put
        # back and handed to the verification service once they are. A licence edit counts
        # as a revision (the audit trail's record of it).
        wanted = None
        for profile_form in formset.forms:
            if set(profile_form.changed_data) & LICENCE_FORM_FIELDS:
                profile_form.instance.license_revision += 1
            if "is_verified" in profile_form.changed_data:
                wanted = profile_form.cleaned_data["is_verified"]
                profile_form.instance.is_verified = profile_form.initial.get("is_verified", False)
        super().save_formset(request, form, formset, change)
        if wanted is not None:
            self._verify_one(request, form.instance, verified=wanted)
        return None

    def _verify_one(self, request, user, *, verified: bool, announce: bool = True) -> bool:
        try:
            services.doctor_set_verification(actor=request.user, doctor=user, verified=verified)
        except DomainError as exc:
            self.message_user(request, f"{user}: {exc.detail}", messages.ERROR)
            return False
        if not announce:
            return True
        word = "Verified" if verified else "Revoked the verification of"
        self.message_user(request, f"{word} {user}.", messages.SUCCESS)
        return True

    def save_model(self, request, obj, form, change):
        if change and "role" in form.changed_data:
            new_role = obj.role
            obj.role = form.initial["role"]
            obj.save()
            services.user_set_role(actor=request.user, user=obj, role=new_role)
        else:
            super().save_model(request, obj, form, change)

    def _set_verification(self, request, queryset, *, verified: bool) -> None:
        done = sum(
            self._verify_one(request, user, verified=verified, announce=False)
            for user in queryset.filter(role=Role.DOCTOR)
        )
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
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"Anonymised {done} user(s).", messages.SUCCESS)
        if own:
            self.message_user(request, "You cannot anonymise your own account.", messages.WARNING)
        return None
