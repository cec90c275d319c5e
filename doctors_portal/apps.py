from django.apps import AppConfig


class DoctorsPortalConfig(AppConfig):
    name = "doctors_portal"

    def ready(self):
        from doctors_portal import checks  # noqa: F401 (registers the checks)
