from django.conf import settings


def clinic(request):
    return {
        "CLINIC_TIME_ZONE": settings.CLINIC_TIME_ZONE,
        "STRIPE_JS_URL": settings.STRIPE_JS_URL,
        "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
        "BOOKING_HOLD_MINUTES": settings.BOOKING_HOLD_MINUTES,
        "RESCHEDULE_CUTOFF_HOURS": settings.RESCHEDULE_CUTOFF_HOURS,
        "WAITLIST_CLAIM_MINUTES": settings.WAITLIST_CLAIM_MINUTES,
        "CANCELLATION_REFUND_HOURS": settings.CANCELLATION_REFUND_HOURS,
    }
