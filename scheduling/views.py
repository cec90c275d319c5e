"""Scheduling pages: free places per date, a service's and a doctor's free slots. Reads go
through scheduling.selectors, exactly as the API's. The doctor's dashboard, which also
lists bookings, is a project page: doctors_portal.pages.doctor_dashboard."""

from datetime import timedelta

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.models import User
from doctors_portal.api.pagination import MAX_PAGE
from scheduling import selectors, timefmt
from scheduling.forms import DatePickForm, DoctorSearchForm


def labelled(slots):
    """The slots, each with the label and date text the pages show."""
    for slot in slots:
        slot.label = timefmt.format_label(slot.start, slot.end)
        slot.date_text = timefmt.format_date(slot.start)
    return slots


def _chosen_day(request, *, first_free: bool = False):
    """(day, form, notice) for the ?date= of the request (clinic-local), or today (with
    `first_free`: the first date with free times, when it is not today). A bad date says so
    on the form, a date the clinic does not book in a notice; both show today."""
    now = timezone.now()
    today = timefmt.clinic_today(now)
    raw = request.GET.get("date")
    if not raw:
        day = (selectors.first_free_day(now=now) or today) if first_free else today
        return day, DatePickForm(initial={"date": day}), ""
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
    """Free places per service on a date: the ?date= asked, else the first date with free
    times. Services with free places first, the ones without after (each in name order)."""
    day, form, notice = _chosen_day(request, first_free=True)
    availability = selectors.availability_for_date(day=day)
    for entry in availability:
        labelled(entry.slots)
    availability.sort(key=lambda entry: entry.available_spaces == 0)  # stable: names stay
    jumped = not request.GET.get("date") and day != timefmt.clinic_today()
    return render(
        request,
        "pages/home.html",
        {
            "form": form,
            "notice": notice,
            "jumped": jumped,
            "availability": availability,
            **_day_context(day),
        },
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


DIRECTORY_PAGE_SIZE = 10
DOCTOR_PAGE_SLOTS = 60  # the doctor's page lists their next free times, at most this many


def doctors(request):
    """The doctors directory: bookable doctors by name, filtered by specialty and a search,
    each with their next free time (the API's selector)."""
    form = DoctorSearchForm(request.GET or None)
    specialty, q, page = None, "", 1
    if form.is_bound:
        form.is_valid()  # a bad field is shown on the form; the valid ones still apply
        specialty = form.cleaned_data.get("specialty")
        q = (form.cleaned_data.get("q") or "").strip()
        page = min(form.cleaned_data.get("page") or 1, MAX_PAGE)
    result = selectors.doctor_directory_page(
        specialty=specialty,
        q=q,
        limit=DIRECTORY_PAGE_SIZE,
        offset=(page - 1) * DIRECTORY_PAGE_SIZE,
    )
    pages = max(1, -(-result.total // DIRECTORY_PAGE_SIZE))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "pages/doctors.html",
        {
            "form": form,
            "cards": result.rows,
            "total": result.total,
            "page": page,
            "pages": pages,
            "prev_page": page - 1 if page > 1 else None,
            "next_page": page + 1 if page < pages else None,
            "query": query.urlencode(),
            "filtered": bool(specialty or q),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def doctor_slots(request, pk: int):
    """One bookable doctor: their next free time and the free times to book (the same links
    as every list of slots); a 404 for anyone else, as the API's doctors/:id."""
    now = timezone.now()
    card = selectors.doctor_card_get(doctor_id=pk, now=now)
    if card is None:
        raise Http404("No such doctor.")
    slots = labelled(
        selectors.doctor_slots_public(doctor=User(pk=pk), now=now, limit=DOCTOR_PAGE_SLOTS)
    )
    days: dict[str, list] = {}
    for slot in slots:
        days.setdefault(slot.date_text, []).append(slot)
    return render(
        request,
        "pages/doctor.html",
        {"doctor": card, "days": days, "more": len(slots) == DOCTOR_PAGE_SLOTS},
    )
