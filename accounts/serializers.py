"""Request parsing and the user object of API.md."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import LICENCE_EXPIRY_VALIDATORS, Role, User
from doctors_portal.api.fields import DayField


def _role(value: str) -> str:
    by_lower = {role.lower(): role for role in Role.values}
    role = by_lower.get(str(value).strip().lower())
    if role is None:
        raise serializers.ValidationError(f"Must be one of {', '.join(Role.values)}.")
    return role


class RoleField(serializers.CharField):
    """A role in any case ("admin", "Doctor")."""

    def to_internal_value(self, data):
        return _role(super().to_internal_value(data))


@extend_schema_field({"type": "string", "enum": [Role.PATIENT.value, Role.DOCTOR.value]})
class SignUpRoleField(RoleField):
    """Documented as the two roles anyone may sign up with; Admin is refused by the service."""


# "not true" rather than an enum of false: the same for a validator, and no enum component
# for drf-spectacular to name twice (isVerified and isverified).
@extend_schema_field({"type": "boolean", "not": {"enum": [True]}})
class NotVerifiedField(serializers.BooleanField):
    """The reference client's sign-up sends isVerified: false; true is refused (400)."""


# http(s), a host, no white space: what a profile picture link needs, and exactly what is
# checked (Django's URLValidator also refuses hosts the URI grammar allows, such as a
# label longer than 63 characters, so the schema would promise more than it kept).
IMAGE_URL_PATTERN = r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s/?#@]+(?:[/?#]\S*)?$"


@extend_schema_field(
    {"type": "string", "format": "uri", "pattern": IMAGE_URL_PATTERN, "maxLength": 500}
)
class ImageURLField(serializers.RegexField):
    def __init__(self, **kwargs):
        super().__init__(
            IMAGE_URL_PATTERN,
            max_length=500,
            error_messages={"invalid": "Enter an http or https address."},
            **kwargs,
        )


# The reference's own `isverified`: its client compares `isverified === "verified"` and
# tests it for truth, so a boolean will not do. Null in the enum too, for validators.
REFERENCE_VERIFIED = "verified"


def reference_verified(verified: bool) -> str | None:
    return REFERENCE_VERIFIED if verified else None


@extend_schema_field(
    {
        "type": "string",
        "enum": [REFERENCE_VERIFIED, None],
        "nullable": True,
        "description": '"verified" for a verified doctor, null otherwise (the reference\'s '
        "field; isVerified is the boolean).",
    }
)
class ReferenceVerifiedField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "nullable": True})
class NullableStringField(serializers.CharField):
    pass


@extend_schema_field({"type": "integer", "nullable": True})
class NullableIntegerField(serializers.IntegerField):
    pass


class VerifiedBySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class VerificationEventSerializer(serializers.Serializer):
    verified = serializers.BooleanField()
    by = VerifiedBySerializer(allow_null=True)
    at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)


class NotBookableReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["unverified", "licence_expired", "inactive"])
    message = serializers.CharField()


class UserSerializer(serializers.ModelSerializer):
    """`{id, _id, name, email, role, image, phone, createdAt}`, doctors' fields for doctors."""

    _id = serializers.IntegerField(source="id", read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    isActive = serializers.BooleanField(source="is_active", read_only=True)
    # Whether the address is proven (a followed mail link or a verified Firebase email).
    emailVerified = serializers.BooleanField(source="email_verified", read_only=True)
    # Often "" (no picture): a plain string, not a URI, in the schema.
    image = serializers.CharField(read_only=True)
    # Doctors only, written by to_representation: optional (not read-only, which the
    # schema would mark required), and skipped for everyone else (no such attribute).
    specialty = NullableStringField(required=False)
    specialtyId = NullableIntegerField(required=False)
    licenseNumber = serializers.CharField(required=False)
    registrationnumber = serializers.CharField(required=False, help_text="licenseNumber")
    bio = serializers.CharField(required=False)
    licenseAuthority = serializers.CharField(required=False)
    licenseExpiresOn = serializers.DateField(required=False, allow_null=True)
    licenseDocument = NullableStringField(
        required=False, help_text="Where the doctor and admins download it; null if none."
    )
    isVerified = serializers.BooleanField(required=False)
    isverified = ReferenceVerifiedField(required=False)
    verifiedBy = VerifiedBySerializer(required=False, allow_null=True)
    verifiedAt = serializers.DateTimeField(required=False, allow_null=True)
    verificationHistory = VerificationEventSerializer(
        many=True, required=False, help_text="Admins and the doctor themself only."
    )
    bookable = serializers.BooleanField(
        required=False, help_text="Doctors, to admins and themself: can patients book them."
    )
    notBookableReasons = NotBookableReasonSerializer(
        many=True, required=False, help_text="Why not (unverified, licence_expired)."
    )

    class Meta:
        model = User
        read_only_fields = ["id", "_id", "name", "email", "role", "image", "phone"]
        read_only_fields += ["createdAt", "isActive", "emailVerified"]
        fields = [
            *read_only_fields,
            *("specialty", "specialtyId", "licenseNumber", "registrationnumber", "bio"),
            *("licenseAuthority", "licenseExpiresOn", "licenseDocument"),
            *("isVerified", "isverified"),
            *("verifiedBy", "verifiedAt", "verificationHistory"),
            *("bookable", "notBookableReasons"),
        ]

    def to_representation(self, user):
        data = super().to_representation(user)
        if user.role == Role.DOCTOR:
            profile = getattr(user, "doctor_profile", None)
            specialty = profile.specialty if profile else None
            license_number = profile.license_number if profile else ""
            verified = bool(profile and profile.is_verified)
            data.update(
                specialty=specialty.name if specialty else None,
                specialtyId=specialty.pk if specialty else None,
                licenseNumber=license_number,
                registrationnumber=license_number,
                bio=profile.bio if profile else "",
                isVerified=verified,
                isverified=reference_verified(verified),
            )
        return data


def _created_at(value) -> str:
    """createdAt exactly as UserSerializer's DateTimeField writes it (ISO 8601 in the default
    time zone, "Z" for UTC; the app never activates another zone), without the field's
    per-call time-zone lookups: a page of users calls this once a row."""
    text = value.astimezone(timezone.get_default_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def user_values(user: User) -> dict:
    """A user instance as the `selectors.USER_VALUES` dict user_out is built from. The doctor
    profile is only read for doctors, as UserSerializer did (no query for anyone else)."""
    values = {
        "id": user.pk,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "image": user.image,
        "photo": user.photo.name,
        "phone": user.phone,
        "created_at": user.created_at,
        "is_active": user.is_active,
        "email_verified": user.email_verified,
    }
    if user.role == Role.DOCTOR:
        profile = getattr(user, "doctor_profile", None)
        specialty = profile.specialty if profile else None
        values.update(
            {
                "doctor_profile__id": profile.pk if profile else None,
                "doctor_profile__specialty_id": specialty.pk if specialty else None,
                "doctor_profile__specialty__name": specialty.name if specialty else None,
                "doctor_profile__license_number": profile.license_number if profile else "",
                "doctor_profile__license_authority": (profile.license_authority if profile else ""),
                "doctor_profile__license_expires_on": (
                    profile.license_expires_on if profile else None
                ),
                "doctor_profile__license_document": (
                    profile.license_document.name if profile else ""
                ),
                "doctor_profile__bio": profile.bio if profile else "",
                "doctor_profile__is_verified": bool(profile and profile.is_verified),
                "doctor_profile__verified_by_id": profile.verified_by_id if profile else None,
                "doctor_profile__verified_by__name": (
                    profile.verified_by.name if profile and profile.verified_by_id else None
                ),
                "doctor_profile__verified_at": profile.verified_at if profile else None,
            }
        )
    return values


def photo_url(user_id: int, name: str) -> str:
    """Where an uploaded photo is served (users/:id/photo); the file's random name in
    the query, so a new photo is a new address (no stale cached picture)."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"/api/v1/users/{user_id}/photo?v={stem}"


def licence_document_url(user_id: int) -> str:
    return f"/api/v1/users/{user_id}/licence-document"


def user_out(user: User | dict) -> dict:
    """UserSerializer's output, built directly (the serializer describes it in the schema;
    instantiating its fields for every user cost more than the rest of a list read)."""
    u = user if isinstance(user, dict) else user_values(user)
    data = {
        "id": u["id"],
        "_id": u["id"],
        "name": u["name"],
        "email": u["email"],
        "role": u["role"],
        "image": photo_url(u["id"], u["photo"]) if u["photo"] else u["image"],
        "phone": u["phone"],
        "createdAt": _created_at(u["created_at"]),
        "isActive": bool(u["is_active"]),
        "emailVerified": bool(u["email_verified"]),
    }
    if u["role"] == Role.DOCTOR:
        has_profile = u["doctor_profile__id"] is not None
        license_number = u["doctor_profile__license_number"] if has_profile else ""
        verified = bool(has_profile and u["doctor_profile__is_verified"])
        has_specialty = u["doctor_profile__specialty_id"] is not None
        expires_on = u["doctor_profile__license_expires_on"] if has_profile else None
        data.update(
            specialty=u["doctor_profile__specialty__name"] if has_specialty else None,
            specialtyId=u["doctor_profile__specialty_id"],
            licenseNumber=license_number,
            registrationnumber=license_number,
            bio=u["doctor_profile__bio"] if has_profile else "",
            licenseAuthority=u["doctor_profile__license_authority"] if has_profile else "",
            licenseExpiresOn=expires_on.isoformat() if expires_on else None,
            licenseDocument=(
                licence_document_url(u["id"]) if u["doctor_profile__license_document"] else None
            ),
            isVerified=verified,
            isverified=reference_verified(verified),
            # Who verified last and when; kept after a revocation (verificationHistory).
            verifiedBy=(
                {
                    "id": u["doctor_profile__verified_by_id"],
                    "name": u["doctor_profile__verified_by__name"],
                }
                if has_profile and u["doctor_profile__verified_by_id"]
                else None
            ),
            verifiedAt=_created_at(u["doctor_profile__verified_at"])
            if has_profile and u["doctor_profile__verified_at"]
            else None,
        )
    return data


class _DoctorFieldsMixin(serializers.Serializer):
    specialty = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    licenseNumber = serializers.CharField(required=False, allow_blank=True, max_length=64)
    registrationnumber = serializers.CharField(required=False, allow_blank=True, max_length=64)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    def validate(self, attrs):
        alias = attrs.pop("registrationnumber", None)
        if alias is not None and "licenseNumber" not in attrs:
            attrs["licenseNumber"] = alias
        return attrs


class RegisterSerializer(_DoctorFieldsMixin):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    role = SignUpRoleField(max_length=16)
    # null too: the reference client sends a Google account's missing photo as null.
    image = ImageURLField(required=False, allow_blank=True, allow_null=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    password = serializers.CharField(
        required=False, allow_blank=True, write_only=True, trim_whitespace=False, max_length=128
    )
    isVerified = NotVerifiedField(required=False)
    isverified = NotVerifiedField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.pop("isVerified", False) | attrs.pop("isverified", False):
            raise serializers.ValidationError(
                {"isVerified": ["Doctors start unverified; an administrator verifies them."]}
            )
        return attrs


class UserUpdateSerializer(_DoctorFieldsMixin):
    """Every field PATCH users accepts; who may send which is decided by the service."""

    ADMIN_ONLY = ("role", "isVerified", "isverified", "verificationReason")
    NEVER = ("email",)

    name = serializers.CharField(required=False, max_length=150)
    image = ImageURLField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    role = RoleField(required=False, max_length=16)
    isVerified = serializers.BooleanField(required=False)
    isverified = serializers.BooleanField(required=False)
    # Files: multipart/form-data only; null (JSON) removes. Checked by accounts.uploads.
    photo = serializers.FileField(
        required=False, allow_null=True, allow_empty_file=True, use_url=False
    )
    licenseDocument = serializers.FileField(
        required=False, allow_null=True, allow_empty_file=True, use_url=False
    )
    licenseAuthority = serializers.CharField(required=False, allow_blank=True, max_length=200)
    licenseExpiresOn = DayField(
        required=False, allow_null=True, validators=LICENCE_EXPIRY_VALIDATORS
    )
    # Why a doctor is verified or revoked: kept in their verification history.
    verificationReason = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "verificationReason" in attrs and not {"isVerified", "isverified"} & set(attrs):
            raise serializers.ValidationError(
                {"verificationReason": ["Send it with isVerified: it is the reason for that."]}
            )
        alias = attrs.pop("isverified", None)
        if alias is not None and "isVerified" not in attrs:
            attrs["isVerified"] = alias
        return attrs


class EmailPasswordSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class EmailSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class VerifyEmailSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200, trim_whitespace=False)
    # The password chosen at sign-up: with it the link confirms the account as it is;
    # without it the mailbox's owner takes the account over (the password is cleared).
    password = serializers.CharField(
        required=False, write_only=True, trim_whitespace=False, max_length=128
    )


class ResetPairSerializer(serializers.Serializer):
    uid = serializers.CharField()
    token = serializers.CharField()


class VerifiedEmailSerializer(serializers.Serializer):
    email = serializers.EmailField()
    emailVerified = serializers.BooleanField()
    passwordCleared = serializers.BooleanField()
    setPassword = ResetPairSerializer(
        required=False, help_text="Only when the password was cleared: for password-reset/confirm."
    )


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=200)
    token = serializers.CharField(max_length=200)
    password = serializers.CharField(trim_whitespace=False, max_length=128)


class RefreshSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class TokenPairSerializer(serializers.Serializer):
    accessToken = serializers.CharField()
    refreshToken = serializers.CharField()
