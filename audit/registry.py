"""What the audit trail records (ARCHITECTURE invariant 12), through django-auditlog.

Only the fields of privileged changes are tracked: role, account state, verification,
booking status, payment and refund. Never a name, email or phone: the trail is kept
forever, so it must hold nothing that an erasure would have to take back.
"""

from auditlog.registry import auditlog

# entity name in `GET audit?entity=` → (app label, model, fields tracked)
AUDITED = {
    "user": ("accounts", "User", ["role", "is_superuser", "is_active", "deleted_at"]),
    # A licence edit by its revision (each edit of number, authority, expiry or document
    # counts one), authority and expiry: never the number or the document's name, which
    # lead to the person and which an erasure would have to take back from a trail kept
    # forever.
    "doctorProfile": (
        "accounts",
        "DoctorProfile",
        [
            *("is_verified", "verified_by", "verified_at"),
            *("license_revision", "license_authority", "license_expires_on"),
        ],
    ),
    "booking": ("bookings", "Booking", ["status", "payment_status", "cancelled_by"]),
    "payment": ("payments", "Payment", ["status", "amount_refunded"]),
    "refund": ("payments", "Refund", ["status", "amount"]),
}


def register_audited_models() -> None:
    from django.apps import apps

    for app_label, model_name, fields in AUDITED.values():
        model = apps.get_model(app_label, model_name)
        if not auditlog.contains(model):
            auditlog.register(model, include_fields=fields)
