"""Users and sign-in endpoints: parse → service/selector → serialize, nothing else."""

from functools import partial

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import (
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated

from accounts import lockout, selectors, services, tokens
from accounts.firebase import bearer_token, verify_id_token
from accounts.mails import site_of
from accounts.models import Role
from accounts.permissions import IsAdmin
from accounts.serializers import (
    EmailPasswordSerializer,
    EmailSerializer,
    PasswordResetConfirmSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserSerializer,
    UserUpdateSerializer,
    VerifiedEmailSerializer,
    VerifyEmailSerializer,
    user_out,
)
from accounts.throttles import AuthRateThrottle, ProfileRateThrottle
from accounts.uploads import content_type_of
from doctors_portal.api.pagination import PageLimitPagination
from doctors_portal.api.requests import require_json_object
from doctors_portal.api.responses import created, ok
from doctors_portal.errors import Unauthenticated

ROLE_AS_REFERENCE_CLIENT_READS_IT = {
    Role.PATIENT: "Patient",
    Role.DOCTOR: "Doctor",
    Role.ADMIN: "admin",
}

EMAIL_PARAM = OpenApiParameter("email", OpenApiTypes.EMAIL, required=True)


def export_disposition(user) -> str:
    return f'attachment; filename="doctors-portal-user-{user.pk}.json"'


def user_doc(user, *, viewer) -> dict:
    """The user object; for admins and the doctor themself also a doctor's verification
    history, and whether patients can book them and why not (the doctor is told)."""
    data = user_out(user)
    if user.role == Role.DOCTOR and (viewer.is_admin or viewer.pk == user.pk):
        data["verificationHistory"] = selectors.verification_history(doctor=user)
        data.update(selectors.doctor_bookability(doctor=user))
    return data


def stored_file_response(name: str, *, disposition: str) -> FileResponse:
    """A file of the default storage, streamed to a caller already allowed to see it;
    never cached by a shared cache, never sniffed as another type."""
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise NotFound("The file is gone.") from None
    response = FileResponse(
        handle,
        content_type=content_type_of(name),
        as_attachment=disposition == "attachment",
        filename=name.rsplit("/", 1)[-1],
    )
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=require_json_object(data), **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _id_from(kwargs, request) -> str:
    raw = kwargs.get("pk") or request.query_params.get("id")
    if not raw:
        raise ValidationError({"id": ["Give the user id in the path or as ?id=."]})
    return raw


class UserViewSet(viewsets.GenericViewSet):
    serializer_class = UserSerializer
    pagination_class = PageLimitPagination

    def _action(self) -> str | None:
        # Authenticators are chosen before DRF sets self.action, so look it up here.
        if getattr(self, "action", None) is not None:  # schema generation sets it early
            return self.action
        request = getattr(self, "request", None)
        return self.action_map.get(request.method.lower()) if request is not None else None

    def get_authenticators(self):
        action = self._action()
        if action == "create":
            # The bearer token here is a Firebase ID token, never ours.
            return []
        if action in ("photo", "licence_document"):
            # Also opened from pages and the admin (a signed-in session), as <img> or a link;
            # read-only GETs, so the session's CSRF rules are not needed.
            return [*super().get_authenticators(), SessionAuthentication()]
        return super().get_authenticators()

    def get_permissions(self):
        action = self._action()
        if action in ("create", "photo"):
            # A doctor's photo is public like their name; the selector decides the rest.
            return [AllowAny()]
        if action == "list":
            return [IsAuthenticated(), IsAdmin()]
        return [IsAuthenticated()]

    def get_throttles(self):
        throttle = {"create": AuthRateThrottle, "partial_update": ProfileRateThrottle}.get(
            self._action()
        )
        return [throttle()] if throttle else super().get_throttles()

    @extend_schema(
        summary="List users (admin)",
        parameters=[
            # Empty means every role, as the reference client may send it.
            OpenApiParameter("userType", str, enum=[*Role.values, ""]),
            OpenApiParameter("searchTerm", str),
            OpenApiParameter(
                "verification",
                str,
                enum=list(selectors.VERIFICATION_STATES),
                description="Doctors awaiting verification (pending) or verified.",
            ),
            OpenApiParameter(
                "ordering",
                str,
                enum=[f"{d}{name}" for name in selectors.ORDERINGS for d in ("", "-")],
            ),
        ],
    )
    def list(self, request):
        params = request.query_params
        rows = self.paginator.paginate_rows(
            request,
            partial(
                selectors.user_page,
                user_type=params.get("userType"),
                search_term=params.get("searchTerm"),
                ordering=params.get("ordering"),
                verification=params.get("verification"),
            ),
        )
        return self.paginator.get_paginated_response(
            [user_out(row) for row in rows], message="Users retrieved successfully"
        )

    @extend_schema(summary="Register a patient or doctor", request=RegisterSerializer)
    def create(self, request):
        data = _valid(RegisterSerializer, request.data)
        token = bearer_token(request)
        with lockout.counting_failed_proofs(request, email=data["email"]):
            identity = verify_id_token(token) if token else None
            user = services.user_register(
                name=data["name"],
                email=data["email"],
                role=data["role"],
                password=data.get("password") or None,
                firebase_identity=identity,
                image=data.get("image", ""),
                phone=data.get("phone", ""),
                specialty=data.get("specialty"),
                license_number=data.get("licenseNumber", ""),
                bio=data.get("bio", ""),
                site=site_of(request),
            )
        return created(user_out(user), message="Users created successfully")

    @extend_schema(summary="One user (admin, self)")
    def retrieve(self, request, pk=None):
        user = selectors.user_get_for(viewer=request.user, id=pk)
        return ok(user_doc(user, viewer=request.user), message="User retrieved successfully")

    @extend_schema(summary="One user by email (admin, self)", parameters=[EMAIL_PARAM])
    def by_email(self, request):
        email = request.query_params.get("email") or request.query_params.get("userEmail")
        user = selectors.user_get_for(viewer=request.user, email=email)
        return ok(user_doc(user, viewer=request.user), message="User retrieved successfully")

    @extend_schema(
        summary="A user's role, spelled as the reference client reads it",
        parameters=[EMAIL_PARAM],
        responses={200: OpenApiTypes.STR},
    )
    def role(self, request):
        user = selectors.user_get_for(viewer=request.user, email=request.query_params.get("email"))
        return ok(
            ROLE_AS_REFERENCE_CLIENT_READS_IT[user.role],
            message="User role retrieved successfully",
            role=user.role,
            isAdmin=user.is_admin,
        )

    def get_parsers(self):
        if self._action() == "partial_update":
            # A photo or licence document comes as multipart/form-data; JSON as before.
            return [*super().get_parsers(), MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        summary="Update a user (self: profile; admin: also role, isVerified)",
        description=(
            "JSON, or multipart/form-data to upload `photo` (JPEG, PNG or WebP; resized and "
            "re-encoded) or `licenseDocument` (PDF, JPEG or PNG), each at most 5 MB and "
            "checked by content. A doctor changing their licence while verified goes back "
            "to awaiting verification."
        ),
        request={
            "application/json": UserUpdateSerializer,
            "multipart/form-data": UserUpdateSerializer,
        },
    )
    def partial_update(self, request, pk=None):
        user = selectors.user_get_for(viewer=request.user, id=_id_from(self.kwargs, request))
        require_json_object(request.data)
        self._refuse_forbidden_fields(request)
        data = _valid(UserUpdateSerializer, request.data, partial=True)
        field_names = {
            "name": "name",
            "phone": "phone",
            "image": "image",
            "specialty": "specialty",
            "licenseNumber": "license_number",
            "bio": "bio",
            "role": "role",
            "isVerified": "is_verified",
            "verificationReason": "verification_reason",
        }
        field_names.update(
            photo="photo",
            licenseAuthority="license_authority",
            licenseExpiresOn="license_expires_on",
            licenseDocument="license_document",
        )
        changes = {field_names[key]: value for key, value in data.items()}
        user = services.user_update(actor=request.user, user=user, **changes)
        user = selectors.user_get_for(viewer=request.user, id=user.pk)
        return ok(user_doc(user, viewer=request.user), message="User updated successfully")

    def _refuse_forbidden_fields(self, request) -> None:
        keys = set(request.data)
        allowed = set(UserUpdateSerializer().fields)
        if not request.user.is_admin:
            restricted = {*UserUpdateSerializer.ADMIN_ONLY, *UserUpdateSerializer.NEVER}
            forbidden = sorted(keys & restricted)
            if forbidden:
                raise PermissionDenied(
                    f"You may not change {', '.join(forbidden)}; only your own profile fields."
                )
        never = sorted(keys & set(UserUpdateSerializer.NEVER))
        if never:
            raise ValidationError({never[0]: ["This field cannot be changed."]})
        unknown = sorted(keys - allowed)
        if unknown:
            raise ValidationError({key: ["Unknown field."] for key in unknown})
        if not keys:
            # The reference client sent an empty PATCH to verify a doctor: say what to send.
            raise ValidationError(
                {"": ['Nothing to update: send the fields to change, e.g. {"isVerified": true}.']}
            )

    @extend_schema(
        summary="A user's uploaded photo (a doctor's: anyone; others': self, admin)",
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY},
    )
    def photo(self, request, pk=None):
        user = selectors.user_photo_for(viewer=request.user, id=pk)
        return stored_file_response(user.photo.name, disposition="inline")

    @extend_schema(
        summary="A doctor's licence document (the doctor, admins)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def licence_document(self, request, pk=None):
        profile = selectors.licence_document_for(viewer=request.user, id=pk)
        return stored_file_response(profile.license_document.name, disposition="attachment")

    @extend_schema(
        summary="Everything held about a user, as one JSON document (admin, self)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def export(self, request, pk=None):
        user = selectors.user_get_for(viewer=request.user, id=pk)
        return ok(
            selectors.user_export(user=user),
            message="User data exported successfully",
            headers={"Content-Disposition": export_disposition(user)},
        )

    @extend_schema(
        summary="Erase a user (admin, self): anonymise, cancel and refund future bookings"
    )
    def destroy(self, request, pk=None):
        user = selectors.user_get_for(viewer=request.user, id=_id_from(self.kwargs, request))
        as_it_was = user_out(user)
        erasure = services.user_erase(actor=request.user, user=user)
        return ok(
            {
                **as_it_was,
                "deletedCount": 1,
                "bookingsCancelled": erasure.counts.get("bookingsCancelled", 0),
                "slotsWithdrawn": erasure.counts.get("slotsWithdrawn", 0),
            },
            message="User deleted successfully",
            deletedCount=1,
        )


ID_PARAM = OpenApiParameter("id", int, required=True)


@extend_schema_view(
    partial_update=extend_schema(
        operation_id="users_partial_update_by_query", parameters=[ID_PARAM]
    ),
    destroy=extend_schema(operation_id="users_destroy_by_query", parameters=[ID_PARAM]),
)
class UserCollectionViewSet(UserViewSet):
    """`users?id=`: the reference's spelling of users/:id, onto the same actions."""


class AuthViewSet(viewsets.ViewSet):
    """Token endpoints. None reads our JWT: the credential is in the request itself."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthRateThrottle]

    @staticmethod
    def _pair(pair: dict, message: str):
        return ok(pair, message=message, **pair)

    @extend_schema(
        summary="Exchange a Firebase ID token (Authorization header) for our tokens",
        parameters=[EMAIL_PARAM],
        responses=TokenPairSerializer,
    )
    def firebase(self, request):
        email = request.query_params.get("email")
        if not email:
            raise ValidationError({"email": ["This query parameter is required."]})
        token = bearer_token(request)
        if not token:
            raise NotAuthenticated("Send your Firebase ID token as Authorization: Bearer <token>.")
        with lockout.counting_failed_proofs(request, email=email):
            identity = verify_id_token(token)
            pair = services.token_obtain_with_firebase(
                identity=identity, email=email, site=site_of(request)
            )
        return self._pair(pair, "Token created successfully")

    @extend_schema(
        summary="Sign in with email and password",
        request=EmailPasswordSerializer,
        responses=TokenPairSerializer,
    )
    def password(self, request):
        data = _valid(EmailPasswordSerializer, request.data)
        # django-axes counts this through authenticate(), which needs Django's request.
        pair = services.token_obtain_with_password(
            request=request._request, email=data["email"], password=data["password"]
        )
        return self._pair(pair, "Token created successfully")

    @extend_schema(
        summary="New token pair; the old refresh token is blacklisted",
        request=RefreshSerializer,
        responses=TokenPairSerializer,
    )
    def refresh(self, request):
        data = _valid(RefreshSerializer, request.data)
        return self._pair(services.token_refresh(refresh=data["refresh"]), "Token refreshed")

    @extend_schema(summary="Blacklist a refresh token", request=RefreshSerializer, responses=None)
    def logout(self, request):
        data = _valid(RefreshSerializer, request.data)
        services.token_blacklist(refresh=data["refresh"])
        return ok(None, message="Logged out")

    @extend_schema(
        summary="Prove the email address with the mailed link",
        description=(
            "With the password chosen at sign-up the account is confirmed as it is. Without "
            "it, whoever reads the mailbox takes the account over: the password is cleared, "
            "every sign-in ends, and `setPassword` is the pair for password-reset/confirm."
        ),
        request=VerifyEmailSerializer,
        responses=VerifiedEmailSerializer,
    )
    def verify_email(self, request):
        data = _valid(VerifyEmailSerializer, request.data)
        failures = (services.BadLink, Unauthenticated)
        with lockout.counting_failed_proofs(request, email=None, failures=failures):
            user, cleared = services.email_verify(
                token=data["token"], password=data.get("password"), site=site_of(request)
            )
        body = {"email": user.email, "emailVerified": True, "passwordCleared": cleared}
        if cleared:
            body["setPassword"] = tokens.reset_pair(user)
        return ok(body, message="Email verified")

    @extend_schema(
        summary="Mail a new verification link (the same answer whether or not it exists)",
        request=EmailSerializer,
        responses=None,
    )
    def verify_email_resend(self, request):
        data = _valid(EmailSerializer, request.data)
        lockout.refuse_if_locked(request, email=None)
        services.email_verification_resend(email=data["email"], site=site_of(request))
        return ok(None, message="If an unverified account has this email, a new link is on its way")

    @extend_schema(
        summary="Mail a password reset link (the same answer whether or not it exists)",
        request=EmailSerializer,
        responses=None,
    )
    def password_reset(self, request):
        data = _valid(EmailSerializer, request.data)
        # The address alone: a lockout of the account (by a stranger's guesses) must not
        # also shut its owner's way back in.
        lockout.refuse_if_locked(request, email=None)
        services.password_reset_request(email=data["email"], site=site_of(request))
        return ok(None, message="If an account has this email, a reset link is on its way")

    @extend_schema(
        summary="Set a new password with the mailed reset link; every refresh token is revoked",
        request=PasswordResetConfirmSerializer,
        responses=None,
    )
    def password_reset_confirm(self, request):
        data = _valid(PasswordResetConfirmSerializer, request.data)
        with lockout.counting_failed_proofs(request, email=None, failures=(services.BadLink,)):
            services.password_reset_confirm(
                uid=data["uid"], token=data["token"], password=data["password"]
            )
        return ok(None, message="Password changed; sign in with the new one")
