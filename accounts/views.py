"""Account pages: sign up, sign in and out (Django sessions), continue with Firebase.

Pages hold no rules of their own: they parse a form, call accounts.services and
show what it answered; doctors_portal.pages turns the services' domain errors into
messages a page can show beside the right field.
"""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, LogoutView
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from accounts import lockout, services, tokens
from accounts.forms import (
    EmailAuthenticationForm,
    MailedPasswordResetForm,
    MailedSetPasswordForm,
    SignUpForm,
    VerifyEmailForm,
)
from accounts.mails import site_of
from accounts.models import Role
from accounts.throttles import ProfileRateThrottle, page_throttle_wait, too_many_requests_page
from doctors_portal.errors import DomainError
from doctors_portal.pages import add_service_errors, service_errors

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def firebase_enabled() -> bool:
    return bool(settings.FIREBASE_WEB_API_KEY)


def firebase_context() -> dict:
    if not firebase_enabled():
        return {}
    import os

    emulator = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST", "")
    return {
        "FIREBASE_WEB_API_KEY": settings.FIREBASE_WEB_API_KEY,
        # The emulator speaks the same REST API under its own host, over plain HTTP.
        "FIREBASE_AUTH_BASE": (
            f"http://{emulator}/identitytoolkit.googleapis.com"
            if emulator
            else "https://identitytoolkit.googleapis.com"
        ),
    }


def _home_for(user) -> str:
    return "pages:doctor_dashboard" if user.role == Role.DOCTOR else "pages:home"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _throttled(request):
    """The API twin's throttle (auth/token, POST users) on a page's POST, or None."""
    if request.method != "POST":
        return None
    wait = page_throttle_wait(request)
    return too_many_requests_page(request, wait) if wait is not None else None


class SignInView(LoginView):
    """Django's sign-in; django-axes refuses locked accounts and addresses inside it."""

    template_name = "registration/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        return _throttled(request) or super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **firebase_context()}


class SignOutView(LogoutView):
    next_page = "pages:home"


@sensitive_post_parameters("password1", "password2")
def signup(request):
    if request.user.is_authenticated:
        return redirect(_home_for(request.user))
    throttled = _throttled(request)
    if throttled:
        return throttled
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if lockout.is_locked(request, email=data["email"]):
            return lockout.lockout_response(request)
        try:
            user = services.user_register(
                name=data["name"],
                email=data["email"],
                role=data["role"],
                password=data["password1"],
                phone=data["phone"],
                specialty=data["specialty"].pk if data["specialty"] else None,
                license_number=data["license_number"],
                site=site_of(request),
            )
        except DomainError as exc:
            add_service_errors(
                form,
                exc,
                {
                    "email": "email",
                    "password": "password1",
                    "name": "name",
                    "phone": "phone",
                    "role": "role",
                    "specialty": "specialty",
                    "licenseNumber": "license_number",
                },
            )
        else:
            login(request, user, backend=MODEL_BACKEND)
            if user.role == Role.DOCTOR:
                messages.info(
                    request,
                    "Welcome! An administrator verifies your licence before you can publish times.",
                )
            else:
                # Signed up on the way to a booking: the next page is that booking.
                hint = "" if _safe_next(request) else " Pick a date and a time to book."
                messages.success(request, f"Welcome, {user.name}.{hint}")
            messages.info(request, f"We mailed a link to {user.email}: follow it to confirm it.")
            return redirect(_safe_next(request) or _home_for(user))
    return render(
        request,
        "registration/signup.html",
        {"form": form, "next": _safe_next(request), **firebase_context()},
        status=400 if form.errors else 200,
    )


def firebase_signin(request):
    """POST {id_token, name?, role?}: sign in (registering first if new) with a Firebase account."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not firebase_enabled():
        messages.error(request, "Firebase sign-in is not configured on this server.")
        return redirect("pages:login")
    throttled = _throttled(request)
    if throttled:
        return throttled
    from accounts.firebase import verify_id_token
    from accounts.models import User

    try:
        with lockout.counting_failed_proofs(request, email=None):
            identity = verify_id_token(request.POST.get("id_token", ""))
        with lockout.counting_failed_proofs(request, email=identity.email):
            if not User.objects.filter(email__iexact=identity.email).exists():
                role = request.POST.get("role") or Role.PATIENT
                services.user_register(
                    name=request.POST.get("name") or identity.email.split("@")[0],
                    email=identity.email,
                    role=role,
                    firebase_identity=identity,
                )
            # Same checks as the API's token exchange (verified email, active, same uid).
            services.token_obtain_with_firebase(
                identity=identity, email=identity.email, site=site_of(request)
            )
    except lockout.LockedOut:
        return lockout.lockout_response(request)
    except DomainError as exc:
        for _path, message in service_errors(exc):
            messages.error(request, message)
        return redirect("pages:login")
    user = User.objects.get(email__iexact=identity.email)
    login(request, user, backend=MODEL_BACKEND)
    return redirect(_safe_next(request) or _home_for(user))


@sensitive_post_parameters("password")
def verify_email(request, token: str):
    """The mailed link. GET only shows the choice (mail scanners follow links); POST acts:
    the registrant confirms (signed in here, or with their password), or the mailbox's
    owner takes the account over and chooses a password."""
    account = tokens.user_of_verification_token(token)
    if account is None:
        return render(request, "accounts/verify_email.html", {"invalid": True}, status=400)
    signed_in_here = request.user.is_authenticated and request.user.pk == account.pk
    form = VerifyEmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        taking_over = form.cleaned_data["action"] == "take_over"
        try:
            with lockout.counting_failed_proofs(request, email=None):
                user, cleared = services.email_verify(
                    token=token,
                    password=None if taking_over else form.cleaned_data["password"],
                    signed_in_as=request.user if signed_in_here else None,
                    site=site_of(request),
                )
        except lockout.LockedOut:
            return lockout.lockout_response(request)
        except DomainError as exc:
            add_service_errors(form, exc, {"password": "password"}, default="password")
        else:
            if cleared:
                pair = tokens.reset_pair(user)
                messages.success(request, "The account is yours now. Choose its password.")
                return redirect(
                    reverse(
                        "pages:password_reset_confirm",
                        kwargs={"uidb64": pair["uid"], "token": pair["token"]},
                    )
                )
            messages.success(request, "Your email address is confirmed.")
            return redirect(_home_for(user) if signed_in_here else "pages:login")
    return render(
        request,
        "accounts/verify_email.html",
        {"form": form, "account_email": account.email, "signed_in_here": signed_in_here},
        status=400 if form.errors else 200,
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view; the form hands the mail to accounts.services (one reset rule)."""

    form_class = MailedPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("pages:password_reset_done")

    def post(self, request, *args, **kwargs):
        throttled = _throttled(request)
        if throttled:
            return throttled
        if lockout.is_locked(request, email=None):
            return lockout.lockout_response(request)
        return super().post(request, *args, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = MailedSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("pages:password_reset_complete")


@login_required
def account_delete(request):
    """ "Delete my account": what will happen, then the erasure (accounts.services)."""
    from accounts.selectors import erasure_preview

    user = request.user
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm that you want your account erased.")
            return redirect("pages:account_delete")
        try:
            services.user_erase(actor=user, user=user)
        except DomainError as exc:
            for _path, message in service_errors(exc):
                messages.error(request, message)
            return redirect("pages:account_delete")
        logout(request)
        messages.success(request, "Your account was erased. Thank you for using Doctors Portal.")
        return redirect("pages:home")
    (preview,) = erasure_preview(users=[user])
    return render(
        request,
        "accounts/delete_account.html",
        {"preview": preview, "refused": user.is_admin},
        status=403 if user.is_admin else 200,
    )


@login_required
def account_data(request):
    """ "Download my data": the page, and (?download=1) the same document as the API."""
    from accounts.api import export_disposition
    from accounts.selectors import user_export

    if request.GET.get("download"):
        body = json.dumps(user_export(user=request.user), cls=DjangoJSONEncoder, indent=2)
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = export_disposition(request.user)
        return response
    return render(request, "accounts/download_data.html")


PROFILE_FIELD_BY_PATH = {
    "name": "name",
    "phone": "phone",
    "photo": "photo",
    "specialty": "specialty",
    "bio": "bio",
    "licenseNumber": "license_number",
    "licenseAuthority": "license_authority",
    "licenseExpiresOn": "license_expires_on",
    "licenseDocument": "license_document",
}


@login_required
def profile(request):
    """One's own profile: the same service as PATCH users/:id."""
    from accounts.forms import ProfileForm
    from accounts.selectors import doctor_bookability, verification_history

    user = request.user
    status = 200
    if request.method == "POST":
        # The API twin's throttle (PATCH users), the same bucket.
        wait = page_throttle_wait(request, ProfileRateThrottle)
        if wait is not None:
            return too_many_requests_page(request, wait)
        form = ProfileForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                services.user_update(actor=user, user=user, **form.changes())
            except DomainError as exc:
                add_service_errors(form, exc, PROFILE_FIELD_BY_PATH)
            else:
                messages.success(request, "Your profile is saved.")
                return redirect("pages:profile")
        status = 400
    else:
        form = ProfileForm(user=user)
    from accounts.serializers import licence_document_url, photo_url

    context = {
        "form": form,
        "photo_src": photo_url(user.pk, user.photo.name) if user.photo else user.image,
        "document_href": licence_document_url(user.pk),
    }
    if user.is_doctor:
        context.update(
            profile=getattr(user, "doctor_profile", None),
            bookability=doctor_bookability(doctor=user),
            history=verification_history(doctor=user),
        )
    return render(request, "accounts/profile.html", context, status=status)
