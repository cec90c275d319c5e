import re
import uuid
from datetime import date

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

# A licence's last day within reason (the admin took 0001-01-01): not before this day, and
# at most LICENCE_MAX_YEARS_AHEAD years ahead. The model field, the profile page's form
# and PATCH users all check with these validators.
LICENCE_EARLIEST_EXPIRY = date(1970, 1, 1)
LICENCE_MAX_YEARS_AHEAD = 50


def latest_licence_expiry() -> date:
    """The last day of the year LICENCE_MAX_YEARS_AHEAD years from now."""
    return date(timezone.now().year + LICENCE_MAX_YEARS_AHEAD, 12, 31)


LICENCE_EXPIRY_VALIDATORS = [
    MinValueValidator(LICENCE_EARLIEST_EXPIRY),
    MaxValueValidator(latest_licence_expiry),
]


def photo_upload_to(instance, filename: str) -> str:
    # A random name: the file's name says nothing about whose it is (erasure, logs).
    return f"photos/{uuid.uuid4().hex}.jpg"


def licence_document_upload_to(instance, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"licences/{uuid.uuid4().hex}.{extension}"


# A doctor's name as typed may carry the title already ("Dr. Tanvir Karim"): the title is
# written once, by accounts.names.display_name and DoctorProfile.__str__.
_TITLE = re.compile(r"^\s*dr\.?\s+", re.IGNORECASE)


def name_without_title(name: str) -> str:
    return _TITLE.sub("", (name or "").strip())


class Role(models.TextChoices):
    PATIENT = "Patient", "Patient"
    DOCTOR = "Doctor", "Doctor"
    ADMIN = "Admin", "Admin"


def is_admin(user) -> bool:
    """Whether `user` has administrator rights: an active account with the Admin role. The
    one definition (User.is_admin and User.is_staff are this; anonymous or None: no)."""
    return bool(
        user is not None and user.is_authenticated and user.is_active and user.role == Role.ADMIN
    )


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("role", Role.PATIENT)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(role=Role.ADMIN, is_superuser=True)
        fields.setdefault("name", "Administrator")
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: patient, doctor or administrator. Email is the login."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    phone = models.CharField(max_length=32, blank=True)
    image = models.URLField(max_length=500, blank=True)
    # An uploaded profile picture (accounts.uploads: checked, resized, re-encoded), in the
    # default storage; served by the users/:id/photo route. Shown as `image` when set.
    photo = models.FileField(upload_to=photo_upload_to, blank=True, max_length=200)
    firebase_uid = models.CharField(max_length=128, null=True, blank=True, unique=True)
    # Proven by a followed mail link or a Firebase token with email_verified. Until then
    # the address is nobody's: a proven sign-in takes the account over (services).
    email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]
        indexes = [
            # The admin's user list: live users of a role, newest first, and their count
            # from the index alone.
            models.Index(
                fields=["role", "-created_at", "-id"],
                condition=models.Q(deleted_at__isnull=True),
                name="user_live_role_created_idx",
            ),
            # The doctors directory (scheduling.selectors): live doctors read off a small
            # index, not found among every patient (1,000 of 21,000 users: 32 -> 2.5 ms).
            models.Index(
                fields=["id"],
                condition=models.Q(role=Role.DOCTOR, deleted_at__isnull=True),
                name="user_live_doctor_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def is_staff(self) -> bool:
        # Admin rights are what open the Django admin; there is no separate flag to drift.
        return is_admin(self)

    @property
    def is_admin(self) -> bool:
        return is_admin(self)

    @property
    def is_doctor(self) -> bool:
        return self.role == Role.DOCTOR

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_staff or super().has_perm(perm, obj)

    def has_module_perms(self, app_label) -> bool:
        return self.is_staff or super().has_module_perms(app_label)


class DoctorProfile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="doctor_profile"
    )
    specialty = models.ForeignKey(
        "scheduling.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="doctor_profiles",
    )
    license_number = models.CharField(max_length=64, blank=True)
    license_authority = models.CharField(max_length=200, blank=True)
    # The last day the licence is valid (clinic calendar). Past it the doctor's slots are
    # not bookable (accounts.credentials); None: no expiry recorded.
    license_expires_on = models.DateField(
        null=True, blank=True, validators=LICENCE_EXPIRY_VALIDATORS
    )
    # PDF, JPEG or PNG, checked by content (accounts.uploads), never served publicly:
    # only the doctor and admins, through users/:id/licence-document.
    license_document = models.FileField(
        upload_to=licence_document_upload_to, blank=True, max_length=200
    )
    # Counts the licence's edits: the audit trail records each one (who, when) without
    # holding the number itself, which an erasure would have to take back.
    license_revision = models.PositiveIntegerField(default=0)
    bio = models.TextField(blank=True)
    is_verified = models.BooleanField(default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["is_verified"], name="doctor_verified_idx")]

    def __str__(self) -> str:
        return f"Dr. {name_without_title(self.user.name)}"


def specialties():
    """The services a doctor's specialty can name: scheduling.Service, reached through the
    relation DoctorProfile.specialty declares (a lazy "scheduling.Service"), so accounts
    imports no scheduling module (tests/test_import_graph.py)."""
    return DoctorProfile._meta.get_field("specialty").related_model.objects.all()


class VerificationEvent(models.Model):
    """A doctor verified or revoked: who, when, why. Kept forever (never changed or
    deleted), so the profile's flag can change while its history stays."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="verification_events"
    )
    verified = models.BooleanField()
    # None: the system did it (an account taken over by the proven owner of its address).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["doctor", "at"], name="verification_doctor_at_idx")]

    def __str__(self) -> str:
        return (
            f"{'Verified' if self.verified else 'Revoked'} #{self.doctor_id} at {self.at:%Y-%m-%d}"
        )
