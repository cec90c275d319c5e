"""Demo data for a bare machine: services, an admin, doctors and patients. Idempotent."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import DoctorProfile, Role, User
from doctors_portal.demo import REFERENCE_SERVICES, demo_schedule_create
from scheduling.models import Service

DEMO_PASSWORD = "demo-pass-2026"


# (email, name, role, doctor: (specialty, licence, verified) or None)
USERS = [
    ("admin@demo.doctors-portal.test", "Demo Admin", Role.ADMIN, None),
    (
        "dr.rahman@demo.doctors-portal.test",
        "Dr. Ayesha Rahman",
        Role.DOCTOR,
        ("Teeth Orthodontics", "BMDC-10001", True),
    ),
    (
        "dr.karim@demo.doctors-portal.test",
        "Dr. Tanvir Karim",
        Role.DOCTOR,
        ("Teeth Cleaning", "BMDC-10002", True),
    ),
    (
        "dr.new@demo.doctors-portal.test",
        "Dr. Nusrat Hossain",
        Role.DOCTOR,
        ("Oral Surgery", "BMDC-10003", False),
    ),
    ("patient1@demo.doctors-portal.test", "Farhan Ahmed", Role.PATIENT, None),
    ("patient2@demo.doctors-portal.test", "Mim Chowdhury", Role.PATIENT, None),
]


class Command(BaseCommand):
    help = "Create demo services and users (running it again changes nothing)."

    @transaction.atomic
    def handle(self, *args, **options):
        services = {}
        for name, price in REFERENCE_SERVICES:
            services[name], _ = Service.objects.get_or_create(name=name, defaults={"price": price})

        admin = None
        doctors, patients = [], []
        for email, name, role, doctor in USERS:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                # The password is set only on creation: re-hashing would change the row.
                user = User.objects.create_user(
                    email=email,
                    password=DEMO_PASSWORD,
                    name=name,
                    role=role,
                    is_superuser=role == Role.ADMIN,
                    # The demo's own addresses: nobody else can prove them, nothing to take over.
                    email_verified=True,
                )
            if doctor:
                specialty, licence, verified = doctor
                DoctorProfile.objects.get_or_create(
                    user=user,
                    defaults={
                        "specialty": services[specialty],
                        "license_number": licence,
                        "is_verified": verified,
                    },
                )
                doctors.append(user)
            elif role == Role.PATIENT:
                patients.append(user)
            else:
                admin = user
        self._verify(admin, doctors)

        demo_schedule_create(
            doctors=[d for d in doctors if d.doctor_profile.is_verified],
            patients=patients,
            services=list(services.values()),
            stdout=self.stdout,
        )

        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins (password for all):"))
        for email, _name, role, doctor in USERS:
            note = " (unverified)" if doctor and not doctor[2] else ""
            self.stdout.write(f"  {role:<8} {email:<40} {DEMO_PASSWORD}{note}")

    def _verify(self, admin, doctors) -> None:
        """Record who verified the demo doctors, once, through the same service as the API."""
        from accounts.services import doctor_set_verification

        for doctor in doctors:
            profile = doctor.doctor_profile
            if profile.is_verified and profile.verified_by_id is None:
                doctor_set_verification(actor=admin, doctor=doctor, verified=True)
