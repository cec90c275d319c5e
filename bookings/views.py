"""Booking pages: the booking form, "my appointments" and cancelling. Same selectors and
services as the API; a booking the user may not see is a 404 here too."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.models import Role
from accounts.throttles import page_throttle_wait, too_many_requests_page
from bookings import selectors, services
from bookings.forms import BookingForm
from bookings.models import BookingStatus
from bookings.throttles import BookingRateThrottle
from doctors_portal.errors import DomainError
from doctors_portal.pages import page_status, service_errors
from doctors_portal.pages.bookings import booking_card
from scheduling import selectors as slot_selectors
from scheduling import timefmt
from scheduling.models import Slot


def get_booking_or_404(user, pk):
    booking = selectors.booking_get(user=user, booking_id=pk)
    if booking is None:
        raise Http404("No such booking.")
    return booking


def slot_for_page(slot_id: int, now):
    """The slot with its free seats and labels if anyone may book it now; else None."""
    slot = (
        slot_selectors.with_free_seats(slot_selectors.bookable_slots(now=now), now=now)
        .select_related("doctor", "service")
        .filter(pk=slot_id)
        .first()
    )
    if slot is not None:
        slot.label = timefmt.format_label(slot.start, slot.end)
        slot.date_text = timefmt.format_date(slot.start)
    return slot


@login_required
def book(request, slot_id: int):
    if request.method == "POST":
        # The API twin's throttle (POST bookings), the same bucket.
        wait = page_throttle_wait(request, BookingRateThrottle)
        if wait is not None:
            return too_many_requests_page(request, wait)
    now = timezone.now()
    slot = slot_for_page(slot_id, now)
    if slot is None:
        past = Slot.objects.filter(pk=slot_id).values_list("start", flat=True).first()
        if past is None:
            raise Http404("No such slot.")
        return _unavailable(request, day=timefmt.clinic_today(past), status=410)
    day = timefmt.clinic_today(slot.start)
    form = BookingForm(request.POST or None, initial={"phone": request.user.phone})
    context = {"slot": slot, "form": form, "day": day}
    if request.user.role != Role.PATIENT:
        messages.info(request, "Only patients book appointments; sign in with a patient account.")
        return render(request, "pages/book.html", {**context, "not_patient": True}, status=403)
    if slot.free_seats <= 0:
        return _unavailable(request, day=day, slot=slot)
    if request.method == "POST" and form.is_valid():
        try:
            booking = services.booking_create(
                patient=request.user, slot_id=slot.pk, patient_phone=form.cleaned_data["phone"]
            )
        except DomainError as exc:
            if isinstance(exc, services.SeatNoLongerAvailable):
                return _unavailable(request, day=day, slot=slot)
            for _path, message in service_errors(exc):
                form.add_error(None, message)
            return render(request, "pages/book.html", context, status=page_status(exc))
        # The pay page states the hold once, with its live countdown.
        return redirect("pages:pay", pk=booking.pk)
    return render(request, "pages/book.html", context, status=400 if form.errors else 200)


def _unavailable(request, *, day, slot=None, status=409):
    return render(
        request,
        "pages/unavailable.html",
        {"day": day, "slot": slot, "reason": "taken" if status == 409 else "past"},
        status=status,
    )


@login_required
def my_appointments(request):
    if request.user.role == Role.DOCTOR:
        return redirect("pages:doctor_dashboard")
    now = timezone.now()
    bookings = [
        booking_card(b, now) for b in selectors.booking_list_for_patient(patient=request.user)[:200]
    ]
    return render(
        request,
        "pages/my_appointments.html",
        {"bookings": bookings, "groups": appointment_groups(bookings, now)},
    )


# Bookings that no longer stand: listed apart, after the appointments that do.
CLOSED = (BookingStatus.CANCELLED, BookingStatus.EXPIRED)


def appointment_groups(bookings, now) -> list[tuple[str, str, list]]:
    """(key, heading, bookings): upcoming soonest first, then past and closed ones, the most
    recent first. Ordered by the appointment's time, not by when it was booked."""
    upcoming = [b for b in bookings if b.shown_status not in CLOSED and b.slot.end > now]
    past = [b for b in bookings if b.shown_status not in CLOSED and b.slot.end <= now]
    closed = [b for b in bookings if b.shown_status in CLOSED]
    upcoming.sort(key=lambda b: (b.slot.start, b.pk))
    past.sort(key=lambda b: (b.slot.start, b.pk), reverse=True)
    closed.sort(key=lambda b: (b.slot.start, b.pk), reverse=True)
    groups = [
        ("upcoming", "Upcoming", upcoming),
        ("past", "Past", past),
        ("closed", "Cancelled and expired", closed),
    ]
    return [group for group in groups if group[2]]


@login_required
def cancel(request, pk: int):
    now = timezone.now()
    booking = booking_card(get_booking_or_404(request.user, pk), now)
    back = "pages:doctor_dashboard" if request.user.role == Role.DOCTOR else "pages:my_appointments"
    if request.method == "POST":
        try:
            result = services.booking_cancel(booking_id=booking.pk, by=request.user)
        except DomainError as exc:
            for _path, message in service_errors(exc):
                messages.error(request, message)
            return redirect(back)
        if result.refunded:
            messages.success(
                request,
                f"Appointment cancelled. Refunded {result.refund_amount} "
                f"{booking.currency.upper()}: {result.refund_reason}",
            )
        else:
            messages.success(request, f"Appointment cancelled. {result.refund_reason}")
        return redirect(back)
    amount, reason = services.booking_refund_policy(
        booking=booking.booking, by=request.user, now=now
    )
    return render(
        request,
        "pages/cancel.html",
        {"booking": booking, "refund_amount": amount, "refund_reason": reason, "back": back},
    )
