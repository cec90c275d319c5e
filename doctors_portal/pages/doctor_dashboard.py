"""The doctor's dashboard: their patients' bookings (bookings), this week's slots by day,
weekly hours and time off (scheduling) on one page, so it lives above both apps.
Publishing and removing slots, weekly hours and time off go through scheduling.services
and scheduling.schedules, exactly as the API's."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
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
from scheduling import schedules, selectors, services, timefmt
from scheduling.forms import SlotPublishForm, TimeOffForm, WeeklyHoursForm
from scheduling.models import SlotStatus, TimeOff, WeeklyRule
from scheduling.views import labelled

DASHBOARD_DAYS = 7  # "this week": today and the six days after


def _require_doctor(request) -> User:
    # Someone who is not a doctor has no dashboard: the same 404 as any unknown page.
    if request.user.role != Role.DOCTOR:
        raise Http404("No dashboard for this account.")
    return request.user


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
    slots = labelled(selectors.doctor_slots_private(doctor=doctor, viewer=doctor, now=now) or [])
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
        booking_card(b, now) for b in booking_selectors.booking_list_for_doctor(doctor=doctor)[:200]
    ]
    upcoming = [b for b in bookings if b.slot.end > now]
    upcoming.sort(key=lambda b: (b.slot.start, b.pk))
    earlier = [b for b in bookings if b.slot.end <= now]
    return render(
        request,
        "pages/doctor_dashboard.html",
        {
            "form": form,
            "hours_form": hours_form,
            "off_form": off_form,
            "profile": profile,
            "verified": bool(profile and profile.is_verified),
            # Why patients cannot book them (unverified, licence expired), if so.
            "not_bookable": doctor_bookability(doctor=doctor)["notBookableReasons"],
            "days": list(days.values()),
            "later": later,
            "bookings": upcoming,
            "earlier": earlier,
            # Past appointments whose attendance is still to record keep their fold open.
            "attendance_due": any(b.can_mark_attendance for b in earlier),
            "rules": [_rule_text(rule) for rule in selectors.schedule_list(doctor=doctor)],
            "time_off": [_off_text(off) for off in selectors.time_off_list(doctor=doctor, now=now)],
            "BOOKING_HORIZON_DAYS": settings.BOOKING_HORIZON_DAYS,
        },
        status=status,
    )


@dataclass(frozen=True)
class RuleLine:
    """Weekly hours as the dashboard lists them; the rule's own fields read through."""

    rule: WeeklyRule
    days_text: str
    hours_text: str

    def __getattr__(self, name):
        if name == "rule":  # not set yet (copy, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.rule, name)


@dataclass(frozen=True)
class TimeOffLine:
    """Time off as the dashboard lists it; its own fields read through."""

    time_off: TimeOff
    start_text: str
    end_text: str

    def __getattr__(self, name):
        if name == "time_off":
            raise AttributeError(name)
        return getattr(self.time_off, name)


def _rule_text(rule: WeeklyRule) -> RuleLine:
    return RuleLine(
        rule=rule,
        days_text=", ".join(day.capitalize() for day in rule.weekday_list),
        hours_text=f"{rule.start_time:%H:%M}-{rule.end_time:%H:%M}",
    )


def _off_text(off: TimeOff) -> TimeOffLine:
    tz = timefmt.clinic_tz()
    return TimeOffLine(
        time_off=off,
        start_text=f"{off.start.astimezone(tz):%a %d %b %H:%M}",
        end_text=f"{off.end.astimezone(tz):%a %d %b %H:%M}",
    )


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
    return _remove(
        request,
        lambda: services.slot_update(slot_id=pk, by=doctor, status=SlotStatus.CANCELLED),
        missing="No such slot.",
        done=lambda slot: (
            f"Removed {timefmt.format_date(slot.start)} "
            f"{timefmt.format_label(slot.start, slot.end)}."
        ),
    )


def _remove(request, call, *, missing: str, done):
    """A dashboard Remove button: run the service; an unknown id is the page's 404, a
    refusal is shown as messages, success as `done(result)`; back to the dashboard."""
    try:
        result = call()
    except DomainError as exc:
        if page_status(exc) == 404:
            raise Http404(missing) from None
        for _path, message in service_errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, done(result))
    return redirect("pages:doctor_dashboard")


def _withdrawn(count: int) -> str:
    return f"{count} free slot{'s' if count != 1 else ''} withdrawn"


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
        except DomainError as exc:
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
    return _remove(
        request,
        lambda: schedules.schedule_delete(rule_id=pk, by=doctor),
        missing="No such weekly hours.",
        done=lambda result: (
            f"Weekly hours removed: {_withdrawn(result.removed)}"
            + (f", {len(result.kept)} booked kept." if result.kept else ".")
        ),
    )


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
        except DomainError as exc:
            add_service_errors(
                form,
                exc,
                {"start": "first_day", "end": "last_day", "reason": "reason"},
            )
        else:
            messages.success(
                request,
                f"Time off added: {_withdrawn(result.removed)}.",
            )
            return redirect("pages:doctor_dashboard")
    return _dashboard(request, off_form=form, status=400)


@login_required
@require_POST
def time_off_remove(request, pk: int):
    doctor = _require_doctor(request)
    return _remove(
        request,
        lambda: schedules.time_off_delete(time_off_id=pk, by=doctor),
        missing="No such time off.",
        done=lambda result: f"Time off removed: {result.created} slots published again.",
    )
