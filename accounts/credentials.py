"""Whether a doctor can be booked: the one definition (API.md "Doctor credentials").

A doctor is bookable when their account is active, they are a doctor, an administrator
verified them, and their licence has not expired. A licence is valid through the day
of `license_expires_on` in the clinic's calendar and expired from the next midnight
there; None means no expiry was recorded. Nothing is written when a licence expires:
every read and every booking compares the date with today, so no job is needed.

The rule is written twice here, side by side and nowhere else: once as a filter the
database applies (`bookable_doctor_q`), once for rows already loaded
(`doctor_bookable`). tests/accounts/test_credentials.py proves they agree.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role


def _clinic_tz() -> ZoneInfo:
    return ZoneInfo(settings.CLINIC_TIME_ZONE)


def clinic_today(now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(_clinic_tz()).date()


def licence_expired(expires_on: date | None, *, today: date) -> bool:
    return expires_on is not None and expires_on < today


def licence_expires_at(expires_on: date) -> datetime:
    """The instant the licence stops being valid: the clinic's midnight after the date."""
    return datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=_clinic_tz())


def bookable_doctor_q(*, today: date, prefix: str = "") -> Q:
    """Users (prefix "" ) or rows reaching one (prefix "doctor__") that can be booked."""
    licence = f"{prefix}doctor_profile__license_expires_on"
    return Q(
        **{
            f"{prefix}is_active": True,
            f"{prefix}role": Role.DOCTOR,
            f"{prefix}doctor_profile__is_verified": True,
        }
    ) & (Q(**{f"{licence}__isnull": True}) | Q(**{f"{licence}__gte": today}))


def doctor_bookable(
    *, active: bool, role: str, verified: bool, expires_on: date | None, today: date
) -> bool:
    """bookable_doctor_q for values already loaded."""
    return bool(
        active and role == Role.DOCTOR and verified and not licence_expired(expires_on, today=today)
    )


def user_bookable(user, *, today: date) -> bool:
    profile = getattr(user, "doctor_profile", None) if user.role == Role.DOCTOR else None
    return doctor_bookable(
        active=user.is_active,
        role=user.role,
        verified=bool(profile and profile.is_verified),
        expires_on=profile.license_expires_on if profile else None,
        today=today,
    )


def not_bookable_reasons(
    *, verified: bool, expires_on: date | None, today: date
) -> list[dict[str, str]]:
    """Why patients cannot book this doctor, for the doctor: `[{code, message}]`."""
    reasons = []
    if not verified:
        reasons.append(
            {
                "code": "unverified",
                "message": "An administrator has not verified your licence yet. Patients "
                "cannot book you until they do.",
            }
        )
    if licence_expired(expires_on, today=today):
        reasons.append(
            {
                "code": "licence_expired",
                "message": f"Your licence expired on {expires_on.isoformat()}. Patients "
                "cannot book your slots until you enter the renewed licence and an "
                "administrator verifies it.",
            }
        )
    return reasons
