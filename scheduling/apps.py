from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "scheduling"
    verbose_name = "Scheduling"

    def ready(self):
        # accounts (a lower layer) announces a changed doctor listing; availability shows it.
        from accounts import lifecycle
        from scheduling.availability_cache import availability_changed

        lifecycle.listing_changed_register(availability_changed)
