"""Scheduling pages: free places per date, a service's and a doctor's free slots. Reads go
through scheduling.selectors, exactly as the API's. The doctor's dashboard, which also
lists bookings, is a project page: doctors_portal.pages.doctor_dashboard."""

from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.models import Role, User
from scheduling import selectors, timefmt
from scheduling.forms import DatePickForm


def labelled(slots):
    """The slots, each with the label and date text the pages show."""
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
        labelled(entry.slots)
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
    slots = labelled(entry.slots) if entry else []
    return render(
        request,
        "pages/service.html",
        {"service": service, "slots": slots, "form": form, "notice": notice, **_day_context(day)},
        status=400 if form.errors or notice else 200,
    )


def doctor_slots(request, pk: int):
    doctor = get_object_or_404(User, pk=pk, role=Role.DOCTOR, is_active=True)
    slots = labelled(selectors.doctor_slots_public(doctor=doctor))
    days: dict[str, list] = {}
    for slot in slots:
        days.setdefault(slot.date_text, []).append(slot)
    return render(request, "pages/doctor.html", {"doctor": doctor, "days": days})
