"""The Celery app: `celery -A doctors_portal worker` and `celery -A doctors_portal beat`.

Settings come from Django's (the CELERY_ names); tasks live in doctors_portal/tasks.py.
Beat only ticks: each tick's work is idempotent (claims and unique keys in the
outbox), so two beats running at once send nothing twice.
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "doctors_portal.settings")

app = Celery("doctors_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    # A publish that cannot reach the broker fails fast: the row is in the outbox
    # already and the sweep sends it later, so the request must not hang on Redis.
    broker_connection_timeout=2,
    broker_connection_retry_on_startup=True,
    task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
    # A task is acknowledged after it ran, so a worker killed mid-delivery leaves it
    # for another worker (the row's claim says whether it still needs sending).
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    timezone="UTC",
)
if str(app.conf.broker_url).startswith("filesystem://"):
    # kombu's filesystem transport expects its folders to exist.
    for folder in ("data_folder_in", "processed_folder"):
        Path(app.conf.broker_transport_options[folder]).mkdir(parents=True, exist_ok=True)
app.autodiscover_tasks(["doctors_portal"], related_name="tasks")


@app.on_after_finalize.connect
def _schedule(sender, **kwargs):
    from django.conf import settings

    every = settings.OUTBOX_SWEEP_SECONDS
    sender.add_periodic_task(every, sender.signature("outbox.sweep"), name="outbox sweep")
    sender.add_periodic_task(
        every, sender.signature("outbox.queue_reminders"), name="queue reminders"
    )
    # Weekly hours generated up to BOOKING_HORIZON_DAYS ahead as days pass (idempotent).
    sender.add_periodic_task(
        settings.SCHEDULE_EXTEND_SECONDS,
        sender.signature("scheduling.extend_schedules"),
        name="extend weekly hours",
    )
