"""The outbox's delivery machinery (ARCHITECTURE invariant 10).

A change that decides a notification calls `outbox_enqueue` inside its own
transaction: the row commits or rolls back with the change. After commit the row's
id is handed to the worker (`outbox.deliver`); if the broker is unreachable then,
the row just waits and the beat's sweep hands it over later.

A worker claims a row with one conditional UPDATE (pending and due, or sending
with a lapsed claim), so two workers never send the same row; the claim's attempt
number fences the result, so a worker that lost its claim cannot mark the row.
A failed attempt waits OUTBOX_RETRY_BASE_SECONDS * 2**(attempts-1) (capped), and
after OUTBOX_MAX_ATTEMPTS the row is `failed`, visible in the admin to retry.

Each kind's mail is rendered at send time from the rows it names by the function
RENDERERS names; a renderer returns None when the mail is no longer true (a
reminder for a booking since cancelled), and the row is `skipped`.
"""

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from doctors_portal.models import OutboxKind, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)

RENDERERS: dict[str, str] = {
    OutboxKind.BOOKING_CONFIRMED: "bookings.notifications.render_booking_confirmed",
    OutboxKind.BOOKING_NEW_FOR_DOCTOR: "bookings.notifications.render_booking_new_for_doctor",
    OutboxKind.BOOKING_CANCELLED: "bookings.notifications.render_booking_cancelled",
    OutboxKind.BOOKING_CANCELLED_FOR_DOCTOR: (
        "bookings.notifications.render_booking_cancelled_for_doctor"
    ),
    OutboxKind.PAYMENT_REFUNDED_SEAT_GONE: (
        "bookings.notifications.render_payment_refunded_seat_gone"
    ),
    OutboxKind.REMINDER: "bookings.notifications.render_reminder",
    OutboxKind.BOOKING_RESCHEDULED: "bookings.notifications.render_booking_rescheduled",
    OutboxKind.BOOKING_RESCHEDULED_FOR_DOCTOR: (
        "bookings.notifications.render_booking_rescheduled_for_doctor"
    ),
    OutboxKind.WAITLIST_OFFER: "bookings.notifications.render_waitlist_offer",
    OutboxKind.ACCOUNT_VERIFY_EMAIL: "accounts.mails.render_verify_email",
    OutboxKind.ACCOUNT_PASSWORD_RESET: "accounts.mails.render_password_reset",
    OutboxKind.ACCOUNT_TAKEOVER_NOTICE: "accounts.mails.render_takeover_notice",
}

SWEEP_BATCH = 500


class UnknownOutboxKind(Exception):
    pass


def booking_key(*, booking_id: int, kind: str, offset: str = "") -> str:
    """The dedup key of a booking's mail: (booking, kind, offset)."""
    return f"booking:{booking_id}:{kind}:{offset}"


def outbox_enqueue(
    *,
    kind: str,
    key: str,
    booking_id: int | None = None,
    user_id: int | None = None,
    offset: str = "",
    params: dict | None = None,
    now: datetime | None = None,
) -> None:
    """Queue a mail in the caller's transaction; a key queued before is left as it is."""
    if kind not in RENDERERS:
        raise UnknownOutboxKind(kind)
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                key=key,
                kind=kind,
                booking_id=booking_id,
                user_id=user_id,
                offset=offset,
                params=params or {},
                next_attempt_at=now or timezone.now(),
                handed_over_at=now or timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: _hand_over_key(key), robust=True)


def _hand_over_key(key: str) -> None:
    message_id = OutboxMessage.objects.filter(key=key).values_list("pk", flat=True).first()
    if message_id is not None:
        outbox_hand_over(message_id=message_id)


def outbox_hand_over(*, message_id: int) -> bool:
    """Give a row to the worker; False when the broker is unreachable (the sweep retries)."""
    from doctors_portal.tasks import deliver

    try:
        deliver.delay(message_id)
    except Exception as exc:  # the broker is down: the row waits for the sweep
        logger.warning("Outbox row %s waits for the sweep: %s", message_id, exc)
        return False
    return True


def _retry_delay(attempts: int) -> timedelta:
    seconds = settings.OUTBOX_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.OUTBOX_RETRY_MAX_SECONDS))


def _due(now: datetime) -> Q:
    return Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, claimed_until__lt=now
    )


def outbox_claim(*, message_id: int, now: datetime | None = None) -> int | None:
    """Take a due row for this worker; returns the claim's attempt number, or None."""
    now = now or timezone.now()
    claimed = OutboxMessage.objects.filter(_due(now), pk=message_id).update(
        status=OutboxStatus.SENDING,
        claimed_until=now + timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return OutboxMessage.objects.values_list("attempts", flat=True).get(pk=message_id)


def _finish(*, message_id: int, attempt: int, **fields) -> bool:
    """Record an attempt's result, only if this worker still holds the claim."""
    return bool(
        OutboxMessage.objects.filter(
            pk=message_id, status=OutboxStatus.SENDING, attempts=attempt
        ).update(claimed_until=None, **fields)
    )


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> str | None:
    """Send one row if it is due and unclaimed; returns the row's new status."""
    attempt = outbox_claim(message_id=message_id, now=now)
    if attempt is None:
        return None
    message = OutboxMessage.objects.get(pk=message_id)
    try:
        mail = _renderer(message.kind)(message)
        if mail is None:
            _finish(message_id=message_id, attempt=attempt, status=OutboxStatus.SKIPPED)
            return OutboxStatus.SKIPPED
        mail.send()
    except Exception as exc:  # a poison row or a mail server down: this row waits, not others
        logger.warning("Outbox row %s attempt %s failed: %r", message_id, attempt, exc)
        gave_up = attempt >= settings.OUTBOX_MAX_ATTEMPTS
        status = OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING
        _finish(
            message_id=message_id,
            attempt=attempt,
            status=status,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            next_attempt_at=timezone.now() + _retry_delay(attempt),
        )
        return status
    _finish(
        message_id=message_id,
        attempt=attempt,
        status=OutboxStatus.SENT,
        sent_at=timezone.now(),
        last_error="",
    )
    return OutboxStatus.SENT


def _renderer(kind: str) -> Callable[[OutboxMessage], EmailMessage | None]:
    try:
        return import_string(RENDERERS[kind])
    except KeyError as exc:
        raise UnknownOutboxKind(kind) from exc


def outbox_sweep(*, now: datetime | None = None) -> int:
    """Hand over every due row not handed over since it became due (retries whose time
    came), or whose hand-over is older than a claim (lost enqueues, killed workers)."""
    now = now or timezone.now()
    lost = now - timedelta(seconds=settings.OUTBOX_CLAIM_SECONDS)
    ids = list(
        OutboxMessage.objects.filter(_due(now))
        .filter(
            Q(handed_over_at__isnull=True)
            | Q(handed_over_at__lt=F("next_attempt_at"))
            | Q(handed_over_at__lt=lost)
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    OutboxMessage.objects.filter(pk__in=ids).update(handed_over_at=now)
    for message_id in ids:
        if not outbox_hand_over(message_id=message_id):
            break
    return len(ids)


@transaction.atomic
def outbox_retry_now(*, message_id: int) -> bool:
    """The admin's "retry now": a waiting or failed row is due at once."""
    updated = OutboxMessage.objects.filter(
        pk=message_id, status__in=[OutboxStatus.PENDING, OutboxStatus.FAILED]
    ).update(
        status=OutboxStatus.PENDING,
        next_attempt_at=timezone.now(),
        handed_over_at=timezone.now(),
    )
    if updated:
        transaction.on_commit(lambda: outbox_hand_over(message_id=message_id), robust=True)
    return bool(updated)


_OFFSET = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def reminder_offsets() -> list[tuple[str, timedelta]]:
    """REMINDER_OFFSETS ("24h,2h") as (label, delta), nearest to the start first."""
    offsets = []
    for label in settings.REMINDER_OFFSETS:
        match = _OFFSET.match(label)
        if not match:
            raise ValueError(f"REMINDER_OFFSETS: {label!r} is not like 24h, 30m or 1d.")
        offsets.append((label.strip(), timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})))
    return sorted(offsets, key=lambda pair: pair[1])
