"""Account mails: the verification link, the reset link, the takeover notice.

Queued in the outbox (doctors_portal/outbox.py) in the transaction of the change
they report and sent by the worker; the links are made at send time, so a link is
never older than its mail. Links are absolute, on the site the request came to.
"""

import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import tokens
from accounts.models import User
from doctors_portal.models import OutboxKind, OutboxMessage
from doctors_portal.outbox import outbox_enqueue


def site_of(request) -> str:
    """scheme://host of this request (a host ALLOWED_HOSTS accepted), for mailed links."""
    return request.build_absolute_uri("/").rstrip("/")


def _mail(*, template: str, subject: str, user: User, context: dict) -> EmailMultiAlternatives:
    context = {"user": user, **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"accounts/emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string(f"accounts/emails/{template}.html", context), "text/html"
    )
    return message


def _load(user_id: int | None) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def render_verify_email(message: OutboxMessage) -> EmailMultiAlternatives | None:
    user = _load(message.user_id)
    if user is None or user.email_verified:
        return None
    path = reverse("pages:verify_email", kwargs={"token": tokens.verification_link_token(user)})
    return _mail(
        template="verify_email",
        subject="Verify your email address for Doctors Portal",
        user=user,
        context={"link": f"{message.params['site']}{path}"},
    )


def render_password_reset(message: OutboxMessage) -> EmailMultiAlternatives | None:
    user = _load(message.user_id)
    if user is None:
        return None
    pair = tokens.reset_pair(user)
    path = reverse(
        "pages:password_reset_confirm", kwargs={"uidb64": pair["uid"], "token": pair["token"]}
    )
    return _mail(
        template="password_reset",
        subject="Reset your Doctors Portal password",
        user=user,
        context={"link": f"{message.params['site']}{path}", **pair},
    )


def render_takeover_notice(message: OutboxMessage) -> EmailMultiAlternatives | None:
    user = _load(message.user_id)
    if user is None:
        return None
    site = message.params["site"]
    return _mail(
        template="takeover_notice",
        subject="Your Doctors Portal account was taken over by its proven owner",
        user=user,
        context={
            "how": message.params["how"],
            "reset_link": f"{site}{reverse('pages:password_reset')}",
        },
    )


def _queue(*, kind: str, user: User, **params) -> None:
    # Account mails have no booking: each request is its own mail, keyed once.
    outbox_enqueue(
        kind=kind, key=f"user:{user.pk}:{kind}:{uuid.uuid4().hex}", user_id=user.pk, params=params
    )


def verification_after_commit(*, user: User, site: str) -> None:
    _queue(kind=OutboxKind.ACCOUNT_VERIFY_EMAIL, user=user, site=site)


def password_reset_after_commit(*, user: User, site: str) -> None:
    _queue(kind=OutboxKind.ACCOUNT_PASSWORD_RESET, user=user, site=site)


def takeover_notice_after_commit(*, user: User, site: str, how: str) -> None:
    _queue(kind=OutboxKind.ACCOUNT_TAKEOVER_NOTICE, user=user, site=site, how=how)
