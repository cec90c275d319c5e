"""Forms of the account pages. They only parse input; accounts.services does the work."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.password_validation import validate_password

from accounts import services
from accounts.mails import site_of
from accounts.models import LICENCE_EXPIRY_VALIDATORS, Role, specialties


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, labelled for what our username is: the email address."""

    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or password is not right. Please try again.",
    }


class SignUpForm(forms.Form):
    name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        required=False,
        help_text="Optional. The clinic calls this number if your appointment changes.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    role = forms.ChoiceField(
        label="I am a",
        choices=[(Role.PATIENT, "Patient"), (Role.DOCTOR, "Doctor")],
        initial=Role.PATIENT,
        widget=forms.RadioSelect,
    )
    specialty = forms.ModelChoiceField(
        label="Specialty (doctors)",
        queryset=specialties().filter(is_active=True),
        required=False,
        help_text="Doctors only: the service you offer.",
    )
    license_number = forms.CharField(
        label="Licence number (doctors)",
        max_length=64,
        required=False,
        help_text="Doctors only: an administrator checks it before you can publish times.",
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters, not only digits, not a common password.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            try:
                validate_password(p1)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class VerifyEmailForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("confirm", "It was me"), ("take_over", "It was not me")],
        widget=forms.HiddenInput,
    )
    password = forms.CharField(
        label="The password you chose at sign-up",
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class MailedPasswordResetForm(PasswordResetForm):
    """Django's reset form; the mail itself goes through accounts.services, which decides
    who gets one (the same rule as the API)."""

    def save(self, *, request=None, **kwargs):
        services.password_reset_request(email=self.cleaned_data["email"], site=site_of(request))


class MailedSetPasswordForm(SetPasswordForm):
    """Django's set-password form; saving goes through the service that also proves the
    address and ends every other sign-in of the account."""

    def save(self, commit=True):
        self.user = services.user_set_password_by_mail(
            user=self.user, password=self.cleaned_data["new_password1"]
        )
        return self.user


class ProfileForm(forms.Form):
    """One's own profile. Files are checked by accounts.uploads (through the service);
    only the fields the person changed are sent to it."""

    name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    phone = forms.CharField(
        label="Phone",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    photo = forms.FileField(
        label="Photo",
        required=False,
        allow_empty_file=True,
        help_text="JPEG, PNG or WebP, at most 5 MB; resized to 512 pixels.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    remove_photo = forms.BooleanField(label="Remove my photo", required=False)

    DOCTOR_FIELDS = (
        "specialty",
        "bio",
        "license_number",
        "license_authority",
        "license_expires_on",
        "license_document",
    )

    def __init__(self, *args, user, **kwargs):
        profile = getattr(user, "doctor_profile", None) if user.is_doctor else None
        initial = {"name": user.name, "phone": user.phone}
        if profile is not None:
            initial.update(
                specialty=profile.specialty_id,
                bio=profile.bio,
                license_number=profile.license_number,
                license_authority=profile.license_authority,
                license_expires_on=profile.license_expires_on,
            )
        super().__init__(*args, initial=initial, **kwargs)
        if not user.photo:
            del self.fields["remove_photo"]
        if not user.is_doctor:
            return
        self.fields["specialty"] = forms.ModelChoiceField(
            label="Specialty", queryset=specialties().filter(is_active=True), required=False
        )
        self.fields["bio"] = forms.CharField(
            label="About you", max_length=5000, required=False, widget=forms.Textarea
        )
        self.fields["license_number"] = forms.CharField(
            label="Licence number", max_length=64, required=False
        )
        self.fields["license_authority"] = forms.CharField(
            label="Issued by", max_length=200, required=False, help_text="The licensing body."
        )
        self.fields["license_expires_on"] = forms.DateField(
            label="Valid until",
            required=False,
            validators=LICENCE_EXPIRY_VALIDATORS,
            widget=forms.DateInput(attrs={"type": "date"}),
            help_text="The last day of your licence. After it patients cannot book you.",
        )
        self.fields["license_document"] = forms.FileField(
            label="Licence document",
            required=False,
            allow_empty_file=True,
            help_text="PDF, JPEG or PNG, at most 5 MB. Seen by you and the administrators only.",
            widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        )

    def changes(self) -> dict:
        """The service's keyword arguments for what was changed."""
        data = self.cleaned_data
        changes = {}
        for name in ("name", "phone", *self.DOCTOR_FIELDS):
            if name in self.fields and name in self.changed_data:
                value = data[name]
                if name in ("photo", "license_document") and not value:
                    continue
                changes[name] = value
        if data.get("photo"):
            changes["photo"] = data["photo"]
        elif data.get("remove_photo"):
            changes["photo"] = None
        if "specialty" in changes:
            changes["specialty"] = changes["specialty"].pk if changes["specialty"] else None
        return changes
