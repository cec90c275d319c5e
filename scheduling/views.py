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
from accounts.views import add_service_errors, service_errors
from bookings import selectors as booking_selectors
from bookings.views import describe
from scheduling import schedules, selectors, services, timefmt
from scheduling.forms import DatePickForm, SlotPublishForm, TimeOffForm, WeeklyHoursForm
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


DASHBOARD_DAYS = 7  # "this week": today and the six days after


def _dashboard(request, form=None, status=200, *, hours_form=None, off_form=None):
    """The doctor's dashboard: patients first, this week's slots by day, then the forms.
    Reads only; every form posts to its own view, which calls the same services."""
    doctor = request.user
    profile = getattr(doctor, "doctor_profile", None)
    now = timezone.now()
    today = timefmt.clinic_today(now)
    if form is None:
        initial = {"date": today + timedelta(days=1), "capacity": 1}
        if profile and profile.specialty_id:
            initial["service"] = profile.specialty_id
        form = SlotPublishForm(initial=initial)
    if hours_form is None:
        initial = {"valid_from": today, "slot_minutes": 30, "capacity": 1}
        if profile and profile.specialty_id:
            initial["service"] = profile.specialty_id
        hours_form = WeeklyHoursForm(initial=initial)
    off_form = off_form or TimeOffForm(initial={"first_day": today, "last_day": today})
    slots = _labelled(selectors.doctor_slots_private(doctor=doctor, viewer=doctor, now=now) or [])
    week_end = timefmt.day_bounds(today + timedelta(days=DASHBOARD_DAYS - 1))[1]
    days: dict = {}
    later = 0
    for slot in slots:
        if slot.status == SlotStatus.CANCELLED:
            continue
        if slot.start >= week_end:
            later += 1
            continue
        slot.held = slot.capacity - slot.free_seats
        day = days.setdefault(
            slot.date_text, {"text": slot.date_text, "slots": [], "held": 0, "today": False}
        )
        day["slots"].append(slot)
        day["held"] += slot.held
        day["today"] = day["today"] or timefmt.clinic_today(slot.start) == today
    bookings = [
        describe(b, now) for b in booking_selectors.booking_list_for_doctor(doctor=doctor)[:200]
    ]
    upcoming = [b for b in bookings if b.slot.end > now]
    upcoming.sort(key=lambda b: (b.slot.start, b.pk))
    return render(
        request,
        "pages/doctor_dashboard.html",
        {
            "form": form,
            "hours_form": hours_form,
            "off_form": off_form,
            "profile": profile,
            "verified": bool(profile and profile.is_verified),
            "days": list(days.values()),
            "later": later,
            "bookings": upcoming,
            "earlier": [b for b in bookings if b.slot.end <= now],
            "rules": [_rule_text(rule) for rule in selectors.schedule_list(doctor=doctor)],
            "time_off": [_off_text(off) for off in selectors.time_off_list(doctor=doctor, now=now)],
            "BOOKING_HORIZON_DAYS": settings.BOOKING_HORIZON_DAYS,
        },
        status=status,
    )


def _rule_text(rule):
    rule.days_text = ", ".join(day.capitalize() for day in rule.weekday_list)
    rule.hours_text = f"{rule.start_time:%H:%M}-{rule.end_time:%H:%M}"
    return rule


def _off_text(off):
    tz = timefmt.clinic_tz()
    off.start_text = f"{off.start.astimezone(tz):%a %d %b %H:%M}"
    off.end_text = f"{off.end.astimezone(tz):%a %d %b %H:%M}"
    return off


@login_required
def doctor_dashboard(request):
    _require_doctor(request)
    return _dashboard(request)


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


@login_required
@require_POST
def schedule_add(request):
    doctor = _require_doctor(request)
    form = WeeklyHoursForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = schedules.schedule_create(
                doctor=doctor,
                by=doctor,
                weekdays=data["weekdays"],
                start_time=data["start_time"],
                end_time=data["end_time"],
                slot_minutes=data["slot_minutes"],
                capacity=data["capacity"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                service=data["service"],
            )
        except APIException as exc:
            add_service_errors(form, exc, HOURS_FIELDS)
        else:
            messages.success(
                request,
                f"Weekly hours added: {result.created} "
                f"slot{'s' if result.created != 1 else ''} published.",
            )
            return redirect("pages:doctor_dashboard")
    return _dashboard(request, hours_form=form, status=400)


HOURS_FIELDS = {
    "weekdays": "weekdays",
    "start": "start_time",
    "end": "end_time",
    "slotMinutes": "slot_minutes",
    "capacity": "capacity",
    "service": "service",
    "validFrom": "valid_from",
    "validUntil": "valid_until",
}


@login_required
@require_POST
def schedule_remove(request, pk: int):
    doctor = _require_doctor(request)
    try:
        result = schedules.schedule_delete(rule_id=pk, by=doctor)
    except APIException as exc:
        if getattr(exc, "status_code", 400) == 404:
            raise Http404("No such weekly hours.") from None
        for _path, message in service_errors(exc):
            messages.error(request, message)
    else:
        kept = len(result.kept)
        messages.success(
            request,
            f"Weekly hours removed: {result.removed} free slot"
            f"{'s' if result.removed != 1 else ''} withdrawn"
            + (f", {kept} booked kept." if kept else "."),
        )
    return redirect("pages:doctor_dashboard")


@login_required
@require_POST
def time_off_add(request):
    doctor = _require_doctor(request)
    form = TimeOffForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            start = timefmt.day_bounds(data["first_day"])[0]
            end = timefmt.day_bounds(data["last_day"])[1]
            result = schedules.time_off_create(
                doctor=doctor, by=doctor, start=start, end=end, reason=data["reason"]
            )
        except timefmt.TimeFormatError as exc:
            form.add_error("last_day", str(exc))
        except APIException as exc:
            add_service_errors(
                form,
                exc,
                {"start": "first_day", "end": "last_day", "reason": "reason"},
            )
        else:
            messages.success(
                request,
                f"Time off added: {result.removed} free slot"
                f"{'s' if result.removed != 1 else ''} withdrawn.",
            )
            return redirect("pages:doctor_dashboard")
    return _dashboard(request, off_form=form, status=400)


@login_required
@require_POST
def time_off_remove(request, pk: int):
    doctor = _require_doctor(request)
    try:
        result = schedules.time_off_delete(time_off_id=pk, by=doctor)
    except APIException as exc:
        if getattr(exc, "status_code", 400) == 404:
            raise Http404("No such time off.") from None
        for _path, message in service_errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, f"Time off removed: {result.created} slots published again.")
    return redirect("pages:doctor_dashboard")
