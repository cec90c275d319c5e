from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Service(models.Model):
    """An appointment option the clinic offers (the reference's 'treatment')."""

    name = models.CharField(max_length=120, unique=True)
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.50"))]
    )
    currency = models.CharField(max_length=3, default="usd")
    slot_minutes = models.PositiveSmallIntegerField(default=60)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="service_price_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class SlotStatus(models.TextChoices):
    PUBLISHED = "published", "Published"
    UNPUBLISHED = "unpublished", "Unpublished"
    CANCELLED = "cancelled", "Cancelled"


class Slot(models.Model):
    """A doctor's time for one service, bookable by up to `capacity` patients.

    `seats_taken` counts bookings that are pending_payment or confirmed. It is
    only changed while the row is locked, and a check constraint keeps it at
    or below capacity, so the database itself refuses an overbooking.
    """

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="slots"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="slots")
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    seats_taken = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=16, choices=SlotStatus.choices, default=SlotStatus.PUBLISHED
    )
    # The weekly rule that generated this slot (None: published by hand, or its rule ended).
    rule = models.ForeignKey(
        "WeeklyRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_end_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(
                condition=Q(seats_taken__gte=0) & Q(seats_taken__lte=F("capacity")),
                name="slot_seats_within_capacity",
            ),
        ]
        indexes = [
            models.Index(fields=["start", "status"], name="slot_start_status_idx"),
            models.Index(fields=["doctor", "start"], name="slot_doctor_start_idx"),
            models.Index(fields=["service", "start"], name="slot_service_start_idx"),
        ]

    def __str__(self) -> str:
        # In clinic time, as every screen (the admin included) shows times.
        local = self.start.astimezone(ZoneInfo(settings.CLINIC_TIME_ZONE))
        return f"{self.service} with {self.doctor} at {local:%Y-%m-%d %H:%M} {local.tzinfo}"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WeeklyRule(models.Model):
    """A doctor's weekly working hours for one service, in the clinic's time zone.

    Generated into ordinary slots (scheduling/schedules.py) up to BOOKING_HORIZON_DAYS
    ahead; `generated_until` is the last clinic-local date already generated, so a
    second run over the same dates changes nothing.
    """

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="weekly_rules"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="weekly_rules")
    weekdays = models.CharField(max_length=27, help_text='e.g. "mon,wed,fri"')
    start_time = models.TimeField()
    end_time = models.TimeField()
    slot_minutes = models.PositiveSmallIntegerField()
    capacity = models.PositiveSmallIntegerField(default=1)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    generated_until = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["doctor_id", "start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="weeklyrule_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(slot_minutes__gte=1), name="weeklyrule_slot_minutes_positive"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1), name="weeklyrule_capacity_positive"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="weeklyrule_valid_range",
            ),
        ]
        indexes = [models.Index(fields=["generated_until"], name="weeklyrule_generated_idx")]

    def __str__(self) -> str:
        return (
            f"{self.doctor} {self.weekdays} {self.start_time:%H:%M}-{self.end_time:%H:%M} "
            f"({self.service})"
        )

    @property
    def weekday_list(self) -> list[str]:
        return [day for day in self.weekdays.split(",") if day]


class TimeOff(models.Model):
    """A span in which the doctor takes no appointments: no rule generates slots in it."""

    doctor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_off"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="timeoff_end_after_start"),
        ]
        indexes = [models.Index(fields=["doctor", "end"], name="timeoff_doctor_end_idx")]

    def __str__(self) -> str:
        return f"{self.doctor} off {self.start:%Y-%m-%d %H:%M} - {self.end:%Y-%m-%d %H:%M} UTC"
