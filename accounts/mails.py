"""Account mails: the verification link, the reset link, the takeover notice.

Sent with Django's email framework once the change they report is committed
(`bookings.notifications.send_after_commit`); a mail that fails is logged and never
undoes the change. Links are absolute, on the site the request came to.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from accounts import tokens
from accounts.models import User
from bookings.notifications import send_after_commit

logger = logging.getLogger(__name__)


def site_of(request) -> str:
    """scheme://host of this request (a host ALLOWED_HOSTS accepted), for mailed links."""
    return request.build_absolute_uri("/").rstrip("/")


def _deliver(*, template: str, subject: str, user: User, context: dict) -> None:
    context = {"user": user, **context}
    try:
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"accounts/emails/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        message.attach_alternative(
            render_to_string(f"accounts/emails/{template}.html", context), "text/html"
        )
        message.send()
    except Exception:  # a broken mail server must never undo a sign-up or a reset
        logger.exception("Could not send the %s email to user %s", template, user.pk)


def _load(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def _send_verification(*, user_id: int, site: str) -> None:
    user = _load(user_id)
    if user is None or user.email_verified:
        return
    path = reverse("pages:verify_email", kwargs={"token": tokens.verification_link_token(user)})
    _deliver(
        template="verify_email",
        subject="Verify your email address for Doctors Portal",
        user=user,
        context={"link": f"{site}{path}"},
    )


def _send_password_reset(*, user_id: int, site: str) -> None:
    user = _load(user_id)
    if user is None:
        return
    pair = tokens.reset_pair(user)
    path = reverse(
        "pages:password_reset_confirm", kwargs={"uidb64": pair["uid"], "token": pair["token"]}
    )
    _deliver(
        template="password_reset",
        subject="Reset your Doctors Portal password",
        user=user,
        context={"link": f"{site}{path}", **pair},
    )


def _send_takeover_notice(*, user_id: int, site: str, how: str) -> None:
    user = _load(user_id)
    if user is None:
        return
    _deliver(
        template="takeover_notice",
        subject="Your Doctors Portal account was taken over by its proven owner",
        user=user,
        context={"how": how, "reset_link": f"{site}{reverse('pages:password_reset')}"},
    )


def verification_after_commit(*, user: User, site: str) -> None:
    send_after_commit(_send_verification, user_id=user.pk, site=site)


def password_reset_after_commit(*, user: User, site: str) -> None:
    send_after_commit(_send_password_reset, user_id=user.pk, site=site)


def takeover_notice_after_commit(*, user: User, site: str, how: str) -> None:
    send_after_commit(_send_takeover_notice, user_id=user.pk, site=site, how=how)
