"""Celery tasks: thin wrappers over the outbox's services."""

from doctors_portal.celery import app


@app.task(name="outbox.deliver")
def deliver(message_id: int) -> str | None:
    from doctors_portal.outbox import outbox_deliver

    return outbox_deliver(message_id=message_id)


@app.task(name="outbox.sweep")
def sweep() -> int:
    from doctors_portal.outbox import outbox_sweep

    return outbox_sweep()


@app.task(name="outbox.queue_reminders")
def queue_reminders() -> int:
    from bookings.notifications import notify_reminders_due

    return notify_reminders_due()


@app.task(name="scheduling.extend_schedules")
def extend_schedules() -> int:
    from scheduling.schedules import schedules_extend

    return schedules_extend()
