"""factory_boy factories shared by every test package."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import DoctorProfile, Role, User
from bookings.models import Booking, BookingStatus
from scheduling.models import Service, Slot

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    role = Role.PATIENT
    phone = "+8801700000000"
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class PatientFactory(UserFactory):
    role = Role.PATIENT


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_superuser = True


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Service {n}")
    price = Decimal("40.00")
    currency = "usd"
    slot_minutes = 60


class DoctorFactory(UserFactory):
    role = Role.DOCTOR

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if not create:
            return
        DoctorProfile.objects.create(
            user=obj,
            specialty=kwargs.get("specialty"),
            license_number=kwargs.get("license_number", "BMDC-12345"),
            is_verified=kwargs.get("verified", True),
            verified_at=timezone.now() if kwargs.get("verified", True) else None,
        )


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot

    doctor = factory.SubFactory(DoctorFactory)
    service = factory.SubFactory(ServiceFactory)
    start = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    )
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=1))
    capacity = 1


class BookingFactory(factory.django.DjangoModelFactory):
    """A booking row written directly; tests of the seat rules go through the services."""

    class Meta:
        model = Booking

    patient = factory.SubFactory(PatientFactory)
    slot = factory.SubFactory(SlotFactory)
    doctor = factory.LazyAttribute(lambda o: o.slot.doctor)
    service = factory.LazyAttribute(lambda o: o.slot.service)
    price = factory.LazyAttribute(lambda o: o.slot.service.price)
    currency = factory.LazyAttribute(lambda o: o.slot.service.currency)
    status = BookingStatus.PENDING_PAYMENT
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))
