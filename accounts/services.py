"""Every write to accounts: keyword-only, typed, atomic. Views and admin actions call these."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts import lifecycle, mails, tokens, uploads
from accounts.firebase import FirebaseIdentity
from accounts.models import DoctorProfile, Role, User, VerificationEvent, is_admin, specialties
from doctors_portal.errors import (
    TOKEN_NOT_VALID,
    TOKEN_PASSWORD_CHANGED,
    DomainError,
    DuplicateEntry,
    Forbidden,
    NotFound,
    Unauthenticated,
)
from doctors_portal.ids import MAX_ID, is_id_text

# "Not given" for optional update fields, where None can be a real value.
UNSET: Any = object()

SELF_REGISTRABLE_ROLES = {Role.PATIENT, Role.DOCTOR}


def _resolve_service(value):
    """A scheduling.Service from its id or its name (case-insensitive), or a 400."""
    if value in (None, ""):
        return None
    raw = str(value).strip()
    service = None
    if is_id_text(raw) and int(raw) <= MAX_ID:
        service = specialties().filter(pk=int(raw)).first()
    if service is None:
        service = specialties().filter(name__iexact=raw).first()
    if service is None:
        raise DomainError(f'No service named "{raw}".', path="specialty")
    return service


def _check_password(password: str, *, email: str, name: str) -> None:
    try:
        validate_password(password, user=User(email=email, name=name))
    except DjangoValidationError as exc:
        raise DomainError(errors={"password": exc.messages}) from None


def _refuse_reserved_domain(email: str) -> None:
    # Erased accounts live at .invalid (RFC 2606): nobody signs up there, so no sign-up
    # can ever collide with an erasure.
    domain = email.rsplit("@", 1)[-1].rstrip(".")
    if domain == "invalid" or domain.endswith(".invalid"):
        raise DomainError("Addresses at .invalid cannot receive mail; use your own.", path="email")


def _ensure_email_free(email: str, *, exclude_pk: int | None = None) -> None:
    taken = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise DuplicateEntry("A user with this email already exists.", path="email")


@transaction.atomic
def user_register(
    *,
    name: str,
    email: str,
    role: str,
    password: str | None = None,
    firebase_identity: FirebaseIdentity | None = None,
    image: str = "",
    phone: str = "",
    specialty: str | int | None = None,
    license_number: str = "",
    bio: str = "",
    site: str = "",
) -> User:
    """A new account; or, for a verified Firebase email whose account was never proven,
    that account taken over (invariant 9). A local account is mailed a link to prove it."""
    email = email.strip().lower()
    if role not in SELF_REGISTRABLE_ROLES:
        raise Forbidden("Nobody can register as an administrator.")
    _refuse_reserved_domain(email)
    if firebase_identity is None and not password:
        raise DomainError(
            errors={
                "password": [
                    "Give a password, or send a Firebase ID token as Authorization: Bearer."
                ]
            }
        )
    if firebase_identity is not None:
        if firebase_identity.email != email:
            raise Unauthenticated("The Firebase ID token belongs to another email address.")
        # An unverified email is accepted here: the reference client registers right after
        # a Firebase email sign-up. The new account is bound to this Firebase uid, so
        # only this Firebase account can later exchange tokens for it (token_obtain_with_firebase).
        if User.objects.filter(firebase_uid=firebase_identity.uid).exists():
            raise DuplicateEntry("This Firebase account is already registered.", path="email")
        if firebase_identity.email_verified:
            squatted = _unproven_account(email)
            if squatted is not None:
                _take_over(squatted, firebase_uid=firebase_identity.uid, site=site)
                return _apply_registration(
                    squatted, name=name, role=role, image=image, phone=phone,
                    specialty=specialty, license_number=license_number, bio=bio,
                )  # fmt: skip
    if password:
        _check_password(password, email=email, name=name)
    _ensure_email_free(email)
    service = _resolve_service(specialty) if role == Role.DOCTOR else None

    try:
        # A savepoint, so a concurrent registration of the same email is a clean 409.
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password or None,
                name=name.strip(),
                role=role,
                image=image or "",
                phone=phone or "",
                firebase_uid=firebase_identity.uid if firebase_identity else None,
                email_verified=bool(firebase_identity and firebase_identity.email_verified),
            )
    except IntegrityError:
        raise DuplicateEntry("A user with this email already exists.", path="email") from None
    if role == Role.DOCTOR:
        # Doctors start unverified: only an administrator verifies credentials.
        DoctorProfile.objects.create(
            user=user, specialty=service, license_number=license_number or "", bio=bio or ""
        )
    if firebase_identity is None:
        mails.verification_after_commit(user=user, site=site)
    return user


def _unproven_account(email: str) -> User | None:
    """The active account at this address whose address was never proven, locked."""
    return (
        User.objects.select_for_update()
        .filter(email__iexact=email, email_verified=False, is_active=True)
        .first()
    )


def _apply_registration(user: User, *, name, role, image, phone, specialty, license_number, bio):
    """The proven owner's sign-up replaces what the squatter had typed."""
    user.name = name.strip()
    user.image = image or ""
    user.phone = phone or ""
    user.role = role
    user.save(update_fields=["name", "image", "phone", "role", "updated_at"])
    if role == Role.DOCTOR:
        profile, _ = DoctorProfile.objects.get_or_create(user=user)
        profile.specialty = _resolve_service(specialty)
        profile.license_number = license_number or ""
        profile.bio = bio or ""
        profile.is_verified, profile.verified_by, profile.verified_at = False, None, None
        profile.save()
    return user


def _end_every_sign_in(user: User) -> None:
    """Every refresh token blacklisted. Sessions and access tokens end with the password
    they were issued under (Django's session auth hash; SIMPLE_JWT CHECK_REVOKE_TOKEN), so
    callers change the password before calling this."""
    _blacklist_all_refresh_tokens(user)


def _take_over(user: User, *, firebase_uid: str | None, site: str, notify: bool = True) -> None:
    """The address is proven now, by someone who may not be who created the account:
    what that creator chose (password, an unverified Firebase binding) stops working."""
    user.set_unusable_password()
    user.firebase_uid = firebase_uid
    user.email_verified = True
    user.save(update_fields=["password", "firebase_uid", "email_verified", "updated_at"])
    # A licence checked for an account nobody had proven was someone's claim, maybe not
    # the owner's: the owner's account is checked again before it can publish.
    if DoctorProfile.objects.filter(user=user, is_verified=True).update(is_verified=False):
        VerificationEvent.objects.create(
            doctor=user,
            verified=False,
            by=None,
            reason="The account was taken over by the proven owner of its address.",
        )
    _end_every_sign_in(user)
    if notify:
        how = "a verified Firebase sign-in" if firebase_uid else "the link mailed to it"
        mails.takeover_notice_after_commit(user=user, site=site, how=how)


LICENCE_FIELDS = ("license_number", "license_authority", "license_expires_on", "license_document")
BACK_TO_VERIFICATION = "The doctor changed their licence details; it needs verifying again."


@transaction.atomic
def user_update(
    *,
    actor: User,
    user: User,
    name: str = UNSET,
    phone: str = UNSET,
    image: str = UNSET,
    photo=UNSET,
    specialty: str | int | None = UNSET,
    license_number: str = UNSET,
    license_authority: str = UNSET,
    license_expires_on=UNSET,
    license_document=UNSET,
    bio: str = UNSET,
    role: str = UNSET,
    is_verified: bool = UNSET,
    verification_reason: str = "",
) -> User:
    """A profile edit: the user's own (name, phone, photo; a doctor's specialty, bio and
    licence) or an administrator's (also role and verification).

    `photo` and `license_document` are uploaded files (None removes them), checked by
    accounts.uploads before anything is written: a refused file leaves the user, the
    profile and the storage as they were. A doctor who changes their licence while
    verified goes back to "awaiting verification" (an event in their history): the
    verification was of the licence they had, and a renewed or corrected one is checked
    again, or a doctor could extend their own expiry date. An administrator's edit of
    the licence does not revoke (they are the ones who check it).
    """
    actor_is_admin = actor.is_admin
    if not actor_is_admin and actor.pk != user.pk:
        raise NotFound("No user with this id.")
    if not actor_is_admin and (role is not UNSET or is_verified is not UNSET):
        raise Forbidden("Only an administrator may change a role or a verification.")
    if user.deleted_at is not None or not user.is_active:
        raise DomainError("This account is deactivated; it cannot be edited.")

    # Every check first, so a refusal writes nothing (and stores no file).
    if name is not UNSET and not (name or "").strip():
        raise DomainError("Name may not be blank.", path="name")
    doctor_values = {
        "specialty": specialty,
        "licenseNumber": license_number,
        "licenseAuthority": license_authority,
        "licenseExpiresOn": license_expires_on,
        "licenseDocument": license_document,
        "bio": bio,
    }
    given = [key for key, value in doctor_values.items() if value is not UNSET]
    role_after = role if role is not UNSET else user.role
    if (given or is_verified is not UNSET) and role_after != Role.DOCTOR:
        raise DomainError("Only doctors have this field.", path=given[0] if given else "isVerified")
    service = _resolve_service(specialty) if specialty is not UNSET else UNSET
    new_photo = uploads.photo_checked(upload=photo) if photo not in (UNSET, None) else None
    new_document = (
        uploads.licence_document_checked(upload=license_document)
        if license_document not in (UNSET, None)
        else None
    )

    stored: list[str] = []
    try:
        _apply_user_update(
            actor=actor,
            user=user,
            name=name,
            phone=phone,
            image=image,
            photo=photo,
            new_photo=new_photo,
            service=service,
            license_number=license_number,
            license_authority=license_authority,
            license_expires_on=license_expires_on,
            license_document=license_document,
            new_document=new_document,
            bio=bio,
            role=role,
            is_verified=is_verified,
            verification_reason=verification_reason,
            stored=stored,
        )
    except BaseException:
        for name_in_storage in stored:  # a later refusal: no file stays behind
            default_storage.delete(name_in_storage)
        raise
    if user.role == Role.DOCTOR:
        lifecycle.listing_changed()  # a doctor's name, picture and specialty are shown
    return user


def _licence_values(profile: DoctorProfile) -> tuple:
    # The document by its name: its FieldFile is one object that .save() changes in place.
    return tuple(
        value.name if field == "license_document" else value
        for field in LICENCE_FIELDS
        for value in [getattr(profile, field)]
    )


def _delete_after_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def _apply_user_update(
    *, actor, user, name, phone, image, photo, new_photo, service, license_number,
    license_authority, license_expires_on, license_document, new_document, bio, role,
    is_verified, verification_reason, stored,
) -> None:  # fmt: skip
    fields = []
    for field, value in (("name", name), ("phone", phone), ("image", image)):
        if value is not UNSET:
            setattr(user, field, (value or "").strip())
            fields.append(field)
    if image is not UNSET and photo is UNSET and user.photo:
        photo = None  # a picture link given instead: the uploaded photo goes
    if photo is not UNSET:
        old = user.photo.name
        if new_photo is not None:
            user.photo.save(new_photo.content.name, new_photo.content, save=False)
            stored.append(user.photo.name)
        else:
            user.photo = ""
        _delete_after_commit(old)
        fields.append("photo")
    if fields:
        user.save(update_fields=[*fields, "updated_at"])

    if role is not UNSET and role != user.role:
        user_set_role(actor=actor, user=user, role=role)

    if user.role != Role.DOCTOR:
        return
    profile, _ = DoctorProfile.objects.select_for_update().get_or_create(user=user)
    changed = []
    if service is not UNSET:
        profile.specialty = service
        changed.append("specialty")
    if bio is not UNSET:
        profile.bio = bio or ""
        changed.append("bio")
    licence_before = _licence_values(profile)
    if license_number is not UNSET:
        profile.license_number = (license_number or "").strip()
    if license_authority is not UNSET:
        profile.license_authority = (license_authority or "").strip()
    if license_expires_on is not UNSET:
        profile.license_expires_on = license_expires_on
    if license_document is not UNSET:
        old = profile.license_document.name
        if new_document is not None:
            profile.license_document.save(
                new_document.content.name, new_document.content, save=False
            )
            stored.append(profile.license_document.name)
        else:
            profile.license_document = ""
        _delete_after_commit(old)
    licence_changed = licence_before != _licence_values(profile)
    if licence_changed:
        profile.license_revision += 1
        changed += [*LICENCE_FIELDS, "license_revision"]
    if changed:
        profile.save(update_fields=changed)
    if licence_changed and not actor.is_admin and profile.is_verified and is_verified is UNSET:
        _verification_record(
            profile=profile, doctor=user, verified=False, by=actor, reason=BACK_TO_VERIFICATION
        )
    if is_verified is not UNSET:
        doctor_set_verification(
            actor=actor, doctor=user, verified=is_verified, reason=verification_reason
        )


def _require_admin(actor: User) -> None:
    if not is_admin(actor):
        raise Forbidden("Only administrators may do this.")


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: str) -> User:
    _require_admin(actor)
    if role not in Role.values:
        raise DomainError(f'"{role}" is not a role.', path="role")
    if actor.pk == user.pk and role != Role.ADMIN:
        # Demoting oneself could leave the clinic without an administrator.
        raise DomainError("An administrator cannot change their own role.", path="role")
    user.role = role
    user.is_superuser = role == Role.ADMIN
    user.save(update_fields=["role", "is_superuser", "updated_at"])
    if role == Role.DOCTOR:
        DoctorProfile.objects.get_or_create(user=user)
    lifecycle.listing_changed()
    return user


@transaction.atomic
def doctor_set_verification(
    *, actor: User, doctor: User, verified: bool, reason: str = ""
) -> DoctorProfile:
    """Verify or revoke, recorded as an event kept forever. The profile keeps who
    verified last and when: a revocation no longer wipes it (the history says more)."""
    _require_admin(actor)
    if doctor.role != Role.DOCTOR:
        raise DomainError("Only doctors can be verified.", path="isVerified")
    profile, _ = DoctorProfile.objects.select_for_update().get_or_create(user=doctor)
    _verification_record(profile=profile, doctor=doctor, verified=verified, by=actor, reason=reason)
    return profile


def _verification_record(
    *, profile: DoctorProfile, doctor: User, verified: bool, by: User | None, reason: str
) -> None:
    """The profile's flag set and the event kept forever, together."""
    now = timezone.now()
    profile.is_verified = verified
    if verified:
        profile.verified_by, profile.verified_at = by, now
    profile.save(update_fields=["is_verified", "verified_by", "verified_at"])
    VerificationEvent.objects.create(
        doctor=doctor, verified=verified, by=by, at=now, reason=(reason or "").strip()[:500]
    )
    lifecycle.listing_changed()


def _blacklist_all_refresh_tokens(user: User) -> None:
    outstanding = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


@dataclass(frozen=True)
class Erasure:
    user: User
    # What the other apps' steps did (accounts.lifecycle), e.g. bookingsCancelled.
    counts: dict[str, int]


def _check_may_erase(*, actor: User, user: User) -> None:
    if actor.pk == user.pk:
        if is_admin(actor):
            # The last administrator must not be able to lock the clinic out.
            raise Forbidden("An administrator cannot delete their own account.")
        return
    _require_admin(actor)


def _anonymise_copies(*, user: User, old_repr: str, old_email: str) -> None:
    """Personal data copied out of the user row: the other apps' copies (the booking
    phone), the sign-in records (django-axes keeps the address typed), and the history
    texts of the admin and the audit trail."""
    from auditlog.models import LogEntry as AuditEntry
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.admin.models import LogEntry
    from django.db.models import Value
    from django.db.models.functions import Replace

    for erase_copies in lifecycle.COPY_ERASERS:
        erase_copies(user=user)
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username__iexact=old_email).delete()
    # The admin's history and the audit trail name objects by str(), which holds
    # "name <email>" (users, and slots through their doctor) or "Dr. name" (the doctor's
    # profile); the audit trail also copies its actor's email.
    AuditEntry.objects.filter(actor=user).update(actor_email=user.email)
    profile = DoctorProfile.objects.filter(user=user).first()
    for history in (LogEntry, AuditEntry):
        for old, new in ((old_repr, str(user)), (old_email, user.email)):
            history.objects.filter(object_repr__icontains=old_email).update(
                object_repr=Replace("object_repr", Value(old), Value(new))
            )
        if profile is not None:
            history.objects.filter(
                content_type__app_label="accounts",
                content_type__model="doctorprofile",
                object_id=profile.pk,
            ).update(object_repr=str(profile))


@transaction.atomic
def user_erase(*, actor: User, user: User, now=None) -> Erasure:
    """Erasure (ARCHITECTURE invariant 11), by an administrator or the user themself.

    Future holds are released and future appointments cancelled by the clinic with a
    full refund; a doctor's future slots are withdrawn. Then name, email, phone, image,
    licence and Firebase uid are anonymised on the user and on every copy. Payments,
    refunds and past bookings stay (they PROTECT the user row): they are accounting.
    """
    _check_may_erase(actor=actor, user=user)
    now = now or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        raise NotFound("This user was already deleted.")
    # Bookings cancelled, slots withdrawn (the apps' steps). Their mails render after
    # the commit, from the anonymised rows, so nothing personal of the user goes out.
    counts = {
        name: step(actor=actor, user=user, now=now)
        for name, step in lifecycle.ERASURE_STEPS.items()
    }
    old_repr, old_email = str(user), user.email
    # Unguessable and at .invalid, which sign-up refuses: no registration can block this.
    user.email = f"deleted-{secrets.token_hex(16)}@deleted.invalid"
    user.name = "Deleted user"
    user.phone = ""
    user.image = ""
    # The uploaded files leave the storage once the erasure commits (never before: a
    # rolled-back erasure keeps them).
    _delete_after_commit(user.photo.name)
    user.photo = ""
    user.firebase_uid = None
    user.set_unusable_password()
    user.is_active = False
    user.is_superuser = False
    user.deleted_at = now
    user.save()
    for document in DoctorProfile.objects.filter(user=user).values_list(
        "license_document", flat=True
    ):
        _delete_after_commit(document)
    DoctorProfile.objects.filter(user=user).update(
        license_number="", license_authority="", license_document="", bio=""
    )
    _anonymise_copies(user=user, old_repr=old_repr, old_email=old_email)
    _blacklist_all_refresh_tokens(user)
    lifecycle.listing_changed()
    return Erasure(user=user, counts=counts)


def token_pair_for(user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"accessToken": str(refresh.access_token), "refreshToken": str(refresh)}


def token_obtain_with_password(*, request: HttpRequest, email: str, password: str) -> dict:
    # The request lets django-axes refuse a locked account or address and count a failure.
    user = authenticate(request, username=email.strip().lower(), password=password)
    if user is None:
        raise Unauthenticated("No active account with this email and password.")
    return token_pair_for(user)


@transaction.atomic
def token_obtain_with_firebase(
    *, identity: FirebaseIdentity, email: str, site: str = ""
) -> dict[str, str]:
    if identity.email != email.strip().lower():
        raise Unauthenticated("The Firebase ID token belongs to another email address.")
    user = User.objects.select_for_update().filter(email__iexact=identity.email).first()
    if user is None:
        raise NotFound("No account with this email; register first.")
    if not user.is_active:
        raise Unauthenticated("This account is deactivated.")
    same_account = bool(user.firebase_uid) and user.firebase_uid == identity.uid
    if identity.email_verified and not user.email_verified:
        if same_account:
            # The Firebase account that registered before verifying has proven it now. Who
            # held it before the proof may not be its owner (Firebase hands an unverified
            # account's uid to the owner who signs in with a trusted provider), so every
            # sign-in issued before ends here; this answer is the first one after.
            _take_over(user, firebase_uid=identity.uid, site=site, notify=False)
        else:
            # Whoever created this account never proved the address; its owner just did.
            _take_over(user, firebase_uid=identity.uid, site=site)
    elif not same_account:
        if user.firebase_uid:
            raise Unauthenticated("This account is linked to another Firebase account.")
        # Linking joins a proven account, so here the email must be proven too:
        # anyone can create an unverified Firebase account with someone else's email.
        if not identity.email_verified:
            raise Unauthenticated(
                "The Firebase account's email address is not verified; verify it to link "
                "it to this existing account."
            )
        # A proven local account whose owner proves the same email signs in with Firebase too.
        user.firebase_uid = identity.uid
        user.save(update_fields=["firebase_uid", "updated_at"])
    return token_pair_for(user)


# ---------------------------------------------------------------- proof by mail


class BadLink(DomainError):
    code = "bad_link"
    default_detail = "This link is invalid, used or expired. Ask for a new one."


@transaction.atomic
def email_verify(
    *,
    token: str,
    password: str | None = None,
    signed_in_as: User | None = None,
    site: str = "",
) -> tuple[User, bool]:
    """Prove the address with the mailed link. Shown together with the account's own
    credential (its password, or a session of it) the account is confirmed as it is; the
    link alone means the mailbox's owner takes it over. Returns the user and whether the
    password was cleared."""
    user = tokens.user_of_verification_token(token)
    if user is None:
        raise BadLink(path="token")
    user = User.objects.select_for_update().get(pk=user.pk)
    holder = signed_in_as is not None and signed_in_as.pk == user.pk
    if holder or password is not None:
        if not holder and not user.check_password(password):
            raise Unauthenticated("This is not the password chosen at sign-up.")
        user.email_verified = True
        user.save(update_fields=["email_verified", "updated_at"])
        return user, False
    _take_over(user, firebase_uid=None, site=site)
    return user, True


def email_verification_resend(*, email: str, site: str = "") -> None:
    """A new link for an unproven local account; nothing (and the same answer) otherwise."""
    user = User.objects.filter(
        email__iexact=email.strip(), is_active=True, email_verified=False
    ).first()
    if user is not None and user.has_usable_password():
        mails.verification_after_commit(user=user, site=site)


def password_reset_request(*, email: str, site: str = "") -> None:
    """A reset link for an active local account; nothing (and the same answer) otherwise."""
    user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    if user is not None and user.has_usable_password():
        mails.password_reset_after_commit(user=user, site=site)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, password: str) -> User:
    user = tokens.checked_user(tokens.password_reset_token, uid=uid, token=token)
    if user is None:
        raise BadLink(path="token")
    return user_set_password_by_mail(user=user, password=password)


@transaction.atomic
def user_set_password_by_mail(*, user: User, password: str) -> User:
    """A password chosen through a mailed link: the address is proven, and every other
    sign-in of the account ends. An unverified Firebase binding (never proven) goes too."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_password(password, email=user.email, name=user.name)
    if not user.email_verified:
        _take_over(user, firebase_uid=None, site="", notify=False)
    user.set_password(password)
    user.save(update_fields=["password", "updated_at"])
    _end_every_sign_in(user)
    # The owner proved the mailbox: a lockout against the account has done its job.
    axes_reset(username=user.email)
    return user


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        # Verifies signature, expiry and (blacklist app) that it is not blacklisted.
        return RefreshToken(raw)
    except TokenError as exc:
        # simplejwt's own refusal: the API words it (api.exceptions.token_failure_message).
        raise InvalidToken(str(exc)) from None


@transaction.atomic
def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotation: the old refresh token is blacklisted and a new pair issued, once."""
    token = _parse_refresh(refresh)
    # Lock the token's row so two concurrent refreshes with it cannot both succeed.
    # (order_by(): the model's default ordering joins the nullable user, which PostgreSQL
    # cannot lock.)
    outstanding = (
        OutstandingToken.objects.select_for_update(of=("self",))
        .filter(jti=token["jti"])
        .order_by()
        .first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise Unauthenticated("This refresh token was already used or revoked: sign in again.")
    user = User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM)).first()
    if user is None:
        raise Unauthenticated(TOKEN_NOT_VALID)
    if not user.is_active:
        raise Unauthenticated("This account is deactivated.")
    # simplejwt's own password-changed check for access tokens (same claim, same hash):
    # a refresh token minted before a set_password() is as dead as its access token.
    if jwt_settings.CHECK_REVOKE_TOKEN and token.get(
        jwt_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(user.password):
        raise Unauthenticated(TOKEN_PASSWORD_CHANGED)
    BlacklistedToken.objects.create(token=outstanding)
    return token_pair_for(user)


@transaction.atomic
def token_blacklist(*, refresh: str) -> None:
    token = _parse_refresh(refresh)
    token.blacklist()
