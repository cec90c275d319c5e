# The Celery app loads with Django, so tasks queued by the web process use its settings.
from doctors_portal.celery import app as celery_app

__all__ = ["celery_app"]
