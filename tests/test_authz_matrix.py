"""Authorization matrix: every route of the URL conf, every kind of caller, one expected status.

The routes are found by walking `get_resolver().url_patterns`, so a route added
later without a row here fails `test_every_route_has_a_row`. Each row names a
request (path, method, body) built against a small world in which the patient
owns a booking with the doctor, and the status each caller must get:

    anon, patient, other patient, doctor, other doctor, unverified doctor, admin

API routes are called with our access token; pages and the Django admin with a
signed-in session, as a browser would. A record the caller may not see is a
404, not a 403 (ARCHITECTURE invariant 8).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import (
    TEST_PASSWORD,
    AdminFactory,
    BookingFactory,
    DoctorFactory,
    PatientFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db

ACTORS = (
    "anon",
    "patient",
    "other_patient",
    "doctor",
    "other_doctor",
    "unverified_doctor",
    "admin",
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


# ---------------------------------------------------------------- the URL conf


def _view_methods(callback) -> tuple[str, ...] | None:
    """The methods a view answers, when the view says so (DRF viewsets and class views)."""
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds "head" to a viewset's actions on its first GET; HEAD is GET without a body.
        return tuple(sorted(method.upper() for method in actions if method != "head"))
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None and not getattr(cls, "_is_admin_view", False):
        names = getattr(callback, "initkwargs", {}).get("http_method_names") or [
            m for m in cls.http_method_names if hasattr(cls, m)
        ]
        return tuple(sorted(m.upper() for m in names if m.upper() in METHODS))
    return None


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    """(route, name, callback) for every URL pattern, route being the joined pattern text."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace or ""
            joined = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), joined)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name or "", pattern.callback


def route_keys() -> set[tuple[str, str]]:
    """(route, METHOD) for every API route and page; the admin is covered by its own rule."""
    keys = set()
    for route, _name, callback in walk():
        if route.startswith("admin/"):
            continue
        methods = _view_methods(callback)
        if methods is None:
            # A plain function view: its rows say which methods it answers.
            keys.add((route, "*"))
        else:
            keys |= {(route, method) for method in methods}
    return keys


# ---------------------------------------------------------------- the world


@dataclass
class World:
    users: dict
    service: object
    slot: object  # the doctor's slot the patient booked
    free_slot: object  # another of the doctor's slots, nobody booked
    booking: object  # the patient's booking with the doctor

    def __getattr__(self, name):
        try:
            return self.__dict__["users"][name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def world(db) -> World:
    return make_world()


def make_world() -> World:
    service = ServiceFactory(name="Matrix Check-up", price=Decimal("40.00"))
    users = {
        "patient": PatientFactory(),
        "other_patient": PatientFactory(),
        "doctor": DoctorFactory(profile__specialty=service),
        "other_doctor": DoctorFactory(profile__specialty=service),
        "unverified_doctor": DoctorFactory(profile__verified=False),
        "admin": AdminFactory(),
    }
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    slot = SlotFactory(
        doctor=users["doctor"], service=service, start=start, end=start + timedelta(hours=1)
    )
    free_slot = SlotFactory(
        doctor=users["doctor"],
        service=service,
        start=start + timedelta(hours=2),
        end=start + timedelta(hours=3),
        capacity=3,
    )
    booking = BookingFactory(patient=users["patient"], slot=slot)
    type(slot).objects.filter(pk=slot.pk).update(seats_taken=1)
    return World(users, service, slot, free_slot, booking)


def refresh_of(user) -> str:
    return str(RefreshToken.for_user(user))


def verification_token_of(user) -> str:
    from accounts.tokens import verification_link_token

    return verification_link_token(user)


def calendar_feed_token_of(user) -> str:
    from calendars.services import calendar_feed_rotate

    return calendar_feed_rotate(user=user)


def waitlist_entry_of(world: World, actor: str) -> int:
    """`actor` in line for the world's full slot."""
    from bookings.models import WaitlistEntry
    from scheduling import timefmt

    return WaitlistEntry.objects.create(
        patient=world.users[actor],
        slot=world.slot,
        doctor=world.doctor,
        day=timefmt.clinic_today(world.slot.start),
    ).pk


def reset_pair_of(user) -> dict:
    from accounts.tokens import reset_pair

    return reset_pair(user)


def api_client(world: World, actor: str) -> APIClient:
    client = APIClient()
    if actor != "anon":
        token = RefreshToken.for_user(world.users[actor]).access_token
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def session_client(world: World, actor: str) -> Client:
    client = Client()
    if actor != "anon":
        client.force_login(world.users[actor])
    return client


# ---------------------------------------------------------------- the rows


def E(anon, patient, other_patient, doctor, other_doctor, unverified_doctor, admin):
    return dict(zip(ACTORS, (anon, patient, other_patient, doctor, other_doctor,
                             unverified_doctor, admin), strict=True))  # fmt: skip


ALL = {actor: None for actor in ACTORS}


def same(status: int) -> dict:
    return dict.fromkeys(ACTORS, status)


@dataclass
class Row:
    path: Callable[[World], str]
    expected: dict
    method: str = "GET"
    body: Callable[[World], dict] | None = None
    page: bool = False  # a page (session) rather than the API (bearer token)
    needs: tuple[str, ...] = ()  # fixtures the request needs (real Stripe, Firebase)


def _future_day(days: int = 5) -> str:
    from scheduling import timefmt

    return (timefmt.clinic_today(timezone.now()) + timedelta(days=days)).isoformat()


def _with_photo(user):
    from django.core.files.base import ContentFile

    if not user.photo:
        user.photo.save("p.jpg", ContentFile(b"\xff\xd8\xff\xe0 stored"), save=True)
    return user


def _with_licence_document(doctor):
    from django.core.files.base import ContentFile

    profile = doctor.doctor_profile
    if not profile.license_document:
        profile.license_document.save("l.pdf", ContentFile(b"%PDF-1.4\n%%EOF"), save=True)
    return doctor


def _rule_of(w):
    """Weekly hours of the world's doctor, beyond the world's own slots."""
    from datetime import date, time

    from scheduling.models import WeeklyRule

    return WeeklyRule.objects.create(
        doctor=w.doctor,
        service=w.service,
        weekdays="sun",
        start_time=time(6),
        end_time=time(7),
        slot_minutes=30,
        valid_from=date.fromisoformat(_future_day(20)),
    )


def _time_off_of(w):
    from scheduling.models import TimeOff

    start = timezone.now() + timedelta(days=30)
    return TimeOff.objects.create(doctor=w.doctor, start=start, end=start + timedelta(hours=5))


API = "api/v1/"
ONLY_ADMIN = E(401, 403, 403, 403, 403, 403, 200)
SELF_OR_ADMIN = E(401, 200, 404, 404, 404, 404, 200)

MATRIX: dict[tuple[str, str], Row] = {
    # Service routes.
    (API + "^schema/?$", "GET"): Row(lambda w: "/api/v1/schema", same(200)),
    (API + "^docs/?$", "GET"): Row(lambda w: "/api/v1/docs", same(200)),
    (API + "^health/?$", "GET"): Row(lambda w: "/api/v1/health", same(200)),
    # Identity and users.
    (API + "^users/?$", "GET"): Row(lambda w: "/api/v1/users?userType=Doctor", ONLY_ADMIN),
    (API + "^users/?$", "POST"): Row(
        lambda w: "/api/v1/users",
        # A bearer token on sign-up must be a Firebase ID token; ours is refused.
        E(201, 401, 401, 401, 401, 401, 401),
        method="POST",
        body=lambda w: {
            "name": "New Person",
            "email": "new.person@example.com",
            "role": "Patient",
            "password": "a-long-enough-password-1",
        },
        needs=("firebase_emulator",),
    ),
    (API + "^users/?$", "PATCH"): Row(
        lambda w: f"/api/v1/users?id={w.patient.pk}",
        SELF_OR_ADMIN,
        method="PATCH",
        body=lambda w: {"name": "Renamed"},
    ),
    (API + "^users/?$", "DELETE"): Row(
        lambda w: f"/api/v1/users?id={w.patient.pk}", SELF_OR_ADMIN, method="DELETE"
    ),
    (API + "^users/(?P<pk>[^/]+)/?$", "GET"): Row(
        lambda w: f"/api/v1/users/{w.patient.pk}", SELF_OR_ADMIN
    ),
    (API + "^users/(?P<pk>[^/]+)/?$", "PATCH"): Row(
        lambda w: f"/api/v1/users/{w.patient.pk}",
        SELF_OR_ADMIN,
        method="PATCH",
        body=lambda w: {"phone": "+8801711111111"},
    ),
    # Erasure: admin, and the user themself (API.md "Account lifecycle").
    (API + "^users/(?P<pk>[^/]+)/?$", "DELETE"): Row(
        lambda w: f"/api/v1/users/{w.patient.pk}", SELF_OR_ADMIN, method="DELETE"
    ),
    (API + "^users/(?P<pk>[^/]+)/export/?$", "GET"): Row(
        lambda w: f"/api/v1/users/{w.patient.pk}/export", SELF_OR_ADMIN
    ),
    # Uploaded files: a patient's photo for them and admins; a doctor's licence document
    # for the doctor and admins (never public; anonymous is asked to sign in).
    (API + "^users/(?P<pk>[^/]+)/photo/?$", "GET"): Row(
        lambda w: f"/api/v1/users/{_with_photo(w.patient).pk}/photo",
        E(404, 200, 404, 404, 404, 404, 200),
    ),
    (API + "^users/(?P<pk>[^/]+)/licence-document/?$", "GET"): Row(
        lambda w: f"/api/v1/users/{_with_licence_document(w.doctor).pk}/licence-document",
        E(401, 404, 404, 200, 404, 404, 200),
    ),
    (API + "^audit/?$", "GET"): Row(
        lambda w: f"/api/v1/audit?entity=user&id={w.patient.pk}", ONLY_ADMIN
    ),
    (API + "^user/?$", "GET"): Row(
        lambda w: f"/api/v1/user?email={w.patient.email}", SELF_OR_ADMIN
    ),
    (API + "^usersrole/?$", "GET"): Row(
        lambda w: f"/api/v1/usersrole?email={w.patient.email}", SELF_OR_ADMIN
    ),
    # Our access token is not a Firebase ID token: nobody gets a token pair with it.
    (API + "^jwt/?$", "GET"): Row(
        lambda w: f"/api/v1/jwt?email={w.patient.email}", same(401), needs=("firebase_emulator",)
    ),
    # The credentials are in the body: whoever holds them gets the pair.
    (API + "^auth/token/?$", "POST"): Row(
        lambda w: "/api/v1/auth/token",
        same(200),
        method="POST",
        body=lambda w: {"email": w.patient.email, "password": TEST_PASSWORD},
    ),
    (API + "^auth/token/refresh/?$", "POST"): Row(
        lambda w: "/api/v1/auth/token/refresh",
        same(200),
        method="POST",
        body=lambda w: {"refresh": refresh_of(w.patient)},
    ),
    (API + "^auth/logout/?$", "POST"): Row(
        lambda w: "/api/v1/auth/logout",
        same(200),
        method="POST",
        body=lambda w: {"refresh": refresh_of(w.patient)},
    ),
    # Proof by mail: the link (and, to keep the password, the password) is the credential.
    (API + "^auth/verify-email/?$", "POST"): Row(
        lambda w: "/api/v1/auth/verify-email",
        same(200),
        method="POST",
        body=lambda w: {"token": verification_token_of(w.patient), "password": TEST_PASSWORD},
    ),
    # The same answer whether or not the address has an account.
    (API + "^auth/verify-email/resend/?$", "POST"): Row(
        lambda w: "/api/v1/auth/verify-email/resend",
        same(200),
        method="POST",
        body=lambda w: {"email": w.patient.email},
    ),
    (API + "^auth/password-reset/?$", "POST"): Row(
        lambda w: "/api/v1/auth/password-reset",
        same(200),
        method="POST",
        body=lambda w: {"email": w.patient.email},
    ),
    (API + "^auth/password-reset/confirm/?$", "POST"): Row(
        lambda w: "/api/v1/auth/password-reset/confirm",
        same(200),
        method="POST",
        body=lambda w: {**reset_pair_of(w.patient), "password": "lantern-quarry-meadow-77"},
    ),
    # Services and slots.
    (API + "^appointmentSpecialty/?$", "GET"): Row(
        lambda w: "/api/v1/appointmentSpecialty", same(200)
    ),
    (API + "^appointmentOptions/?$", "GET"): Row(
        lambda w: f"/api/v1/appointmentOptions?date={_future_day(3)}", same(200)
    ),
    # The doctors directory: public; unverified doctors and non-doctors are 404 to everyone.
    (API + "^doctors/?$", "GET"): Row(
        lambda w: "/api/v1/doctors?specialty=Matrix Check-up", same(200)
    ),
    (API + "^doctors/(?P<pk>[^/]+)/?$", "GET"): Row(
        lambda w: f"/api/v1/doctors/{w.doctor.pk}", same(200)
    ),
    (API + "^slots/?$", "POST"): Row(
        lambda w: "/api/v1/slots",
        E(401, 403, 403, 201, 403, 403, 201),
        method="POST",
        body=lambda w: {
            "docEmail": w.doctor.email,
            "docSlot": [{"date": _future_day(6), "slot": ["10:00-11:00"]}],
        },
    ),
    (API + "^slots/?$", "PATCH"): Row(
        lambda w: "/api/v1/slots",
        E(401, 403, 403, 200, 404, 404, 200),
        method="PATCH",
        body=lambda w: {"id": w.free_slot.pk, "capacity": 4},
    ),
    (API + "^slot/?$", "PATCH"): Row(
        lambda w: "/api/v1/slot",
        E(401, 403, 403, 200, 404, 404, 200),
        method="PATCH",
        body=lambda w: {"id": w.free_slot.pk, "capacity": 4},
    ),
    (API + "^slot/(?P<email>[^/]+)/?$", "GET"): Row(
        lambda w: f"/api/v1/slot/{w.doctor.email}", same(200)
    ),
    # Weekly hours and time off.
    (API + "^schedules/?$", "GET"): Row(
        lambda w: f"/api/v1/schedules?docEmail={w.doctor.email}",
        E(401, 403, 403, 200, 403, 403, 200),
    ),
    (API + "^schedules/?$", "POST"): Row(
        lambda w: "/api/v1/schedules",
        E(401, 403, 403, 201, 403, 403, 201),
        method="POST",
        body=lambda w: {
            "docEmail": w.doctor.email,
            "weekdays": ["mon", "thu"],
            "start": "09:00",
            "end": "10:00",
            "slotMinutes": 30,
            "validFrom": _future_day(20),
        },
    ),
    (API + "^schedules/(?P<pk>[0-9]+)/?$", "PATCH"): Row(
        lambda w: f"/api/v1/schedules/{_rule_of(w).pk}",
        E(401, 403, 403, 200, 404, 404, 200),
        method="PATCH",
        body=lambda w: {"capacity": 2},
    ),
    (API + "^schedules/(?P<pk>[0-9]+)/?$", "DELETE"): Row(
        lambda w: f"/api/v1/schedules/{_rule_of(w).pk}",
        E(401, 403, 403, 200, 404, 404, 200),
        method="DELETE",
    ),
    (API + "^time-off/?$", "GET"): Row(
        lambda w: f"/api/v1/time-off?docEmail={w.doctor.email}",
        E(401, 403, 403, 200, 403, 403, 200),
    ),
    (API + "^time-off/?$", "POST"): Row(
        lambda w: "/api/v1/time-off",
        E(401, 403, 403, 201, 403, 403, 201),
        method="POST",
        body=lambda w: {
            "docEmail": w.doctor.email,
            "start": _future_day(20),
            "end": _future_day(21),
        },
    ),
    (API + "^time-off/(?P<pk>[0-9]+)/?$", "DELETE"): Row(
        lambda w: f"/api/v1/time-off/{_time_off_of(w).pk}",
        E(401, 403, 403, 200, 404, 404, 200),
        method="DELETE",
    ),
    # Bookings.
    # Asking for someone else's list is refused whether or not the email exists: no leak.
    (API + "^bookings/?$", "GET"): Row(
        lambda w: f"/api/v1/bookings?email={w.patient.email}", E(401, 200, 403, 403, 403, 403, 200)
    ),
    (API + "^bookings/?$", "POST"): Row(
        lambda w: "/api/v1/bookings",
        E(401, 201, 201, 403, 403, 403, 403),
        method="POST",
        body=lambda w: {"slotId": w.free_slot.pk},
    ),
    (API + "^bookings/(?P<pk>[^/]+)/cancel/?$", "POST"): Row(
        lambda w: f"/api/v1/bookings/{w.booking.pk}/cancel",
        E(401, 200, 404, 200, 404, 404, 200),
        method="POST",
        body=lambda w: {},
    ),
    # Reschedule: the world's booking moves to the doctor's free slot (same service).
    (API + "^bookings/(?P<pk>[^/]+)/reschedule/?$", "POST"): Row(
        lambda w: f"/api/v1/bookings/{w.booking.pk}/reschedule",
        E(401, 200, 404, 200, 404, 404, 200),
        method="POST",
        body=lambda w: {"slotId": w.free_slot.pk},
    ),
    # Attendance: only the doctor and admins; the world's booking has not started (409).
    (API + "^bookings/(?P<pk>[^/]+)/attendance/?$", "POST"): Row(
        lambda w: f"/api/v1/bookings/{w.booking.pk}/attendance",
        E(401, 403, 404, 409, 404, 404, 409),
        method="POST",
        body=lambda w: {"status": "completed"},
    ),
    # The world's slot is full (the patient's booking): others may queue, staff may not.
    (API + "^waitlist/?$", "POST"): Row(
        lambda w: "/api/v1/waitlist",
        E(401, 409, 201, 403, 403, 403, 403),
        method="POST",
        body=lambda w: {"slotId": w.slot.pk},
    ),
    (API + "^waitlist/?$", "GET"): Row(lambda w: "/api/v1/waitlist", E(401, *[200] * 6)),
    (API + "^waitlist/(?P<pk>[^/]+)/?$", "DELETE"): Row(
        lambda w: f"/api/v1/waitlist/{waitlist_entry_of(w, 'other_patient')}",
        E(401, 404, 200, 404, 404, 404, 404),
        method="DELETE",
    ),
    (API + "^bookings?/(?P<pk>[^/]+)/?$", "GET"): Row(
        lambda w: f"/api/v1/booking/{w.booking.pk}", E(401, 200, 404, 200, 404, 404, 200)
    ),
    (API + "^booking-doctor/?$", "GET"): Row(
        lambda w: f"/api/v1/booking-doctor?email={w.doctor.email}",
        E(401, 403, 403, 200, 403, 403, 200),
    ),
    # Payments.
    (API + "^create-payment-intent/?$", "POST"): Row(
        lambda w: "/api/v1/create-payment-intent",
        E(401, 200, 404, 403, 403, 403, 403),
        method="POST",
        body=lambda w: {"bookingId": w.booking.pk},
        needs=("stripe_settings",),
    ),
    # Authorized, but no PaymentIntent of this booking exists: 400, and nothing is asked of
    # Stripe. Anyone else never learns whether the booking exists.
    (API + "^payment/?$", "POST"): Row(
        lambda w: "/api/v1/payment",
        E(401, 400, 404, 403, 403, 403, 403),
        method="POST",
        body=lambda w: {"transactionid": "pi_not_this_one", "bookingID": w.booking.pk},
    ),
    # Stripe's signature is the only credential; without one, nobody gets in.
    (API + "^payments/webhook/?$", "POST"): Row(
        lambda w: "/api/v1/payments/webhook", same(400), method="POST", body=lambda w: {}
    ),
    # Calendars: the feed's token is its only credential, whoever presents it.
    (API + "^calendar/token/?$", "POST"): Row(
        lambda w: "/api/v1/calendar/token", E(401, 201, 201, 201, 201, 201, 201), method="POST"
    ),
    (API + "^calendar/(?P<token>[A-Za-z0-9_-]{1,128})\\.ics$", "GET"): Row(
        lambda w: f"/api/v1/calendar/{calendar_feed_token_of(w.patient)}.ics", same(200)
    ),
    ("appointments/<int:pk>/calendar.ics", "*"): Row(
        lambda w: f"/appointments/{w.booking.pk}/calendar.ics",
        E(302, 200, 404, 200, 404, 404, 200),
        page=True,
    ),
    # Pages (a signed-in session).
    ("", "*"): Row(lambda w: "/", same(200), page=True),
    ("services/<int:pk>/", "*"): Row(lambda w: f"/services/{w.service.pk}/", same(200), page=True),
    ("doctors/", "*"): Row(lambda w: "/doctors/?q=a", same(200), page=True),
    ("doctors/<int:pk>/", "*"): Row(lambda w: f"/doctors/{w.doctor.pk}/", same(200), page=True),
    ("signup/", "*"): Row(lambda w: "/signup/", E(200, 302, 302, 302, 302, 302, 302), page=True),
    ("login/", "GET"): Row(lambda w: "/login/", E(200, 302, 302, 302, 302, 302, 302), page=True),
    ("login/", "PUT"): Row(lambda w: "/login/", E(200, 302, 302, 302, 302, 302, 302), page=True),
    ("login/", "POST"): Row(
        lambda w: "/login/",
        same(302),
        method="POST",
        body=lambda w: {"username": w.patient.email, "password": TEST_PASSWORD},
        page=True,
    ),
    ("logout/", "POST"): Row(lambda w: "/logout/", same(302), method="POST", page=True),
    ("login/firebase/", "*"): Row(
        lambda w: "/login/firebase/", same(302), method="POST", body=lambda w: {}, page=True
    ),
    ("verify-email/<str:token>/", "*"): Row(
        lambda w: f"/verify-email/{verification_token_of(w.patient)}/", same(200), page=True
    ),
    # Django's reset views: open to everyone (a signed-in person may reset too).
    ("password-reset/", "GET"): Row(lambda w: "/password-reset/", same(200), page=True),
    ("password-reset/", "PUT"): Row(
        lambda w: "/password-reset/", same(200), method="PUT", page=True
    ),
    ("password-reset/", "POST"): Row(
        lambda w: "/password-reset/",
        same(302),
        method="POST",
        body=lambda w: {"email": w.patient.email},
        page=True,
    ),
    ("password-reset/sent/", "GET"): Row(lambda w: "/password-reset/sent/", same(200), page=True),
    ("password-reset/done/", "GET"): Row(lambda w: "/password-reset/done/", same(200), page=True),
    # A valid link is put in the session and the browser sent on to the set-password form.
    # Signing in spends a reset link made before (Django hashes last_login into it): the
    # patient, signed in after the link was made, gets the "invalid link" page.
    **{
        ("password-reset/<uidb64>/<token>/", method): Row(
            lambda w: "/password-reset/{uid}/{token}/".format(**reset_pair_of(w.patient)),
            E(302, 200, 302, 302, 302, 302, 302),
            method=method,
            body=(lambda w: {}) if method == "POST" else None,
            page=True,
        )
        for method in ("GET", "POST", "PUT")
    },
    # Own account pages (erasure helper): every signed-in user; an admin cannot erase themself.
    ("profile/", "*"): Row(lambda w: "/profile/", E(302, *[200] * 6), page=True),
    ("account/data/", "*"): Row(lambda w: "/account/data/", E(302, *[200] * 6), page=True),
    ("account/delete/", "*"): Row(lambda w: "/account/delete/", E(302, *[200] * 5, 403), page=True),
    ("book/<int:slot_id>/", "*"): Row(
        lambda w: f"/book/{w.free_slot.pk}/", E(302, 200, 200, 403, 403, 403, 403), page=True
    ),
    ("appointments/", "*"): Row(
        lambda w: "/appointments/", E(302, 200, 200, 302, 302, 302, 200), page=True
    ),
    ("appointments/<int:pk>/cancel/", "*"): Row(
        lambda w: f"/appointments/{w.booking.pk}/cancel/",
        E(302, 200, 404, 200, 404, 404, 200),
        page=True,
    ),
    ("appointments/<int:pk>/reschedule/", "*"): Row(
        lambda w: f"/appointments/{w.booking.pk}/reschedule/",
        E(302, 200, 404, 200, 404, 404, 200),
        page=True,
    ),
    # Joining from a full slot's page: every signed-in caller is sent on (with the reason).
    ("book/<int:slot_id>/waitlist/", "*"): Row(
        lambda w: f"/book/{w.slot.pk}/waitlist/",
        same(302),
        method="POST",
        body=lambda w: {},
        page=True,
    ),
    ("waitlist/", "*"): Row(lambda w: "/waitlist/", E(302, *[200] * 6), page=True),
    ("waitlist/<int:pk>/leave/", "*"): Row(
        lambda w: f"/waitlist/{waitlist_entry_of(w, 'other_patient')}/leave/",
        E(302, 404, 302, 404, 404, 404, 404),
        method="POST",
        body=lambda w: {},
        page=True,
    ),
    ("doctor/bookings/<int:pk>/attendance/", "*"): Row(
        lambda w: f"/doctor/bookings/{w.booking.pk}/attendance/",
        E(302, 403, 404, 302, 404, 404, 302),
        method="POST",
        body=lambda w: {"status": "completed"},
        page=True,
    ),
    ("appointments/<int:pk>/pay/", "*"): Row(
        lambda w: f"/appointments/{w.booking.pk}/pay/",
        E(302, 200, 404, 404, 404, 404, 404),
        page=True,
        needs=("stripe_settings",),
    ),
    ("appointments/<int:pk>/pay/complete/", "*"): Row(
        lambda w: f"/appointments/{w.booking.pk}/pay/complete/",
        E(302, 302, 404, 404, 404, 404, 404),
        method="POST",
        body=lambda w: {},
        page=True,
    ),
    ("doctor/", "*"): Row(lambda w: "/doctor/", E(302, 404, 404, 200, 200, 200, 404), page=True),
    ("doctor/slots/publish/", "*"): Row(
        lambda w: "/doctor/slots/publish/",
        E(302, 404, 404, 302, 302, 400, 404),
        method="POST",
        body=lambda w: {
            "date": _future_day(6),
            "labels": "10:00-11:00",
            "service": w.service.pk,
            "capacity": 1,
        },
        page=True,
    ),
    ("doctor/hours/add/", "*"): Row(
        lambda w: "/doctor/hours/add/",
        E(302, 404, 404, 302, 302, 400, 404),
        method="POST",
        body=lambda w: {
            "hours-weekdays": ["sun"],
            "hours-start_time": "06:00",
            "hours-end_time": "07:00",
            "hours-slot_minutes": 30,
            "hours-capacity": 1,
            "hours-service": w.service.pk,
            "hours-valid_from": _future_day(20),
        },
        page=True,
    ),
    ("doctor/hours/<int:pk>/remove/", "*"): Row(
        lambda w: f"/doctor/hours/{_rule_of(w).pk}/remove/",
        E(302, 404, 404, 302, 404, 404, 404),
        method="POST",
        body=lambda w: {},
        page=True,
    ),
    ("doctor/time-off/add/", "*"): Row(
        lambda w: "/doctor/time-off/add/",
        E(302, 404, 404, 302, 302, 400, 404),
        method="POST",
        body=lambda w: {"off-first_day": _future_day(20), "off-last_day": _future_day(21)},
        page=True,
    ),
    ("doctor/time-off/<int:pk>/remove/", "*"): Row(
        lambda w: f"/doctor/time-off/{_time_off_of(w).pk}/remove/",
        E(302, 404, 404, 302, 404, 404, 404),
        method="POST",
        body=lambda w: {},
        page=True,
    ),
    ("doctor/slots/<int:pk>/remove/", "*"): Row(
        lambda w: f"/doctor/slots/{w.free_slot.pk}/remove/",
        E(302, 404, 404, 302, 404, 404, 404),
        method="POST",
        body=lambda w: {},
        page=True,
    ),
}


# ---------------------------------------------------------------- the Django admin


def admin_cases() -> list[tuple[str, str, dict]]:
    """(route, url, expected) for every admin route: staff only, everyone else to the login."""
    from django.contrib import admin
    from django.urls import reverse

    from accounts.models import Role, User

    # What the admin role may do inside each ModelAdmin (some refuse add or delete: 403).
    staff = SimpleNamespace(user=User(role=Role.ADMIN, is_superuser=True, is_active=True))
    allowed = {}
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}"
        allowed[f"{prefix}_add"] = model_admin.has_add_permission(staff)
        allowed[f"{prefix}_delete"] = model_admin.has_delete_permission(staff)
    cases = []
    for route, name, _callback in walk():
        if not route.startswith("admin/"):
            continue
        signed_out = 302  # every admin view sends non-staff to the admin login
        if not name:  # the final catch-all
            cases.append((route, "/admin/no-such-page/", E(302, 302, 302, 302, 302, 302, 404)))
            continue
        short = name.split(":", 1)[1]
        kwargs = {}
        if "(?P<app_label>" in route:
            kwargs["app_label"] = "accounts"
        if "<path:object_id>" in route:
            kwargs["object_id"] = "999999"
        if short == "view_on_site":
            kwargs = {"content_type_id": 1, "object_id": "999999"}
        if "<id>" in route:
            kwargs["id"] = "999999"
        url = reverse(name, kwargs=kwargs)
        if short == "login":
            expected = E(200, 200, 200, 200, 200, 200, 302)
        elif short == "logout":
            expected = E(*[302] * 6, 405)  # GET: signing out is a POST
        elif short == "view_on_site":
            expected = E(*[signed_out] * 6, 404)
        elif short == "autocomplete" or not allowed.get(short, True):
            expected = E(*[signed_out] * 6, 403)
        elif "object_id" in kwargs:
            expected = E(*[signed_out] * 6, 302)  # unknown id: back to the index
        else:
            expected = E(*[signed_out] * 6, 200)
        cases.append((route, url, expected))
    return cases


# ---------------------------------------------------------------- the tests


def test_every_route_has_a_row():
    routes = route_keys()
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"routes without a row in MATRIX (add one): {missing}"
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_admin_route_is_covered():
    admin_routes = {route for route, _name, _cb in walk() if route.startswith("admin/")}
    assert admin_routes, "the Django admin is mounted at admin/"
    assert {route for route, _url, _expected in admin_cases()} == admin_routes


def _matrix_params():
    params = []
    for (route, method), row in MATRIX.items():
        for actor in ACTORS:
            label = f"{row.method} {route or '/'} as {actor}"
            params.append(pytest.param((route, method), actor, id=label))
    return params


@pytest.mark.parametrize(("key", "actor"), _matrix_params())
def test_route_answers_each_caller(key, actor, world, request):
    row = MATRIX[key]
    for fixture in row.needs:
        request.getfixturevalue(fixture)
    path = row.path(world)
    body = row.body(world) if row.body else None
    if row.page:
        client = session_client(world, actor)
        if row.method == "POST":
            response = client.post(path, body or {})
        else:
            response = client.generic(row.method, path)
    else:
        client = api_client(world, actor)
        response = getattr(client, row.method.lower())(path, body, format="json")
    expected = row.expected[actor]
    detail = b"" if response.streaming else response.content[:400]
    assert response.status_code == expected, f"{row.method} {path} as {actor}: {detail!r}"
    if not row.page and key[0].startswith(API) and response.status_code >= 400:
        envelope = response.json()
        assert envelope["success"] is False and envelope["errorMessages"], envelope
    if response.status_code == 302 and expected == 302 and actor == "anon":
        location = response["Location"]
        assert re.match(r"^/(login|admin/login|$|\?)", location) or location.startswith("/"), (
            location
        )


def _admin_params():
    try:
        cases = admin_cases()
    except Exception as exc:  # the URL conf itself is broken: let the test say so
        return [pytest.param("", "", {}, "anon", id=f"admin-broken-{exc}")]
    return [
        pytest.param(route, url, expected, actor, id=f"GET {url} as {actor}")
        for route, url, expected in cases
        for actor in ACTORS
    ]


@pytest.mark.parametrize(("route", "url", "expected", "actor"), _admin_params())
def test_admin_route_answers_each_caller(route, url, expected, actor, world):
    response = session_client(world, actor).get(url)
    assert response.status_code == expected[actor], f"GET {url} as {actor}"
    if expected[actor] == 302 and actor != "admin" and not url.endswith("/logout/"):
        assert response["Location"].startswith("/admin/login/"), response["Location"]
