"""Scheduling pages: free places per date, a service's and a doctor's free slots, and
the doctor's dashboard. Reads go through scheduling/bookings selectors, writes through
scheduling.services, exactly as the API's."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from accounts.models import Role, User
from accounts.selectors import doctor_bookability
from accounts.views import add_service_errors, service_errors
from bookings import selectors as booking_selectors
from bookings.views import describe
from scheduling import selectors, services, timefmt
from scheduling.forms import DatePickForm, SlotPublishForm
from scheduling.models import SlotStatus


def _labelled(slots):
    for slot in slots:
        slot.label = timefmt.format_label(slot.start, slot.end)
        slot.date_text = timefmt.format_date(slot.start)
    return slots


def _chosen_day(request):
    """(day, form, notice) for the ?date= of the request (clinic-local), or today. A bad date
    says so on the form, a date the clinic does not book in a notice; both show today."""
    now = timezone.now()
    today = timefmt.clinic_today(now)
    raw = request.GET.get("date")
    if not raw:
        return today, DatePickForm(initial={"date": today}), ""
    form = DatePickForm(request.GET)
    if not form.is_valid():
        return today, form, ""
    try:
        return selectors.bookable_day(day=form.cleaned_data["date"], now=now), form, ""
    except timefmt.DateOutOfRange as exc:
        return today, DatePickForm(initial={"date": today}), _out_of_range_notice(exc)


def _out_of_range_notice(exc: timefmt.DateOutOfRange) -> str:
    if exc.past:
        return f"{timefmt.format_date(exc.day)} is in the past. Here are today's free places."
    return (
        f"We publish appointments up to {settings.PUBLISH_HORIZON_DAYS} days ahead, so "
        f"{timefmt.format_date(exc.day)} has none yet. Here are today's free places."
    )


def _day_context(day):
    today = timefmt.clinic_today()
    return {
        "day": day,
        "day_text": timefmt.format_date(day),
        # Neither link leads out of the dates the clinic books.
        "prev_day": day - timedelta(days=1) if day > today else None,
        "next_day": day + timedelta(days=1)
        if day < selectors.publish_horizon(now=timezone.now())
        else None,
        "is_today": day == today,
    }


def home(request):
    day, form, notice = _chosen_day(request)
    availability = selectors.availability_for_date(day=day)
    for entry in availability:
        _labelled(entry.slots)
    return render(
        request,
        "pages/home.html",
        {"form": form, "notice": notice, "availability": availability, **_day_context(day)},
        status=400 if form.errors or notice else 200,
    )


def service_slots(request, pk: int):
    service = get_object_or_404(selectors.service_list(), pk=pk)
    day, form, notice = _chosen_day(request)
    entry = next(
        (e for e in selectors.availability_for_date(day=day) if e.service.pk == service.pk), None
    )
    slots = _labelled(entry.slots) if entry else []
    return render(
        request,
        "pages/service.html",
        {"service": service, "slots": slots, "form": form, "notice": notice, **_day_context(day)},
        status=400 if form.errors or notice else 200,
    )


def doctor_slots(request, pk: int):
    doctor = get_object_or_404(User, pk=pk, role=Role.DOCTOR, is_active=True)
    slots = _labelled(selectors.doctor_slots_public(doctor=doctor))
    days: dict[str, list] = {}
    for slot in slots:
        days.setdefault(slot.date_text, []).append(slot)
    return render(request, "pages/doctor.html", {"doctor": doctor, "days": days})


def _require_doctor(request) -> User:
    # Someone who is not a doctor has no dashboard: the same 404 as any unknown page.
    if request.user.role != Role.DOCTOR:
        raise Http404("No dashboard for this account.")
    return request.user


def _dashboard(request, form, status=200):
    doctor = request.user
    profile = getattr(doctor, "doctor_profile", None)
    slots = _labelled(selectors.doctor_slots_private(doctor=doctor, viewer=doctor) or [])
    for slot in slots:
        slot.held = slot.capacity - slot.free_seats
    now = timezone.now()
    bookings = [
        describe(b, now) for b in booking_selectors.booking_list_for_doctor(doctor=doctor)[:200]
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
        except APIException as exc:
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
    except APIException as exc:
        if getattr(exc, "status_code", 400) == 404:
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
