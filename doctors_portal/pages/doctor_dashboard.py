"""The doctor's dashboard: their slots (scheduling) and their patients' bookings
(bookings) on one page, so it lives above both apps. Publishing and removing slots go
through scheduling.services, exactly as the API's."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from accounts.selectors import doctor_bookability
from bookings import selectors as booking_selectors
from doctors_portal.errors import DomainError
from doctors_portal.pages import add_service_errors, page_status, service_errors
from doctors_portal.pages.bookings import booking_card
from scheduling import services, timefmt
from scheduling.forms import SlotPublishForm
from scheduling.models import SlotStatus
from scheduling.selectors import doctor_slots_private
from scheduling.views import labelled


def _require_doctor(request) -> User:
    # Someone who is not a doctor has no dashboard: the same 404 as any unknown page.
    if request.user.role != Role.DOCTOR:
        raise Http404("No dashboard for this account.")
    return request.user


def _dashboard(request, form, status=200):
    doctor = request.user
    profile = getattr(doctor, "doctor_profile", None)
    slots = labelled(doctor_slots_private(doctor=doctor, viewer=doctor) or [])
    for slot in slots:
        slot.held = slot.capacity - slot.free_seats
    now = timezone.now()
    bookings = [
        booking_card(b, now) for b in booking_selectors.booking_list_for_doctor(doctor=doctor)[:200]
    ]
    return render(
        request,
        "pages/doctor_dashboard.html",
        {
            "form": form,
            "profile": profile,
            "verified": bool(profile and profile.is_verified),
            # Why patients cannot book them (unverified, licence expired), if so.
            "not_bookable": doctor_bookability(doctor=doctor)["notBookableReasons"],
            "slots": [s for s in slots if s.status != SlotStatus.CANCELLED],
            "bookings": bookings,
        },
        status=status,
    )


@login_required
def doctor_dashboard(request):
    doctor = _require_doctor(request)
    profile = getattr(doctor, "doctor_profile", None)
    initial = {"date": timefmt.clinic_today() + timedelta(days=1), "capacity": 1}
    if profile and profile.specialty_id:
        initial["service"] = profile.specialty_id
    return _dashboard(request, SlotPublishForm(initial=initial))


@login_required
@require_POST
def slot_publish(request):
    doctor = _require_doctor(request)
    form = SlotPublishForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            created = services.slot_create_many(
                doctor=doctor,
                by=doctor,
                doc_slot=[{"date": data["date"].isoformat(), "slot": data["labels"]}],
                service=data["service"],
                capacity=data["capacity"],
            )
        except DomainError as exc:
            add_service_errors(
                form,
                exc,
                {"date": "date", "service": "service", "capacity": "capacity", "slot": "labels"},
                default="labels",
            )
        else:
            messages.success(
                request,
                f"Published {len(created)} slot{'s' if len(created) != 1 else ''} on "
                f"{timefmt.format_date(data['date'])}.",
            )
            return redirect("pages:doctor_dashboard")
    return _dashboard(request, form, status=400)


@login_required
@require_POST
def slot_remove(request, pk: int):
    doctor = _require_doctor(request)
    try:
        slot = services.slot_update(slot_id=pk, by=doctor, status=SlotStatus.CANCELLED)
    except DomainError as exc:
        if page_status(exc) == 404:
            raise Http404("No such slot.") from None
        for _path, message in service_errors(exc):
            messages.error(request, message)
    else:
        messages.success(
            request,
            f"Removed {timefmt.format_date(slot.start)} "
            f"{timefmt.format_label(slot.start, slot.end)}.",
        )
    return redirect("pages:doctor_dashboard")
