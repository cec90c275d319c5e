"""Reads of accounts, already scoped to what the caller may see."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet

from accounts.credentials import clinic_today
from accounts.models import Role, User
from doctors_portal.db.compiled import CompiledQuery, Page
from doctors_portal.db.text import folded_contains
from doctors_portal.errors import DomainError, NotFound
from doctors_portal.ids import MAX_ID, is_id_text

# Client-facing ordering names → model fields.
ORDERINGS = {
    "createdAt": "created_at",
    "name": "name",
    "email": "email",
    "role": "role",
}


# What the user object of the API is built from (accounts.serializers.user_out): list
# reads fetch these as `.values()` rows instead of three model instances per user.
USER_VALUES = (
    "id",
    "name",
    "email",
    "role",
    "image",
    "photo",
    "phone",
    "created_at",
    "is_active",
    "email_verified",
    "doctor_profile__id",
    "doctor_profile__specialty_id",
    "doctor_profile__specialty__name",
    "doctor_profile__license_number",
    "doctor_profile__license_authority",
    "doctor_profile__license_expires_on",
    "doctor_profile__license_document",
    "doctor_profile__bio",
    "doctor_profile__is_verified",
    "doctor_profile__verified_by_id",
    "doctor_profile__verified_by__name",
    "doctor_profile__verified_at",
)


def _base() -> QuerySet[User]:
    return User.objects.select_related("doctor_profile__specialty")


def user_list(
    *,
    user_type: str | None = None,
    search_term: str | None = None,
    ordering: str | None = None,
    verification: str | None = None,
    include_deleted: bool = False,
) -> QuerySet[User]:
    return _users(
        **user_list_filters(
            user_type=user_type,
            search_term=search_term,
            ordering=ordering,
            verification=verification,
        ),
        today=clinic_today(),
        include_deleted=include_deleted,
    )


def user_page(
    *,
    user_type: str | None = None,
    search_term: str | None = None,
    ordering: str | None = None,
    verification: str | None = None,
    limit: int,
    offset: int = 0,
) -> Page:
    """One page of user_list as USER_VALUES dicts, and the total."""
    filters = user_list_filters(
        user_type=user_type,
        search_term=search_term,
        ordering=ordering,
        verification=verification,
    )
    return _USER_ROWS.page(limit=limit, offset=offset, today=clinic_today(), **filters)


# ?verification= (and the admin's verification filter): live doctors awaiting an
# administrator's check, verified ones, or those whose licence has expired (verified or
# not: the admin's to-do list of licences to chase).
VERIFICATION_STATES = ("pending", "verified", "expired")


def verification_state_q(*, state: str, today: date) -> Q:
    """Live doctors in one of VERIFICATION_STATES on the clinic's `today`."""
    live_doctors = Q(role=Role.DOCTOR, is_active=True)
    if state == "expired":
        return live_doctors & Q(doctor_profile__license_expires_on__lt=today)
    return live_doctors & Q(doctor_profile__is_verified=state == "verified")


def user_list_filters(
    *,
    user_type: str | None,
    search_term: str | None = None,
    ordering: str | None,
    verification: str | None = None,
) -> dict:
    """The role, search and order the client asked for, checked: _users's arguments."""
    role = None
    if user_type:
        by_lower = {role.lower(): role for role in Role.values}
        role = by_lower.get(user_type.strip().lower())
        if role is None:
            raise DomainError(errors={"userType": [f"Must be one of {', '.join(Role.values)}."]})
    order = None
    if ordering is not None:
        field = ORDERINGS.get(ordering[1:] if ordering.startswith("-") else ordering)
        if field is None:
            raise DomainError(errors={"ordering": [f"Must be one of {', '.join(ORDERINGS)}."]})
        direction = "-" if ordering.startswith("-") else ""
        order = (f"{direction}{field}", f"{direction}id")
    term = (search_term or "").strip()
    state = (verification or "").strip().lower() or None
    if state is not None:
        if state not in VERIFICATION_STATES:
            raise DomainError(
                errors={"verification": [f"Must be one of {', '.join(VERIFICATION_STATES)}."]}
            )
        # Only doctors are verified: with another userType the list is empty (a filter
        # that matches nobody, not an error).
        role = role or Role.DOCTOR
    return {
        "role": role,
        "order": order,
        "search": term,
        "searching": bool(term),
        "verification": state,
    }


def _users(
    *,
    role: str | None,
    order: tuple[str, str] | None,
    search: str,
    searching: bool,
    today: date,
    verification: str | None = None,
    include_deleted: bool = False,
) -> QuerySet[User]:
    users = _base()
    if verification is not None:
        users = users.filter(verification_state_q(state=verification, today=today))
    if not include_deleted:
        users = users.filter(deleted_at__isnull=True)
    if role:
        users = users.filter(role=role)
    if searching:
        # The term reaches the SQL as one bound value (the database folds and escapes it).
        users = users.filter(folded_contains("name", "email", "role", term=search))
    if order:
        users = users.order_by(*order)
    return users


# The admin's user list as USER_VALUES dicts. The search term is bound at run time; the
# role, the order and whether there is a term are constants (a few compiled variants).
_USER_ROWS = CompiledQuery(_users, USER_VALUES, search=str, today=date)


def user_get_for(*, viewer: User, id: int | str | None = None, email: str | None = None) -> User:
    """One user, or 404 for anyone the viewer may not see (admins see all, others only self)."""
    if id is not None:
        text = str(id)
        if not is_id_text(text) or int(text) > MAX_ID:  # int() also reads "٣" as 3
            raise NotFound("No user with this id.")
        lookup = Q(pk=int(text))
    elif email:
        lookup = Q(email__iexact=email.strip())
    else:
        raise DomainError(errors={"email": ["This query parameter is required."]})
    users = _base().filter(lookup)
    if not viewer.is_admin:
        users = users.filter(pk=viewer.pk)
    user = users.first()
    if user is None:
        raise NotFound("No user with this id." if id is not None else "No user with this email.")
    return user


def erasure_preview(*, users: list[User], now=None) -> list[dict]:
    """What erasing each user will do, for the confirmations (admin action, own page)."""
    from django.utils import timezone

    from accounts import lifecycle

    now = now or timezone.now()
    previews = []
    for user in users:
        preview = {"user": user}
        for part in lifecycle.ERASURE_PREVIEWS:
            preview.update(part(user=user, now=now))
        previews.append(preview)
    return previews


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def user_export(*, user: User) -> dict:
    """Everything held about `user` (API.md "Account lifecycle"), as one JSON document:
    the profile here, the other apps' sections from accounts.lifecycle."""
    from django.utils import timezone

    from accounts import lifecycle
    from accounts.serializers import user_out

    document = {
        "exportedAt": _iso(timezone.now()),
        "profile": user_out(user),
        "bookings": [],
        "payments": [],
        "refunds": [],
        "waitlist": [],  # no waitlist exists yet; the key keeps the document's shape
        "verificationHistory": verification_history(doctor=user),
    }
    for sections in lifecycle.EXPORT_SECTIONS:
        document.update(sections(user=user))
    return document


def verification_history(*, doctor: User) -> list[dict]:
    """Every verification and revocation of a doctor, oldest first (kept forever)."""
    from accounts.models import VerificationEvent

    events = VerificationEvent.objects.filter(doctor=doctor).select_related("by")
    return [
        {
            "verified": event.verified,
            "by": {"id": event.by.pk, "name": event.by.name} if event.by else None,
            "at": _iso(event.at),
            "reason": event.reason,
        }
        for event in events
    ]


def _id_lookup(id) -> int:
    try:
        return int(id)
    except (TypeError, ValueError):
        raise NotFound("No user with this id.") from None


def user_photo_for(*, viewer, id) -> User:
    """A user with an uploaded photo the viewer may see: a live doctor's (shown beside
    their name everywhere), or anyone's to themself and admins. Else 404."""
    from accounts.models import is_admin

    pk = _id_lookup(id)
    users = User.objects.filter(pk=pk).exclude(photo="")
    if not (is_admin(viewer) or (viewer.is_authenticated and viewer.pk == pk)):
        users = users.filter(role=Role.DOCTOR, is_active=True, deleted_at__isnull=True)
    user = users.only("id", "photo").first()
    if user is None:
        raise NotFound("No photo for this user.")
    return user


def licence_document_for(*, viewer, id):
    """A doctor's licence document, for the doctor themself and admins only (404 else)."""
    from accounts.models import DoctorProfile, is_admin

    pk = _id_lookup(id)
    if not (is_admin(viewer) or (viewer.is_authenticated and viewer.pk == pk)):
        raise NotFound("No licence document for this user.")
    profile = (
        DoctorProfile.objects.filter(user_id=pk, user__role=Role.DOCTOR)
        .exclude(license_document="")
        .only("id", "license_document")
        .first()
    )
    if profile is None:
        raise NotFound("No licence document for this user.")
    return profile


def doctor_bookability(*, doctor: User, now=None) -> dict:
    """`{bookable, notBookableReasons}` of a doctor (accounts.credentials), for the doctor
    themself (their dashboard, their user object) and admins."""
    from accounts import credentials

    today = credentials.clinic_today(now)
    profile = getattr(doctor, "doctor_profile", None)
    verified = bool(profile and profile.is_verified)
    expires_on = profile.license_expires_on if profile else None
    return {
        "bookable": credentials.user_bookable(doctor, today=today),
        "notBookableReasons": credentials.not_bookable_reasons(
            verified=verified, expires_on=expires_on, today=today
        )
        + (
            []
            if doctor.is_active
            else [{"code": "inactive", "message": "This account is deactivated."}]
        ),
    }
