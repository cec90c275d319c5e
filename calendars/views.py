""" "Add to calendar": one booking as an .ics download, for its patient, doctor or an admin."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.http import require_GET

from bookings import selectors as booking_selectors
from calendars import ics


@require_GET
@login_required
def booking_ics(request, pk: int):
    booking = booking_selectors.booking_get(user=request.user, booking_id=pk)
    if booking is None:
        raise Http404("No such appointment.")
    return ics.booking_download(booking)
