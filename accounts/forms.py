"""Forms of the account pages. They only parse input; accounts.services does the work."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.password_validation import validate_password

from accounts import services
from accounts.mails import site_of
from accounts.models import Role, specialties


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
